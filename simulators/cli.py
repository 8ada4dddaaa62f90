"""`vigil simulate`: list fault scenarios, inject one into the running
platform (`make run`), or run the facility's gateways on simulated sensors."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings file (YAML)", envvar="VIGIL_CONFIG")]


def simulate(
    scenario: Annotated[str | None, typer.Option(help="named fault scenario (see --list)")] = None,
    asset: Annotated[str | None, typer.Option(help="asset to apply it to; default: the first asset it fits")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="end the scenario instead of starting it")] = False,
    list_scenarios: Annotated[bool, typer.Option("--list", help="list the scenarios and exit")] = False,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second, when the gateways run here")] = 1.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 1,
    config: ConfigOption = None,
) -> None:
    """Inject a fault into the running platform's simulated sensors, or, when
    no gateway runs, run every gateway here on simulated sensors (with the
    fault, if one is named) until Ctrl-C."""
    from simulators.control import FaultCommand, fitting_asset, issue
    from simulators.scenarios import SCENARIOS
    from vigil.cli import fail, registry_or_exit, settings_or_exit

    if list_scenarios:
        for name, sc in sorted(SCENARIOS.items()):
            typer.echo(f"{name:36} {', '.join(sorted(sc.profiles)):40} {sc.description}")
        return
    settings = settings_or_exit(config)
    registry = registry_or_exit(settings)
    target = None
    if scenario is not None:
        try:
            target = fitting_asset(registry, scenario, asset)
        except ValueError as exc:
            fail(str(exc), 2)
    elif clear or asset:
        fail("--asset and --clear go with --scenario", 2)

    gateway_of_asset = {s.asset: s.gateway for s in registry.sensors.values()}
    running = _gateway_running(settings.state_dir, gateway_of_asset[target] if target else next(iter(registry.gateways)))
    if running:
        if scenario is None or target is None:
            fail("the platform's gateways are already running; name a --scenario to inject", 2)
        issue(settings.state_dir, FaultCommand("clear" if clear else "inject", scenario, target))
        typer.echo(f"{'cleared' if clear else 'injected'} {scenario} on {target} "
                   f"(gateway {gateway_of_asset[target]}); the running gateway applies it within a second")
        return
    _run_gateways_here(settings, registry, scenario, target, speed, seed)


def _gateway_running(state_dir: Path, gateway: str) -> bool:
    """A gateway process holds its backlog's lock while it runs."""
    from gateway.backlog import Backlog, BacklogLocked
    from gateway.gateway import backlog_path

    try:
        Backlog(backlog_path(state_dir, gateway), 1, 1 << 20).close()
    except BacklogLocked:
        return True
    return False


def _run_gateways_here(settings, registry, scenario: str | None, target: str | None, speed: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    from gateway import Gateway
    from simulators.control import ControlledSource
    from simulators.source import SimulatedSource
    from vigil.cli import fail
    from vigil.registry import ConfigError

    stop = threading.Event()
    threads = []
    try:
        for gw_id, gw in sorted(registry.gateways.items()):
            source = ControlledSource(SimulatedSource(registry, gw_id, seed, speed=speed), settings.state_dir)
            if scenario and target and any(s.asset == target for s in registry.sensors_of_gateway(gw_id)):
                source.source.inject(scenario, target)
            gateway = Gateway(gw, settings.mqtt_endpoint(gw_id), source, settings.state_dir)
            threads.append(threading.Thread(target=gateway.run, args=(stop,), name=gw_id, daemon=True))
    except ConfigError as exc:
        fail(f"{exc}\nstart the broker first: `vigil services up`", 2)
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for t in threads:
        t.start()
    fault = f" with {scenario} on {target}" if scenario else ""
    typer.echo(f"{len(threads)} gateways publishing simulated readings at speed {speed:g}{fault}; Ctrl-C stops")
    while not stop.wait(0.5):
        pass
    for t in threads:
        t.join(15)
