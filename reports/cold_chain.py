"""The cold-chain temperature log: per cold-chain asset and day, the minimum
and maximum of the morning (AM, 00:00-12:00) and afternoon (PM, 12:00-24:00)
halves of the site's local day, as paper logs reviewed twice daily are kept
(CDC/VFC), the allowed band, and whether the day stayed inside it. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reports.model import Cell, Column, Period
from vigil.kinds import SensorKind
from vigil.profiles import PROFILES
from vigil.registry import Sensor


@dataclass(frozen=True)
class TemperatureWindow:
    """The extremes of one sensor's temperature over a short window that
    starts at `start` (15 minutes from raw readings: every time zone in use
    is a whole number of quarter hours from UTC, so a window never straddles
    local noon or midnight; one hour from the roll-up)."""

    sensor: str
    start: datetime
    low: float
    high: float


def is_cold_chain_log_sensor(sensor: Sensor) -> bool:
    """Cold-chain equipment that measures temperature."""
    return sensor.kind == SensorKind.COLD_CHAIN and "temperature" in sensor.metrics


COLUMNS = (
    Column("site", "Site"), Column("building", "Building"), Column("room", "Room", width=1.3),
    Column("asset", "Asset", width=1.2), Column("asset_name", "Name", width=1.8), Column("sensor", "Sensor", width=1.2),
    Column("product", "Product"), Column("date", "Date", width=1.1),
    Column("am_min_degC", "AM min °C", 1), Column("am_max_degC", "AM max °C", 1),
    Column("pm_min_degC", "PM min °C", 1), Column("pm_max_degC", "PM max °C", 1),
    Column("band_low_degC", "Low °C", 1), Column("band_high_degC", "High °C", 1),
    Column("within_range", "In range", width=1.1),
)


@dataclass
class _Half:
    low: float | None = None
    high: float | None = None

    def add(self, low: float, high: float) -> None:
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)


def within(low: float | None, high: float | None, band_low: float | None, band_high: float | None) -> bool:
    """Whether extremes [low, high] stay inside the band (a missing bound is open)."""
    return ((band_low is None or low is None or low >= band_low)
            and (band_high is None or high is None or high <= band_high))


def day_verdict(am: _Half, pm: _Half, band_low: float | None, band_high: float | None) -> str:
    """`no` when any reading left the band; `no data` when there were none;
    `incomplete` when one half has no readings; else `yes`."""
    halves = [h for h in (am, pm) if h.low is not None]
    if any(not within(h.low, h.high, band_low, band_high) for h in halves):
        return "no"
    if not halves:
        return "no data"
    return "yes" if len(halves) == 2 else "incomplete"


def cold_chain_rows(sensors: Iterable[Sensor], windows: Iterable[TemperatureWindow], period: Period,
                    zones: dict[str, ZoneInfo]) -> list[tuple[Cell, ...]]:
    """One row per sensor and local day of the period, sensors in the order given."""
    halves: dict[tuple[str, date, bool], _Half] = {}
    by_id = {s.id: s for s in sensors}
    for w in windows:
        sensor = by_id.get(w.sensor)
        if sensor is None:
            continue
        local = w.start.astimezone(zones[sensor.site])
        halves.setdefault((w.sensor, local.date(), local.hour < 12), _Half()).add(w.low, w.high)
    rows: list[tuple[Cell, ...]] = []
    for sensor in by_id.values():
        band = sensor.thresholds.get("temperature")
        band_low, band_high = (band.effective_low, band.effective_high) if band else (None, None)
        product = PROFILES[sensor.profile].product
        for day in period.days:
            am = halves.get((sensor.id, day, True), _Half())
            pm = halves.get((sensor.id, day, False), _Half())
            rows.append((sensor.site, sensor.building, sensor.room_name, sensor.asset, sensor.asset_name, sensor.id,
                         product, day.isoformat(), am.low, am.high, pm.low, pm.high, band_low, band_high,
                         day_verdict(am, pm, band_low, band_high)))
    return rows
