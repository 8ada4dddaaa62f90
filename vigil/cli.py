"""The `vigil` command: one subcommand group per service.

Each group lives beside the service it drives and is added here, the one
place that knows all services (the composition root)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from vigil.registry import ConfigError, Registry, load_registry
from vigil.settings import Settings, load_settings

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="settings file (YAML); default $VIGIL_CONFIG or ./vigil.yaml", envvar="VIGIL_CONFIG"),
]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Vigil: hospital facility monitoring and alerting.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(f"invalid settings:\n{exc}", 2)


def registry_or_exit(settings: Settings, facility: Path | None = None) -> Registry:
    try:
        return load_registry(facility or settings.facility)
    except ConfigError as exc:
        fail(f"invalid facility config ({len(exc.problems)} problem(s)):\n{exc}", 2)


# --------------------------------------------------------------------------
# vigil config

config_app = typer.Typer(no_args_is_help=True, help="Check configuration files.")
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="facility config (YAML)")],
    config: ConfigOption = None,
) -> None:
    """Validate a facility config and explain each error."""
    try:
        registry = load_registry(file)
    except ConfigError as exc:
        typer.echo(f"{file}: {len(exc.problems)} problem(s)", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from None
    by_kind: dict[str, int] = {}
    for sensor in registry.sensors.values():
        by_kind[sensor.kind.value] = by_kind.get(sensor.kind.value, 0) + 1
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
    typer.echo(f"{file}: ok: {len(registry.config.sites)} site(s), {len(registry.gateways)} gateway(s), "
               f"{len(registry.sensors)} sensors ({kinds})")


# --------------------------------------------------------------------------
# vigil registry

registry_app = typer.Typer(no_args_is_help=True, help="The facility registry.")
app.add_typer(registry_app, name="registry")


@registry_app.command("sensors")
def registry_sensors(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    facility: Annotated[Path | None, typer.Option(help="facility config; default from settings")] = None,
    config: ConfigOption = None,
) -> None:
    """Every sensor: where it is, its gateway, metrics, units and thresholds."""
    registry = registry_or_exit(settings_or_exit(config), facility)
    sensors = [s.describe() for s in registry.sensors.values()]
    if as_json:
        json.dump(sensors, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for s in registry.sensors.values():
        limits = "; ".join(
            f"{m} " + " ".join(f"{k}={v}" for k, v in lim.summary().items() if k in ("low", "high", "alarm_when"))
            for m, lim in s.thresholds.items()
        )
        typer.echo(f"{s.id:28} {s.kind.value:18} {s.building}/{s.floor}/{s.room}/{s.asset:22} gw={s.gateway:14} {limits}")


# --------------------------------------------------------------------------
# vigil services

services_app = typer.Typer(no_args_is_help=True, help="Private local Mosquitto and InfluxDB.")
app.add_typer(services_app, name="services")


def _local(config: Path | None):  # type: ignore[no-untyped-def]
    from vigil.infra.local import LocalServices

    settings = settings_or_exit(config)
    return LocalServices(settings, registry_or_exit(settings))


@services_app.command("up")
def services_up(config: ConfigOption = None) -> None:
    """Start (or reconfigure) the local broker and database; idempotent."""
    from vigil.infra.process import ServiceError

    try:
        status = _local(config).up()
    except ServiceError as exc:
        fail(str(exc))
    typer.echo(json.dumps(status, indent=2))


@services_app.command("down")
def services_down(config: ConfigOption = None) -> None:
    """Stop the local broker and database (their data stays)."""
    _local(config).down()
    typer.echo("stopped")


@services_app.command("status")
def services_status(config: ConfigOption = None) -> None:
    """Health of the local broker and database; exit 1 if either is unhealthy."""
    status = _local(config).status()
    typer.echo(json.dumps(status, indent=2))
    if not (status["mosquitto"]["healthy"] and status["influxdb"]["healthy"]):
        raise typer.Exit(1)


@services_app.command("env")
def services_env(
    gateway: Annotated[str | None, typer.Option(help="print the MQTT URL with this gateway's own credentials")] = None,
    service: Annotated[str, typer.Option(help="platform identity: ingest, alerts, api or operator")] = "ingest",
    config: ConfigOption = None,
) -> None:
    """Shell `export` lines for every connection setting: eval "$(vigil services env)"."""
    from vigil.infra.local import export_lines

    local = _local(config)
    identity = gateway or service
    if gateway is not None and gateway not in local.registry.gateways:
        fail(f"unknown gateway {gateway!r} (known: {', '.join(sorted(local.registry.gateways))})", 2)
    try:
        typer.echo(export_lines(local.env(identity)))
    except ConfigError as exc:
        fail(str(exc), 2)


# --------------------------------------------------------------------------
# The services' own command groups


def _mount_services() -> None:
    from alerts.cli import app as alerts_app
    from alerts.cli import orders_app
    from api.cli import app as api_app
    from api.cli import tokens_app
    from benchmarks.cli import app as bench_app
    from dashboards.cli import app as dashboards_app
    from gateway.cli import app as gateway_app
    from ingest.cli import app as ingest_app
    from reports.cli import app as report_app
    from simulators.cli import simulate

    app.add_typer(alerts_app, name="alerts")
    app.add_typer(orders_app, name="orders")
    app.add_typer(api_app, name="api")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(dashboards_app, name="dashboards")
    app.add_typer(gateway_app, name="gateway")
    app.command("simulate")(simulate)
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(bench_app, name="bench")
    app.add_typer(report_app, name="report")


_mount_services()


# --------------------------------------------------------------------------
# vigil run


@app.command("run")
def run(
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 1.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 1,
    config: ConfigOption = None,
) -> None:
    """The main job: local services and the platform on the facility config,
    until Ctrl-C, which stops every process cleanly."""
    from vigil.runner import run_platform

    settings = settings_or_exit(config)
    raise typer.Exit(run_platform(settings, registry_or_exit(settings), speed, seed))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
