"""Readings from InfluxDB (the edge the API reads sensor data through): the
newest value of every metric of every sensor in one `last()` query, cached
for a few seconds, and one metric's history downsampled on the server.

The data model is docs/contract.md: one measurement per sensor kind, one
field per metric, tags from the registry.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from influxdb_client import InfluxDBClient

from api.schemas import History, HistoryPoint, MetricReading, SensorState, SensorStatus
from vigil.kinds import METRICS, ValueType
from vigil.registry import Registry, Sensor
from vigil.settings import InfluxEndpoint

MAX_POINTS = 1000
# The raw bucket keeps 30 days; older history comes from the roll-ups (phase 2).
MAX_HISTORY = timedelta(days=31)


def _flux_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def window_for(start: datetime, stop: datetime, max_points: int = MAX_POINTS) -> int:
    """Whole seconds per aggregation window so that [start, stop) gives at
    most `max_points` windows (epoch-aligned windows can straddle both
    ends, hence one to spare)."""
    span = (stop - start).total_seconds()
    return max(1, math.ceil(span / (max_points - 1)))


def aggregate_for(sensor: Sensor, metric: str) -> str:
    """Mean for measured quantities; last for booleans and counters, whose
    mean means nothing."""
    spec = METRICS[sensor.kind][metric]
    return "last" if spec.value_type == ValueType.BOOL or spec.counter else "mean"


def history_query(bucket: str, sensor: Sensor, metric: str, start: datetime, stop: datetime, every_s: int,
                  aggregate: str) -> str:
    """The Flux query of one metric's downsampled history."""
    return (
        f"from(bucket: {_flux_string(bucket)})\n"
        f"  |> range(start: {_flux_time(start)}, stop: {_flux_time(stop)})\n"
        f"  |> filter(fn: (r) => r._measurement == {_flux_string(sensor.kind.value)} and r.sensor == {_flux_string(sensor.id)}"
        f" and r._field == {_flux_string(metric)})\n"
        f"  |> aggregateWindow(every: {every_s}s, fn: {aggregate}, createEmpty: false, timeSrc: \"_start\")\n"
        '  |> keep(columns: ["_time", "_value"])'
    )


def latest_query(bucket: str, lookback: timedelta) -> str:
    """The Flux query of the newest point of every field of every sensor."""
    return (
        f"from(bucket: {_flux_string(bucket)})\n"
        f"  |> range(start: -{int(lookback.total_seconds())}s)\n"
        "  |> last()\n"
        '  |> keep(columns: ["_time", "_value", "_field", "sensor"])'
    )


def sensor_status(sensor: str, metrics: dict[str, MetricReading], now: datetime, stale_after: timedelta) -> SensorStatus:
    """Online, stale or no_data from the newest reading's age."""
    last_seen = max((m.time for m in metrics.values()), default=None)
    state: SensorState = "no_data" if last_seen is None else "online" if now - last_seen <= stale_after else "stale"
    return SensorStatus(sensor=sensor, status=state, last_seen=last_seen, metrics=metrics)


@dataclass
class _Cached:
    at: float
    value: dict[str, dict[str, MetricReading]]


class ReadingsSource:
    """Reads sensor data from InfluxDB with the reader token."""

    def __init__(self, endpoint: InfluxEndpoint, registry: Registry, *, cache_seconds: float = 5.0,
                 stale_after: timedelta = timedelta(minutes=10), lookback: timedelta = timedelta(days=30),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout_ms: int = 10_000) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.cache_seconds = cache_seconds
        self.stale_after = stale_after
        self.lookback = lookback
        self.clock = clock
        self._client = InfluxDBClient(url=endpoint.url, token=endpoint.token.get_secret_value(), org=endpoint.org,
                                      timeout=timeout_ms)
        self._lock = threading.Lock()
        self._cached: _Cached | None = None

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()  # type: ignore[no-untyped-call]

    def _query(self, flux: str) -> list[Any]:
        return [r for table in self._client.query_api().query(flux) for r in table.records]

    def _latest_values(self) -> dict[str, dict[str, MetricReading]]:
        # One query for all sensors; the lock makes concurrent requests share it.
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached.at < self.cache_seconds:
                return self._cached.value
            values: dict[str, dict[str, MetricReading]] = {}
            for r in self._query(latest_query(self.endpoint.bucket, self.lookback)):
                sensor = r.values.get("sensor")
                if sensor in self.registry.sensors:
                    values.setdefault(sensor, {})[r.get_field()] = MetricReading(time=r.get_time(), value=r.get_value())
            self._cached = _Cached(time.monotonic(), values)
            return values

    def statuses(self) -> dict[str, SensorStatus]:
        """Live status of every sensor of the registry."""
        values, now = self._latest_values(), self.clock()
        return {sid: sensor_status(sid, values.get(sid, {}), now, self.stale_after) for sid in self.registry.sensors}

    def status(self, sensor: str) -> SensorStatus:
        """Live status of one sensor (it must be in the registry)."""
        return sensor_status(sensor, self._latest_values().get(sensor, {}), self.clock(), self.stale_after)

    def newest_reading(self) -> datetime | None:
        """When the newest reading of any sensor was measured."""
        return max((m.time for metrics in self._latest_values().values() for m in metrics.values()), default=None)

    def history(self, sensor: Sensor, metric: str, start: datetime, stop: datetime,
                max_points: int = MAX_POINTS) -> History:
        """At most `max_points` points of one metric between start and stop."""
        every = window_for(start, stop, max_points)
        aggregate = aggregate_for(sensor, metric)
        records = self._query(history_query(self.endpoint.bucket, sensor, metric, start, stop, every, aggregate))
        points = [HistoryPoint(time=r.get_time(), value=r.get_value()) for r in records][:max_points]
        return History(sensor=sensor.id, metric=metric, unit=METRICS[sensor.kind][metric].unit, start=start, stop=stop,
                       window_seconds=every, aggregate=aggregate, points=points)

    def healthy(self) -> tuple[bool, str]:
        """InfluxDB answers its /ping."""
        ok = bool(self._client.ping())
        return ok, "influxdb answers" if ok else "influxdb does not answer"
