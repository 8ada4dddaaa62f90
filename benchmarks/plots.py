"""Plots for the benchmark scripts: small PNGs fit to commit under docs/benchmarks/.

`rate_series` is pure (cumulative counts to a rate per time bin); the plotting
functions only draw and save. matplotlib runs headless (Agg), so they work on
a server without a display.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use("Agg"): the backend is chosen first
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Small enough to commit, sharp enough to read in a Markdown page.
FIGSIZE = (7.0, 3.4)
DPI = 100


def _cumulative_at(samples: Sequence[tuple[float, float]], t: float) -> float:
    """The cumulative count at time `t`, linearly interpolated between samples."""
    times = [s[0] for s in samples]
    i = bisect.bisect_right(times, t)
    if i == 0:
        return samples[0][1] if t >= times[0] else 0.0
    if i == len(samples):
        return samples[-1][1]
    (t0, c0), (t1, c1) = samples[i - 1], samples[i]
    return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)


def rate_series(samples: Sequence[tuple[float, float]], bin_s: float = 1.0) -> list[tuple[float, float]]:
    """Per-bin rates from `(seconds since start, cumulative count)` samples.

    Returns `(bin end, count per second in that bin)` for every bin from 0 up
    to the last sample. Counts are interpolated at bin edges, so a writer that
    reports in large batches does not show as spikes and gaps.
    """
    if bin_s <= 0:
        raise ValueError(f"bin_s must be positive, not {bin_s}")
    ordered = sorted(samples)
    if not ordered:
        return []
    end = ordered[-1][0]
    out: list[tuple[float, float]] = []
    t = 0.0
    while t < end:
        t_next = min(t + bin_s, end)
        rate = (_cumulative_at(ordered, t_next) - _cumulative_at(ordered, t)) / (t_next - t)
        out.append((t_next, rate))
        t = t_next
    return out


def _save(fig: Figure, ax: Axes, path: Path) -> Path:
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def throughput_plot(series: Mapping[str, Sequence[tuple[float, float]]], path: Path, title: str,
                    ylabel: str = "readings/s") -> Path:
    """One line per named series of `(seconds since start, rate)`, saved as PNG at `path`."""
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    for name, points in series.items():
        # Steps: each rate holds over the bin that ends at its time (as rate_series gives it).
        ax.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=1.4, drawstyle="steps-pre")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("seconds since the first message was published")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", style="plain")
    return _save(fig, ax, path)


def latency_histogram(samples: Mapping[str, Sequence[float]], path: Path, title: str,
                      unit: str = "ms", bins: int = 40) -> Path:
    """Overlaid histograms of latencies (already in `unit`), one per named
    series, with each series' p50 and p99 in its legend entry; saved as PNG."""
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    for name, values in samples.items():
        if not values:
            continue
        ordered = sorted(values)
        p50 = ordered[int(0.50 * (len(ordered) - 1))]
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        ax.hist(ordered, bins=bins, alpha=0.55, label=f"{name} (p50 {p50:.0f} {unit}, p99 {p99:.0f} {unit})")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(unit)
    ax.set_ylabel("count")
    ax.grid(alpha=0.3)
    return _save(fig, ax, path)
