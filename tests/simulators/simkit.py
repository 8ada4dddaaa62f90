"""The simulator test kit: the facilities the tests run, and the checks an
alert engine would make on readings ("out of range for longer than the
delay", a flat line, a stalled counter, no hour of zero flow)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from simulators.scenarios import Breach
from simulators.site_time import NS_PER_HOUR, NS_PER_S, SiteClock
from vigil.contract import Reading
from vigil.profiles import PROFILES, Limits
from vigil.registry import Registry, parse_registry

SMALL_FACILITY = Path(__file__).parents[1] / "data" / "small-facility.yaml"
TIMEZONE = "Asia/Shanghai"
CLOCK = SiteClock(TIMEZONE)
# Monday 2025-03-03 00:00 local: tests inject on a weekday morning.
START_NS = int(datetime(2025, 3, 3, tzinfo=ZoneInfo(TIMEZONE)).timestamp()) * NS_PER_S
MINUTE_NS = 60 * NS_PER_S
DAY_NS = 24 * NS_PER_HOUR
WEEK_NS = 7 * DAY_NS
FLATLINE_SAMPLES = 15  # identical readings in a row that a flat-line check calls a stuck probe
MAX_GAP_NS = 10 * MINUTE_NS  # readings further apart than this do not make one continuous run
STALL_NS = 10 * MINUTE_NS  # a counter unchanged this long while its rate is above zero

Sample = tuple[int, float | bool]


@dataclass(frozen=True)
class SimulatedWeek:
    registry: Registry
    readings: list[Reading]
    seconds: float  # how long generating it took


def every_profile_facility() -> Registry:
    """One asset of every profile, each alone on its own gateway, so a test can
    simulate one asset by simulating its gateway."""
    gateways = "\n".join(f"      - id: gw-{p}" for p in PROFILES)
    assets = "\n".join(
        f"                  - {{id: {p}-1, name: {p} 1, profile: {p}, sensors: [{{id: {p}-1-s, gateway: gw-{p}}}]}}"
        for p in PROFILES
    )
    text = f"""
sites:
  - id: test
    name: Test site
    timezone: {TIMEZONE}
    gateways:
{gateways}
    buildings:
      - id: b
        name: Building
        floors:
          - id: f
            name: Floor
            rooms:
              - id: r
                name: Room
                assets:
{assets}
"""
    return parse_registry(text, "every-profile.yaml")


def series(readings: Iterable[Reading], sensor: str, metric: str) -> list[Sample]:
    return [(r.ts_ns, r.value) for r in readings if r.sensor == sensor and r.metric == metric]


def _out_of_range(value: float | bool, limits: Limits, side: Breach | None) -> bool:
    if isinstance(value, bool):
        return limits.alarm_when is not None and value == limits.alarm_when
    low, high = limits.effective_low, limits.effective_high
    too_low = side is not Breach.HIGH and low is not None and value < low
    too_high = side is not Breach.LOW and high is not None and value > high
    return too_low or too_high


def alarm_times(samples: Sequence[Sample], limits: Limits, side: Breach | None = None, max_gap_ns: int = MAX_GAP_NS) -> list[int]:
    """When an alarm on `limits` fires: at the first sample of a run of
    consecutive out-of-range samples that is at least the alarm delay after
    the run began (`side` LOW or HIGH looks at one bound only). Samples more
    than `max_gap_ns` apart are not one run: a UV sensor is silent while its
    lamp is off, and an excursion is only continuous while it is watched."""
    delay_ns = int(limits.delay.total_seconds() * NS_PER_S)
    fired: list[int] = []
    run_start: int | None = None
    previous_ts: int | None = None
    for ts, value in samples:
        if previous_ts is not None and ts - previous_ts > max_gap_ns:
            run_start = None
        previous_ts = ts
        if not _out_of_range(value, limits, side):
            run_start = None
            continue
        if run_start is None:
            run_start = ts
            fired_in_run = False
        if not fired_in_run and ts - run_start >= delay_ns:
            fired.append(ts)
            fired_in_run = True
    return fired


def flatline_times(samples: Sequence[Sample], repeats: int = FLATLINE_SAMPLES) -> list[int]:
    """When a flat-line check fires: the `repeats`-th identical reading in a row."""
    fired, run, previous = [], 0, None
    for ts, value in samples:
        run = run + 1 if value == previous else 1
        previous = value
        if run == repeats:
            fired.append(ts)
    return fired


def stall_times(counter: Sequence[Sample], rate: Sequence[Sample], span_ns: int = STALL_NS) -> list[int]:
    """When a stalled-counter check fires: the counter unchanged for `span_ns`
    while every rate reading in that span is above zero."""
    rates = dict(rate)
    fired: list[int] = []
    since: int | None = None  # start of the current span of no change with flow
    fired_for: int | None = None
    previous: float | bool | None = None
    for ts, value in counter:
        if float(rates.get(ts, 0.0)) <= 0.0:
            since = None
        elif value != previous or since is None:
            since = ts
        previous = value
        if since is not None and ts - since >= span_ns and fired_for != since:
            fired.append(ts)
            fired_for = since
    return fired


def zero_flow_hours(flow: Sequence[Sample]) -> set[tuple[int, int]]:
    """The local (day, hour) clock hours in which every flow reading is zero."""
    hours: dict[tuple[int, int], bool] = {}
    for ts, value in flow:
        key = (CLOCK.local_day(ts), int(CLOCK.hour(ts)))
        hours[key] = hours.get(key, True) and value == 0
    return {k for k, all_zero in hours.items() if all_zero}


def is_non_decreasing(samples: Sequence[Sample]) -> bool:
    return all(float(a[1]) <= float(b[1]) for a, b in pairwise(samples))
