"""The excursion report: each cold-chain excursion that overlaps the period,
with its start, end, peak, minutes out of range, mean kinetic temperature
and the action taken (the product disposition and its sign-off). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.store import Excursion
from reports.model import Cell, Column, Scope, local_iso
from vigil.registry import Registry

COLUMNS = (
    Column("excursion", "No.", width=0.5), Column("site", "Site"), Column("building", "Building"),
    Column("room", "Room", width=1.2), Column("asset", "Asset", width=1.2), Column("sensor", "Sensor", width=1.2),
    Column("product", "Product"), Column("started_local", "Start", width=1.8), Column("ended_local", "End", width=1.8),
    Column("peak_degC", "Peak °C", 1), Column("minutes_out_of_range_min", "Minutes out", 0),
    Column("mkt_degC", "MKT °C", 1), Column("band_low_degC", "Low °C", 1), Column("band_high_degC", "High °C", 1),
    Column("disposition", "Disposition"), Column("disposition_by", "Signed by"),
    Column("disposition_at_local", "Signed at", width=1.8), Column("disposition_note", "Note", width=2.0),
)


def overlaps(excursion: Excursion, start: datetime, stop: datetime) -> bool:
    """Whether the excursion touches [start, stop); one still open runs until now."""
    return excursion.started_at < stop and (excursion.ended_at is None or excursion.ended_at >= start)


def excursion_rows(excursions: Iterable[Excursion], registry: Registry, scope: Scope, start: datetime, stop: datetime,
                   zones: dict[str, ZoneInfo], default_zone: ZoneInfo) -> list[tuple[Cell, ...]]:
    """Rows for the excursions in scope that overlap [start, stop), oldest first."""
    rows: list[tuple[Cell, ...]] = []
    for e in sorted(excursions, key=lambda x: (x.started_at, x.id)):
        sensor = registry.sensors.get(e.sensor)
        site, building, room = (sensor.site, sensor.building, sensor.room_name) if sensor else (None, None, None)
        if not overlaps(e, start, stop) or not scope.admits(site, building, e.asset):
            continue
        tz = zones.get(site, default_zone) if site else default_zone
        rows.append((e.id, site, building, room, e.asset, e.sensor, e.product, local_iso(e.started_at, tz),
                     local_iso(e.ended_at, tz) if e.ended_at else "ongoing", e.peak, e.minutes_out_of_range,
                     e.mean_kinetic_temperature, e.low, e.high, e.disposition or "pending", e.disposition_by,
                     local_iso(e.disposition_at, tz), e.disposition_note))
    return rows
