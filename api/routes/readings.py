"""Sensor readings: the newest per sensor, and one metric's history
downsampled on the server to at most 1000 points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError

from api import schemas
from api.deps import ReadingsDep, RegistryDep, Viewer
from api.readings import MAX_HISTORY

router = APIRouter(prefix="/readings", tags=["readings"])


@router.get("/latest")
def list_latest_readings(registry: RegistryDep, readings: ReadingsDep, _: Viewer,
                         building: str | None = None) -> list[schemas.SensorStatus]:
    """The newest reading of every metric of every sensor (cached a few seconds)."""
    return [status for sid, status in readings.statuses().items()
            if building is None or registry.sensors[sid].building == building]


@router.get("/{sensor_id}/latest")
def get_latest_reading(sensor_id: str, registry: RegistryDep, readings: ReadingsDep, _: Viewer) -> schemas.SensorStatus:
    """The newest reading of every metric of one sensor."""
    if sensor_id not in registry.sensors:
        raise HTTPException(404, f"no sensor {sensor_id!r}")
    return readings.status(sensor_id)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@router.get("/{sensor_id}/{metric}/history")
def get_reading_history(
    sensor_id: str,
    metric: str,
    registry: RegistryDep,
    readings: ReadingsDep,
    _: Viewer,
    start: Annotated[datetime | None, Query(description="default: 24 hours before stop; naive times are UTC")] = None,
    stop: Annotated[datetime | None, Query(description="default: now")] = None,
) -> schemas.History:
    """One metric's history between start and stop (at most two years),
    aggregated on the server over windows chosen so that at most 1000 points
    come back: from the raw readings (averaged; booleans and counters: last
    value) while they hold the range, else from the 1-minute or 1-hour
    roll-ups (mean with the window's min and max; counters: increase)."""
    sensor = registry.sensors.get(sensor_id)
    if sensor is None:
        raise HTTPException(404, f"no sensor {sensor_id!r}")
    if metric not in sensor.metrics:
        raise HTTPException(404, f"sensor {sensor_id!r} has no metric {metric!r}")
    stop = _aware(stop) if stop else datetime.now(UTC)
    start = _aware(start) if start else stop - timedelta(days=1)
    if start >= stop:
        raise RequestValidationError([{"loc": ("query", "start"), "msg": "start must be before stop", "type": "value_error"}])
    if stop - start > MAX_HISTORY:
        raise RequestValidationError([{"loc": ("query", "start"), "type": "value_error",
                                       "msg": f"at most {MAX_HISTORY.days} days of history"}])
    return readings.history(sensor, metric, start, stop)
