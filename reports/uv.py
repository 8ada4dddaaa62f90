"""The UV lamp intensity register: per lamp and local day on which it ran,
the intensity at 1 m measured once warmed up, judged as the rules judge it
(alerts/rules/uv.py: only while the lamp is on and at least 5 minutes after
it came on, WS/T 367-2012), against the in-use limit of 70 μW/cm² and the
new-lamp level of 90 μW/cm², with any work order on the lamp. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.workorders import WorkOrder
from reports.model import Cell, Column, Period, local_midnight
from vigil.kinds import SensorKind
from vigil.registry import Sensor

IN_USE_LIMIT = 70.0  # μW/cm², below: replace (WS/T 367-2012)
NEW_LAMP_LEVEL = 90.0  # μW/cm², a new lamp; between the two: test quarterly, plan the replacement
WARM_UP = timedelta(minutes=5)
# Intensity readings further apart belong to another run (alerts.rules.defaults.UV_CYCLE_GAP).
CYCLE_GAP = timedelta(minutes=10)
UV_PROBLEMS = ("replace_uv_lamp", "planned_uv_lamp_replacement", "uv_intensity_test")


@dataclass(frozen=True)
class LampSample:
    """One moment of a lamp: its state (None when the sensor does not report
    it) and its intensity (None when none was measured then)."""

    at: datetime
    lamp_on: bool | None
    intensity: float | None


def warmed_up_readings(samples: Iterable[LampSample], warm_up: timedelta = WARM_UP,
                       cycle_gap: timedelta = CYCLE_GAP) -> list[tuple[datetime, float]]:
    """The intensity readings taken with the lamp on and past its warm-up.
    The lamp state at a moment counts before the intensity of the same
    moment. Without a lamp state, a run of intensity readings with no gap
    longer than `cycle_gap` is one cycle, on from its first reading."""
    ordered = sorted(samples, key=lambda x: x.at)
    reports_state = any(s.lamp_on is not None for s in ordered)
    out: list[tuple[datetime, float]] = []
    on_since: datetime | None = None
    last: datetime | None = None
    for s in ordered:
        if reports_state:
            # A moment without a state reading keeps the last state.
            if s.lamp_on is False:
                on_since = None
            elif s.lamp_on and on_since is None:
                on_since = s.at
        elif s.intensity is not None and (on_since is None or last is None or s.at - last > cycle_gap):
            on_since = s.at
        if s.intensity is not None:
            if on_since is not None and s.at - on_since >= warm_up:
                out.append((s.at, s.intensity))
            last = s.at
    return out


def level(intensity: float) -> tuple[str, str]:
    """(result, note) for a day's measured intensity."""
    if intensity < IN_USE_LIMIT:
        return "fail", f"below {IN_USE_LIMIT:g}: replace the lamp"
    if intensity < NEW_LAMP_LEVEL:
        return "pass", f"below the new-lamp level {NEW_LAMP_LEVEL:g}: test quarterly, plan replacement"
    return "pass", f"at or above the new-lamp level {NEW_LAMP_LEVEL:g}"


def orders_on(orders: Sequence[WorkOrder], asset: str, day_start: datetime, day_stop: datetime) -> str | None:
    """The lamp's UV work orders open at some time that day ("WO-3 replace_uv_lamp (open)")."""
    linked = [o for o in orders if o.asset == asset and o.problem in UV_PROBLEMS and o.opened_at < day_stop
              and (o.closed_at is None or o.closed_at >= day_start)]
    return "; ".join(f"{o.number} {o.problem} ({o.state.value})" for o in sorted(linked, key=lambda o: o.id)) or None


COLUMNS = (
    Column("site", "Site"), Column("building", "Building"), Column("room", "Room", width=1.4),
    Column("department", "Department", width=1.2), Column("lamp", "Lamp", width=1.3), Column("lamp_name", "Name", width=1.8),
    Column("date", "Date", width=1.1), Column("intensity_uW_cm2", "Intensity μW/cm²", 1),
    Column("lowest_uW_cm2", "Lowest μW/cm²", 1), Column("readings", "Readings", 0, width=0.8),
    Column("result", "Result", width=0.7), Column("note", "Note", width=2.6), Column("action", "Action", width=2.0),
)


def uv_rows(sensors: Iterable[Sensor], samples: dict[str, list[LampSample]], orders: Sequence[WorkOrder],
            period: Period, zones: dict[str, ZoneInfo], *, cycle_gap: timedelta = CYCLE_GAP) -> list[tuple[Cell, ...]]:
    """One row per lamp sensor and local day with warmed-up readings. The
    measured value is the mean of that day's warmed-up readings (one run a
    day is usual); the lowest is shown beside it."""
    rows: list[tuple[Cell, ...]] = []
    days = set(period.days)
    for sensor in sensors:
        tz = zones[sensor.site]
        per_day: dict[date, list[float]] = {}
        for at, value in warmed_up_readings(samples.get(sensor.id, []), cycle_gap=cycle_gap):
            per_day.setdefault(at.astimezone(tz).date(), []).append(value)
        for day in sorted(d for d in per_day if d in days):
            values = per_day[day]
            mean = sum(values) / len(values)
            result, note = level(mean)
            action = orders_on(orders, sensor.asset, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))
            rows.append((sensor.site, sensor.building, sensor.room_name, sensor.department, sensor.asset,
                         sensor.asset_name, day.isoformat(), round(mean, 2), min(values), len(values), result, note,
                         action))
    return rows


def is_uv_register_sensor(sensor: Sensor) -> bool:
    return sensor.kind == SensorKind.UV_LAMP and "intensity" in sensor.metrics
