"""`vigil report cold-chain-log | excursions | uv-register | work-order-sla`:
a compliance report as CSV or PDF, from the settings' InfluxDB (reader
token) and alert store.

    vigil report cold-chain-log --from 2026-11-01 --to 2026-11-08 --format pdf --out log.pdf
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Compliance reports (CSV or PDF) for inspectors and quality managers.")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings file (YAML)", envvar="VIGIL_CONFIG")]


class Format(StrEnum):
    CSV = "csv"
    PDF = "pdf"


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def write_report(name: str, first: date | None, last: date | None, site: str | None, building: str | None,
                 asset: str | None, fmt: Format, out: Path | None, config: Path | None) -> Path:
    """Build report `name` and write it; the path written."""
    from influxdb_client.rest import ApiException
    from urllib3.exceptions import HTTPError

    from alerts.store import open_store
    from reports.catalog import ReportRequest, ReportSources, build_report
    from reports.model import ReportInputError, Scope
    from reports.readings import ReportReadings
    from reports.render import render
    from vigil.cli import fail, registry_or_exit, settings_or_exit
    from vigil.registry import ConfigError

    settings = settings_or_exit(config)
    registry = registry_or_exit(settings)
    try:
        request = ReportRequest.make(registry, first, last, Scope(site, building, asset), by=_who(), now=datetime.now(UTC))
    except ReportInputError as exc:
        fail(f"--{exc.field}: {exc.message}", 2)
    try:
        endpoint = settings.influx_endpoint("reader")
    except ConfigError as exc:
        fail(f"cannot read InfluxDB:\n{exc}", 2)
    store = open_store(settings.database, registry=registry)
    try:
        with ReportReadings(endpoint) as readings:
            try:
                report = build_report(name, ReportSources(registry, store, readings), request)
            except ApiException as exc:  # the status only: never the request, which carries the token
                fail(f"InfluxDB at {endpoint.url} refused the query: {exc.status} {exc.reason}", 1)
            except (OSError, HTTPError) as exc:
                fail(f"cannot reach InfluxDB at {endpoint.url}: {type(exc).__name__}", 1)
    finally:
        store.close()
    data, _ = render(report, fmt.value)
    path = out or Path(report.filename(fmt.value))
    path.write_bytes(data)
    return path


def _command(name: str, summary: str) -> None:
    def command(
        first: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], show_default=False,
                                                       help="first day, site local (default: 6 days before --to)")] = None,
        last: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], show_default=False,
                                                      help="last day, included (default: today)")] = None,
        site: Annotated[str | None, typer.Option(help="only this site")] = None,
        building: Annotated[str | None, typer.Option(help="only this building")] = None,
        asset: Annotated[str | None, typer.Option(help="only this asset")] = None,
        fmt: Annotated[Format, typer.Option("--format", help="csv or pdf")] = Format.PDF,
        out: Annotated[Path | None, typer.Option(help="file to write (default: vigil-REPORT-FROM-TO.EXT here)")] = None,
        config: ConfigOption = None,
    ) -> None:
        path = write_report(name, _day(first), _day(last), site, building, asset, fmt, out, config)
        typer.echo(f"wrote {path}")

    command.__doc__ = summary
    app.command(name)(command)


_command("cold-chain-log", "Per cold-chain asset and day: AM and PM min/max (site local time), the band, in range or not.")
_command("excursions", "Cold-chain excursions: start, end, peak, minutes out of range, MKT, disposition.")
_command("uv-register", "UV lamp intensity at 1 m once warmed up, per lamp and day: pass/fail against 70 μW/cm², work orders.")
_command("work-order-sla", "Work orders opened in the period: response and resolution times against targets, breaches.")
