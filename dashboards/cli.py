"""`vigil dashboards`: regenerate the committed dashboard JSON, or publish it
to a running Grafana."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from dashboards.build import DEFAULT_FACILITY, GRAFANA_DIR, build, load_built
from dashboards.model import folder_uid
from dashboards.publish import Change, GrafanaPublisher, InfluxSource
from vigil.registry import load_registry

app = typer.Typer(help="Grafana dashboards: build the JSON from code, publish it to Grafana.", no_args_is_help=True)


@app.command("build")
def build_command(
    facility: Annotated[Path, typer.Option(help="facility registry whose bands, mains and time zone the queries use")] = DEFAULT_FACILITY,
    out: Annotated[Path, typer.Option(help="where the JSON goes (Grafana's file provider reads it)")] = GRAFANA_DIR,
) -> None:
    """Regenerate the dashboard JSON under dashboards/grafana/."""
    written = build(load_registry(facility), out)
    for path, changed in written.items():
        typer.echo(f"{'written  ' if changed else 'unchanged'} {path}")


@app.command("publish")
def publish_command(
    grafana_url: Annotated[str, typer.Option(envvar="VIGIL_GRAFANA_URL", help="Grafana base URL")] = "http://127.0.0.1:3000",
    token: Annotated[str, typer.Option(envvar="VIGIL_GRAFANA_TOKEN", help="Grafana service-account token (Editor)",
                                       show_default=False)] = "",
    influx_url: Annotated[str, typer.Option(envvar="VIGIL_GRAFANA_INFLUX_URL",
                                            help="InfluxDB URL as Grafana reaches it")] = "",
    influx_org: Annotated[str, typer.Option(help="InfluxDB organisation")] = "vigil",
    influx_token: Annotated[str, typer.Option(envvar="VIGIL_INFLUX_TOKEN", help="InfluxDB reader token for the data source",
                                              show_default=False)] = "",
    rotate_token: Annotated[bool, typer.Option(help="send the InfluxDB token again even if Grafana has one")] = False,
    source: Annotated[Path, typer.Option(help="the built JSON to publish")] = GRAFANA_DIR,
) -> None:
    """Push the data source, folders and dashboards to Grafana (idempotent, by uid)."""
    if not token:
        raise typer.BadParameter("set VIGIL_GRAFANA_TOKEN (a service-account token)", param_hint="--token")
    if not influx_url or not influx_token:
        # Defaults from `vigil services up`: the reader token, least privilege.
        from vigil.settings import Settings

        endpoint = Settings().influx_endpoint("reader")
        influx_url = influx_url or endpoint.url
        influx_token = influx_token or endpoint.token.get_secret_value()
        influx_org = endpoint.org
    logging.basicConfig(level=logging.WARNING)
    built = [(folder_uid(folder), folder, model) for folder, model in load_built(source)]
    if not built:
        raise typer.BadParameter(f"no dashboards under {source}; run `dashboards build`", param_hint="--source")
    publisher = GrafanaPublisher(grafana_url, token)
    report = publisher.publish(InfluxSource(influx_url, influx_org, influx_token), built, rotate_token=rotate_token)
    for entry in report:
        typer.echo(str(entry))
    counts = {c: sum(1 for e in report if e.change is c) for c in Change}
    typer.echo(", ".join(f"{n} {c.value}" for c, n in counts.items()))
    for uid in publisher.orphans(model["uid"] for _, _, model in built):
        typer.echo(f"dashboard {uid}: tagged vigil in Grafana but no longer built (left in place)")
