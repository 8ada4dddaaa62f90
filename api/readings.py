"""Readings from InfluxDB (the edge the API reads sensor data through): the
newest value of every metric of every sensor in one `last()` query, cached
for a few seconds, and one metric's history downsampled on the server.

The data model is docs/contract.md: one measurement per sensor kind, one
field per metric, tags from the registry. History reads the raw bucket while
it holds the whole range (30 days), and the 1-minute or 1-hour roll-ups
(vigil/infra/downsampling.py) beyond, up to two years.
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

from api.schemas import History, HistoryPoint, HistoryTier, MetricReading, SensorState, SensorStatus
from vigil.flux import flux_string, flux_time
from vigil.infra.downsampling import HOUR, MINUTE
from vigil.kinds import METRICS, ValueType
from vigil.registry import Registry, Sensor
from vigil.settings import InfluxEndpoint

MAX_POINTS = 1000
# The raw bucket keeps 30 days, the roll-ups two years (vigil/infra/influxdb.py).
RAW_RETENTION = timedelta(days=30)
# "The last 30 days" asked a moment later is still a raw range: InfluxDB drops
# whole (1-day) shard groups only once they are past retention, so the first
# hour is still there in all but rare cases.
RAW_GRACE = timedelta(hours=1)
MAX_RAW_SPAN = timedelta(days=31)
MAX_HISTORY = timedelta(days=730)
TIER_SECONDS: dict[HistoryTier, int] = {"raw": 0, "1m": 60, "1h": 3600}


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


def history_plan(start: datetime, stop: datetime, now: datetime, max_points: int = MAX_POINTS) -> tuple[HistoryTier, int]:
    """Which tier answers [start, stop) and its window in seconds: raw readings
    while the raw bucket still holds the start and the span is short enough to
    aggregate on the fly; else the 1-minute roll-up while windows are under an
    hour, the 1-hour roll-up beyond. Roll-up windows are whole multiples of
    their resolution, so every window averages the same number of points."""
    every = window_for(start, stop, max_points)
    if start >= now - RAW_RETENTION - RAW_GRACE and stop - start <= MAX_RAW_SPAN:
        return "raw", every
    tier: HistoryTier = "1m" if every < 3600 else "1h"
    step = TIER_SECONDS[tier]
    return tier, math.ceil(every / step) * step


def rollup_aggregate(sensor: Sensor, metric: str) -> str:
    """What a roll-up history point is: the counter's increase over the window,
    else the mean (for booleans the fraction of the time it was true)."""
    return "increase" if METRICS[sensor.kind][metric].counter else "mean"


def rollup_history_query(bucket: str, resolution_s: int, sensor: Sensor, metric: str, start: datetime, stop: datetime,
                         every_s: int) -> str:
    """The Flux query of one metric's history from a roll-up bucket: one yield
    per statistic (min, mean, max; or increase for counters), each aggregated
    as itself. A roll-up point is stamped at its window's end, so it is
    shifted back one resolution to fall in the window it describes."""
    shift = f"{resolution_s}s"
    head = (
        'import "date"\n'
        f"data = from(bucket: {flux_string(bucket)})\n"
        f"  |> range(start: date.add(d: {shift}, to: {flux_time(start)}), stop: date.add(d: {shift}, to: {flux_time(stop)}))\n"
        f"  |> filter(fn: (r) => r._measurement == {flux_string(sensor.kind.value)} and r.sensor == {flux_string(sensor.id)}"
        f" and r._field == {flux_string(metric)})\n"
        f"  |> timeShift(duration: -{shift})\n"
    )
    stats = (("increase", "sum"),) if METRICS[sensor.kind][metric].counter else (("min", "min"), ("mean", "mean"), ("max", "max"))
    return head + "".join(
        f'data |> filter(fn: (r) => r.stat == "{stat}")'
        f' |> aggregateWindow(every: {every_s}s, fn: {fn}, createEmpty: false, timeSrc: "_start")'
        f' |> keep(columns: ["_time", "_value"]) |> yield(name: "{stat}")\n'
        for stat, fn in stats)


def history_query(bucket: str, sensor: Sensor, metric: str, start: datetime, stop: datetime, every_s: int,
                  aggregate: str) -> str:
    """The Flux query of one metric's downsampled history."""
    return (
        f"from(bucket: {flux_string(bucket)})\n"
        f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})\n"
        f"  |> filter(fn: (r) => r._measurement == {flux_string(sensor.kind.value)} and r.sensor == {flux_string(sensor.id)}"
        f" and r._field == {flux_string(metric)})\n"
        f"  |> aggregateWindow(every: {every_s}s, fn: {aggregate}, createEmpty: false, timeSrc: \"_start\")\n"
        '  |> keep(columns: ["_time", "_value"])'
    )


def latest_query(bucket: str, lookback: timedelta) -> str:
    """The Flux query of the newest point of every field of every sensor."""
    return (
        f"from(bucket: {flux_string(bucket)})\n"
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

    def __init__(self, endpoint: InfluxEndpoint, registry: Registry, *, rollups: tuple[str, str] = (MINUTE, HOUR),
                 cache_seconds: float = 5.0,
                 stale_after: timedelta = timedelta(minutes=10), lookback: timedelta = timedelta(days=30),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout_ms: int = 10_000) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self.buckets: dict[HistoryTier, str] = {"raw": endpoint.bucket, "1m": rollups[0], "1h": rollups[1]}
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
        """At most `max_points` points of one metric between start and stop,
        from the raw readings or a roll-up (`history_plan`)."""
        tier, every = history_plan(start, stop, self.clock(), max_points)
        unit = METRICS[sensor.kind][metric].unit
        if tier == "raw":
            aggregate = aggregate_for(sensor, metric)
            records = self._query(history_query(self.buckets[tier], sensor, metric, start, stop, every, aggregate))
            points = [HistoryPoint(time=r.get_time(), value=r.get_value()) for r in records]
        else:
            aggregate = rollup_aggregate(sensor, metric)
            flux = rollup_history_query(self.buckets[tier], TIER_SECONDS[tier], sensor, metric, start, stop, every)
            by_time: dict[datetime, dict[str, float]] = {}
            for r in self._query(flux):
                by_time.setdefault(r.get_time(), {})[r.values["result"]] = r.get_value()
            points = [HistoryPoint(time=at, value=stats.get(aggregate), min=stats.get("min"), max=stats.get("max"))
                      for at, stats in sorted(by_time.items())]
        return History(sensor=sensor.id, metric=metric, unit=unit, start=start, stop=stop, source=tier,
                       window_seconds=every, aggregate=aggregate, points=points[:max_points])

    def healthy(self) -> tuple[bool, str]:
        """InfluxDB answers its /ping."""
        ok = bool(self._client.ping())
        return ok, "influxdb answers" if ok else "influxdb does not answer"
