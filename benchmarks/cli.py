"""`vigil bench ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")


@app.command("ingest")
def ingest(
    readings: Annotated[int, typer.Option(help="readings for the batched workload (50 per message)")] = 1_000_000,
    single_messages: Annotated[int, typer.Option(help="messages for the one-reading-per-message workload")] = 200_000,
    repeats: Annotated[int, typer.Option(min=1, help="runs per workload; medians are reported")] = 3,
    gzip: Annotated[bool, typer.Option(help="ingest with gzip write bodies")] = False,
    facility: Annotated[Path, typer.Option(help="facility config whose gateways publish")] = Path("examples/hospital.yaml"),
    workers: Annotated[int, typer.Option(min=1, help="ingest worker processes")] = 1,
    writes_in_flight: Annotated[int | None, typer.Option(min=1, max=8, help="batches written at once, by each worker and by the ceiling (default: ingest's)")] = None,
) -> None:
    """End-to-end ingest readings/s and CPU per million readings, against the raw-write ceiling."""
    from benchmarks.ingest import run

    run(readings=readings, single_messages=single_messages, repeats=repeats, gzip=gzip, facility=facility, workers=workers,
        in_flight=writes_in_flight)


@app.command("alerts")
def alerts(
    rate: Annotated[int, typer.Option(help="background readings per second")] = 10_000,
    probes: Annotated[int, typer.Option(min=1, max=100, help="excursions to time (one a second)")] = 60,
    gateways: Annotated[int, typer.Option(min=1, help="gateways publishing the background load")] = 10,
    fridges_per_gateway: Annotated[int, typer.Option(min=11, help="fridges per gateway (10 of each are probes)")] = 100,
) -> None:
    """Latency from publish to alert recorded and to notification delivered, under load."""
    from benchmarks.alerts import run

    run(rate=rate, probes=probes, gateways=gateways, fridges_per_gateway=fridges_per_gateway)


@app.command("compare")
def compare(
    runs: Annotated[int, typer.Option(min=1, help="runs per workload; medians are reported")] = 3,
    readings: Annotated[int, typer.Option(min=1, help="readings for the batched workload (50 per message)")] = 1_000_000,
    single_messages: Annotated[int, typer.Option(min=1, help="messages for the one-reading-per-message workload")] = 100_000,
    gzip: Annotated[bool, typer.Option(help="both consumers write gzip bodies")] = False,
    facility: Annotated[Path, typer.Option(help="facility config whose gateways publish")] = Path("examples/hospital.yaml"),
    plots: Annotated[Path, typer.Option(help="directory for the throughput PNGs")] = Path("docs/benchmarks"),
) -> None:
    """Vigil's ingest against Telegraf (mqtt_consumer + json_v2 -> influxdb_v2) on the same workload, same run."""
    from benchmarks.compare import run

    run(runs=runs, readings=readings, single_messages=single_messages, gzip=gzip, facility=facility, plots=plots)


def _group_shape(hospitals: int, buildings: int, gateways_per_building: int, sensors_per_gateway: int):  # type: ignore[no-untyped-def]
    from benchmarks.scale import GroupShape

    return GroupShape(hospitals, buildings, gateways_per_building, sensors_per_gateway)


_Hospitals = Annotated[int, typer.Option(min=1, max=99, help="hospitals (sites) in the generated group")]
_Buildings = Annotated[int, typer.Option(min=1, max=9, help="buildings per hospital")]
_GatewaysPerBuilding = Annotated[int, typer.Option(min=1, max=9, help="gateways per building")]
_SensorsPerGateway = Annotated[int, typer.Option(min=2, max=5000, help="sensors per gateway")]
_Interval = Annotated[float, typer.Option(min=0.01, help="seconds between two readings of one sensor")]
_Hosts = Annotated[int, typer.Option(min=1, max=64, help="processes the gateways are spread over")]
_Plots = Annotated[Path, typer.Option(help="directory for the PNGs and the JSON record")]


@app.command("scale")
def scale(
    minutes: Annotated[float, typer.Option(min=0.5, help="how long the load runs")] = 10.0,
    hospitals: _Hospitals = 20, buildings: _Buildings = 5, gateways_per_building: _GatewaysPerBuilding = 2,
    sensors_per_gateway: _SensorsPerGateway = 500, interval: _Interval = 10.0,
    repeats: Annotated[int, typer.Option(min=1, help="runs; medians are reported")] = 1,
    probes: Annotated[int, typer.Option(min=0, help="probe fridges that report 12 °C during the run")] = 30,
    hosts: _Hosts = 4, plots: _Plots = Path("docs/benchmarks"),
) -> None:
    """Hospital-group scale: gateways, ingest, alerts and API under steady load; loss, lag, memory, alert latency."""
    from benchmarks.scale import run, steady

    shape = _group_shape(hospitals, buildings, gateways_per_building, sensors_per_gateway)
    run("hospital-group scale", steady(sensors_per_gateway / interval, minutes * 60), shape, repeats, probes, hosts, plots, "scale")


@app.command("overload")
def overload(
    factor: Annotated[float, typer.Option(min=1.0, help="times the base rate during the surge")] = 10.0,
    surge_minutes: Annotated[float, typer.Option(min=0.1, help="how long the surge lasts")] = 2.0,
    before_minutes: Annotated[float, typer.Option(min=0.0, help="base rate before the surge")] = 1.0,
    after_minutes: Annotated[float, typer.Option(min=0.0, help="base rate after the surge")] = 2.0,
    hospitals: _Hospitals = 20, buildings: _Buildings = 5, gateways_per_building: _GatewaysPerBuilding = 2,
    sensors_per_gateway: _SensorsPerGateway = 500, interval: _Interval = 10.0,
    repeats: Annotated[int, typer.Option(min=1, help="runs; medians are reported")] = 1,
    probes: Annotated[int, typer.Option(min=0, help="probe fridges that report 12 °C during the run")] = 10,
    hosts: _Hosts = 4, plots: _Plots = Path("docs/benchmarks"),
) -> None:
    """Overload: `factor` times the rate for a while, then back; backlog, drain time, memory, nothing lost."""
    from benchmarks.scale import overload as schedule
    from benchmarks.scale import run

    shape = _group_shape(hospitals, buildings, gateways_per_building, sensors_per_gateway)
    plan = schedule(sensors_per_gateway / interval, before_minutes * 60, surge_minutes * 60, after_minutes * 60, factor)
    run(f"overload {factor:g}x", plan, shape, repeats, probes, hosts, plots, "overload")


@app.command("workers")
def workers(
    counts: Annotated[str, typer.Option(help="worker counts, comma-separated")] = "1,2,4",
    readings: Annotated[int, typer.Option(min=1, help="readings for the batched workload (50 per message)")] = 300_000,
    single_messages: Annotated[int, typer.Option(min=1, help="messages for the one-reading-per-message workload")] = 50_000,
    repeats: Annotated[int, typer.Option(min=1, help="runs per cell; medians are reported")] = 3,
    subscription: Annotated[str, typer.Option(help="partitioned, shared or both")] = "both",
    plots: _Plots = Path("docs/benchmarks"),
) -> None:
    """Scaling out: ingest readings/s with 1, 2 and 4 workers, partitioned and shared subscriptions."""
    from benchmarks.workers import SUBSCRIPTIONS, run

    try:
        worker_counts = tuple(int(c) for c in counts.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {counts!r}", param_hint="--counts") from None
    if not worker_counts or min(worker_counts) < 1 or max(worker_counts) > 64:
        raise typer.BadParameter("worker counts must be between 1 and 64", param_hint="--counts")
    if subscription not in ("both", *SUBSCRIPTIONS):
        raise typer.BadParameter(f"expected partitioned, shared or both, got {subscription!r}", param_hint="--subscription")
    subs = SUBSCRIPTIONS if subscription == "both" else (subscription,)
    run(worker_counts, readings, single_messages, repeats, subscriptions=subs, plots=plots)
