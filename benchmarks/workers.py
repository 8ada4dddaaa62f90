"""`vigil bench workers`: ingest throughput with 1, 2 and 4 worker processes.

Reuses `vigil bench ingest`'s end-to-end run (benchmarks/ingest.py: the
example hospital's gateways publish with Debian's `mosquitto_pub`, the real
`vigil ingest run --workers N` consumes, a count query checks exactly N
points) for each worker count, with both ways of sharing the load:
`partitioned` (each worker subscribes to its own gateways' topics, the
default) and `shared` (one `$share` group; the broker spreads messages).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.ingest import Figures, Workload, end_to_end
from benchmarks.machine import private_services
from vigil.registry import load_registry

SUBSCRIPTIONS = ("partitioned", "shared")


@dataclass(frozen=True)
class Cell:
    workers: int
    subscription: str
    workload: str
    runs: tuple[Figures, ...]

    @property
    def median(self) -> float:
        return statistics.median(f.readings_per_s for f in self.runs)

    def row(self) -> str:
        rates = [f.readings_per_s for f in self.runs]
        cpu = statistics.median(f.cpu_s_per_million for f in self.runs)
        return (f"| {self.workers} | {self.subscription} | {self.workload} | {self.median:,.0f} | {min(rates):,.0f}-{max(rates):,.0f} | "
                f"{cpu:.1f} | {max(f.peak_rss_mb for f in self.runs):.0f} MB | {'yes' if all(f.exact for f in self.runs) else 'NO'} |")


def run(worker_counts: tuple[int, ...] = (1, 2, 4), readings: int = 300_000, single_messages: int = 50_000, repeats: int = 3,
        facility: Path = Path("examples/hospital.yaml"), subscriptions: tuple[str, ...] = SUBSCRIPTIONS,
        plots: Path = Path("docs/benchmarks")) -> list[Cell]:
    registry = load_registry(facility)
    cells: list[Cell] = []
    workloads = [Workload("50 readings/message", readings, 50), Workload("1 reading/message", single_messages, 1)]
    with private_services(facility, registry, "vigil-bench-workers-") as local:
        base = ((time.time_ns() - 12 * 3600 * 10**9) // 10**9) * 10**9
        slot = 0
        for workload in workloads:
            for subscription in subscriptions:
                for workers in worker_counts:
                    figures = []
                    for _ in range(repeats):
                        # Each run in its own half hour of event time, so the count sees only its points.
                        figures.append(end_to_end(local, registry, workload, base + slot * 1800 * 10**9, False, workers,
                                                  subscription))
                        slot += 1
                    cell = Cell(workers, subscription, workload.name, tuple(figures))
                    cells.append(cell)
                    print(f"{workers} worker(s), {subscription}, {workload.name}: {cell.median:,.0f} readings/s", flush=True)
    print("\n| workers | subscription | workload | readings/s (median) | spread | ingest CPU s per million | peak RSS | exactly N |")
    print("|---|---|---|---|---|---|---|---|")
    for cell in cells:
        print(cell.row())
    print(f"load average at the end: {os.getloadavg()}")
    _plot(cells, worker_counts, plots)
    return cells


def _plot(cells: list[Cell], worker_counts: tuple[int, ...], plots: Path) -> None:
    from benchmarks.plots import throughput_plot

    for workload, name in (("50 readings/message", "workers-batched"), ("1 reading/message", "workers-single")):
        series = {sub: [(float(c.workers), c.median) for c in cells if c.workload == workload and c.subscription == sub]
                  for sub in {c.subscription for c in cells}}
        path = throughput_plot(series, plots / f"{name}.png", f"ingest readings/s by worker count, {workload} (median)")
        print(f"plot: {path} (x axis: worker processes)")
