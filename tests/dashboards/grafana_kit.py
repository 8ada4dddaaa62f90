"""What Grafana does to a Flux panel query before InfluxDB sees it: the
`v.timeRangeStart`/`v.timeRangeStop`/`v.windowPeriod` parameters and the
template variables, substituted as text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboards.model import VARIABLE_REF

NS = 1_000_000_000
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
MAX_DATA_POINTS = 1000  # about a panel's width in pixels


def duration_s(text: str) -> int:
    """Grafana's relative time ("7d", "26w", "1y", "now-24h") in seconds."""
    m = re.fullmatch(r"(?:now-)?(\d+)([smhdwy])", text)
    assert m, f"not a relative time: {text!r}"
    return int(m.group(1)) * UNITS[m.group(2)]


@dataclass(frozen=True)
class TimeRange:
    start_ns: int
    stop_ns: int

    @property
    def window_s(self) -> int:
        # Grafana's interval: the range over the data points, at least the data source's 10 s.
        return max(10, (self.stop_ns - self.start_ns) // NS // MAX_DATA_POINTS)

    def ending(self, seconds: int) -> TimeRange:
        return TimeRange(self.stop_ns - seconds * NS, self.stop_ns)


def regex_value(values: Sequence[str] | None) -> str:
    """Grafana's `:regex` format; None is "All", whose allValue is `.*`."""
    if values is None:
        return ".*"
    escaped = [re.escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(query: str, time_range: TimeRange, variables: Mapping[str, Sequence[str] | None]) -> str:
    """`query` as Grafana's InfluxDB data source sends it."""
    text = (query.replace("v.timeRangeStart", f"time(v: {time_range.start_ns})")
                 .replace("v.timeRangeStop", f"time(v: {time_range.stop_ns})")
                 .replace("v.windowPeriod", f"{time_range.window_s}s"))

    def value(m: re.Match[str]) -> str:
        name = next(g for g in m.groups() if g)
        values = variables[name]
        if m.group(0).endswith(":regex}"):
            return regex_value(values)
        assert values is not None and len(values) == 1, f"${name} needs one value here"
        return values[0]

    return VARIABLE_REF.sub(value, text)
