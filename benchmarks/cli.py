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
) -> None:
    """End-to-end ingest readings/s and CPU per million readings, against the raw-write ceiling."""
    from benchmarks.ingest import run

    run(readings=readings, single_messages=single_messages, repeats=repeats, gzip=gzip, facility=facility, workers=workers)


@app.command("alerts")
def alerts(
    rate: Annotated[int, typer.Option(help="background readings per second")] = 10_000,
    probes: Annotated[int, typer.Option(min=1, max=100, help="excursions to time (one a second)")] = 60,
) -> None:
    """Latency from publish to alert recorded and to notification delivered, under load."""
    from benchmarks.alerts import run

    run(rate=rate, probes=probes)
