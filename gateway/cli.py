"""`vigil gateway ...`: run one edge gateway until Ctrl-C or SIGTERM.

Mounted by the composition root (vigil/cli.py) as `vigil gateway`. The
reading source is the simulator for now; a real fieldbus source plugs in
through `gateway.ReadingSource`.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from vigil.registry import ConfigError, load_registry
from vigil.settings import load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Edge gateways: batch readings, buffer them on disk, publish QoS 1.")


@app.callback()
def _group() -> None:
    """Edge gateways: batch readings, buffer them on disk, publish QoS 1."""


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command("run")
def run(
    gateway: Annotated[str, typer.Option("--gateway", metavar="ID", help="gateway id from the facility config", envvar="VIGIL_GATEWAY")],
    speed: Annotated[float, typer.Option(help="simulated seconds per real second (above zero)")] = 1.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 1,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="settings file (YAML); default $VIGIL_CONFIG or ./vigil.yaml",
                                                envvar="VIGIL_CONFIG")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port")] = None,
) -> None:
    """Run one gateway on simulated sensors: readings are batched, kept on
    disk until the broker acknowledges them, and published with the gateway's
    own credentials. Tuning: VIGIL_GATEWAY_* (see gateway/settings.py)."""
    from gateway.backlog import BacklogLocked
    from gateway.gateway import Gateway
    from gateway.settings import GatewaySettings

    try:
        settings = load_settings(config)
        registry = load_registry(settings.facility)
    except ConfigError as exc:
        _fail(f"invalid configuration:\n{exc}")
    try:
        tuning = GatewaySettings() if metrics_port is None else GatewaySettings(metrics_port=metrics_port)
    except ValidationError as exc:
        problems = "\n".join(
            f"  VIGIL_GATEWAY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" if e["loc"] else f"  {e['msg']}"
            for e in exc.errors())
        _fail(f"invalid gateway settings:\n{problems}")
    if not speed > 0:
        _fail(f"--speed must be above zero, got {speed}")
    if gateway not in registry.gateways:
        _fail(f"unknown gateway {gateway!r} in {settings.facility} (known: {', '.join(sorted(registry.gateways))})")
    try:
        endpoint = settings.mqtt_endpoint(gateway)
    except (ConfigError, ValueError) as exc:
        _fail(f"no broker for gateway {gateway!r}:\n{exc}")

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Imported here: the simulators are their own package, needed only to run.
    from simulators.control import ControlledSource  # type: ignore[import-not-found, unused-ignore]
    from simulators.source import SimulatedSource  # type: ignore[import-not-found, unused-ignore]

    try:
        # Controlled: `vigil simulate --scenario ...` can inject faults while it runs.
        source = ControlledSource(SimulatedSource(registry, gateway, seed, speed=speed), settings.state_dir)
    except ValueError as exc:
        _fail(f"cannot simulate gateway {gateway!r}: {exc}")
    if tuning.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(tuning.metrics_port, addr="127.0.0.1")
    try:
        gw = Gateway(registry.gateways[gateway], endpoint, source, settings.state_dir, tuning)
    except BacklogLocked as exc:
        _fail(f"gateway {gateway!r} is already running: {exc}", 1)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    gw.run(stop)
