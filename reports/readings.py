"""The reports' reads from InfluxDB (data model and buckets: docs/contract.md).
Raw readings while the raw bucket holds the period (30 days), the roll-ups
beyond: temperature extremes from `readings_1h` (min and max per hour), UV
runs from `readings_1m` (minutes the lamp was on throughout)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from influxdb_client import InfluxDBClient

from reports.cold_chain import TemperatureWindow
from reports.uv import LampSample
from vigil.flux import flux_string, flux_time
from vigil.infra.downsampling import HOUR, MINUTE
from vigil.settings import InfluxEndpoint

RAW_RETENTION = timedelta(days=30)
RAW_WINDOW = "15m"  # every zone in use is a whole number of quarter hours from UTC


def sensor_filter(sensors: Sequence[str]) -> str:
    """`(r.sensor == "a" or r.sensor == "b")`: equality comparisons are the
    filters InfluxDB pushes down to storage, with the aggregate after them."""
    return "(" + " or ".join(f"r.sensor == {flux_string(s)}" for s in sensors) + ")"


def raw_temperature_query(bucket: str, sensors: Sequence[str], start: datetime, stop: datetime) -> str:
    """Min and max temperature per sensor and 15-minute window, stamped at the
    window's start. Each statistic reads storage on its own: a shared
    `data = from(...)` used twice is no longer pushed down, and runs about
    100 times slower."""
    source = (
        f"from(bucket: {flux_string(bucket)})"
        f" |> range(start: {flux_time(start)}, stop: {flux_time(stop)})"
        f' |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature"'
        f" and {sensor_filter(sensors)})"
    )
    return "".join(
        f'{source} |> aggregateWindow(every: {RAW_WINDOW}, fn: {fn}, createEmpty: false, timeSrc: "_start")'
        f' |> keep(columns: ["_time", "_value", "sensor"]) |> yield(name: "{fn}")\n' for fn in ("min", "max"))


def rollup_temperature_query(bucket: str, sensors: Sequence[str], start: datetime, stop: datetime) -> str:
    """The hourly min and max points of [start, stop). A roll-up point is
    stamped at its window's end, so it is shifted back to the window's start."""
    return (
        'import "date"\n'
        f"from(bucket: {flux_string(bucket)})\n"
        f"  |> range(start: date.add(d: 1h, to: {flux_time(start)}), stop: date.add(d: 1h, to: {flux_time(stop)}))\n"
        f'  |> filter(fn: (r) => r._measurement == "cold_chain" and r._field == "temperature"'
        f' and (r.stat == "min" or r.stat == "max") and {sensor_filter(sensors)})\n'
        "  |> timeShift(duration: -1h)\n"
        '  |> keep(columns: ["_time", "_value", "sensor", "stat"])'
    )


def raw_lamp_query(bucket: str, sensors: Sequence[str], start: datetime, stop: datetime) -> str:
    """Each lamp's state and intensity readings, one row per moment."""
    return (
        f"from(bucket: {flux_string(bucket)})\n"
        f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})\n"
        f'  |> filter(fn: (r) => r._measurement == "uv_lamp" and (r._field == "intensity" or r._field == "lamp_on")'
        f" and {sensor_filter(sensors)})\n"
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
        '  |> drop(columns: ["_start", "_stop", "_measurement"])'
    )


def rollup_lamp_query(bucket: str, sensors: Sequence[str], start: datetime, stop: datetime) -> str:
    """The mean intensity of each minute the lamp was on throughout (its
    `lamp_on` minimum is 1), stamped at the minute's start."""
    return (
        'import "date"\n'
        f"from(bucket: {flux_string(bucket)})\n"
        f"  |> range(start: date.add(d: 1m, to: {flux_time(start)}), stop: date.add(d: 1m, to: {flux_time(stop)}))\n"
        f'  |> filter(fn: (r) => r._measurement == "uv_lamp" and {sensor_filter(sensors)}'
        ' and ((r._field == "lamp_on" and r.stat == "min" and r._value == 1.0)'
        ' or (r._field == "intensity" and r.stat == "mean")))\n'
        "  |> timeShift(duration: -1m)\n"
        '  |> drop(columns: ["stat", "_start", "_stop", "_measurement"])\n'
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
        '  |> filter(fn: (r) => exists r.lamp_on and exists r.intensity)'
    )


class ReportReadings:
    """Reads what the reports need from InfluxDB (the reader token is enough)."""

    def __init__(self, endpoint: InfluxEndpoint, *, rollups: tuple[str, str] = (MINUTE, HOUR),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout_ms: int = 60_000) -> None:
        self.raw_bucket = endpoint.bucket
        self.minute_bucket, self.hour_bucket = rollups
        self.clock = clock
        self._client = InfluxDBClient(url=endpoint.url, token=endpoint.token.get_secret_value(), org=endpoint.org,
                                      timeout=timeout_ms)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> ReportReadings:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _records(self, flux: str) -> list[Any]:
        return [r for table in self._client.query_api().query(flux) for r in table.records]

    def raw_holds(self, start: datetime) -> bool:
        """Whether the raw bucket still holds readings from `start` on."""
        return start >= self.clock() - RAW_RETENTION

    def temperature_windows(self, sensors: Sequence[str], start: datetime, stop: datetime) -> tuple[str, list[TemperatureWindow]]:
        """("raw" or "1h", the extremes per sensor and window) over [start, stop)."""
        if not sensors:
            return "raw", []
        if self.raw_holds(start):
            extremes: dict[tuple[str, datetime], dict[str, float]] = {}
            for r in self._records(raw_temperature_query(self.raw_bucket, sensors, start, stop)):
                extremes.setdefault((r.values["sensor"], r.get_time()), {})[r.values["result"]] = float(r.get_value())
            source = "raw"
        else:
            extremes = {}
            for r in self._records(rollup_temperature_query(self.hour_bucket, sensors, start, stop)):
                extremes.setdefault((r.values["sensor"], r.get_time()), {})[r.values["stat"]] = float(r.get_value())
            source = "1h"
        return source, [TemperatureWindow(sensor, at, v["min"], v["max"]) for (sensor, at), v in sorted(extremes.items())
                        if "min" in v and "max" in v]

    def lamp_samples(self, sensors: Sequence[str], start: datetime, stop: datetime) -> tuple[str, dict[str, list[LampSample]]]:
        """("raw" or "1m", each lamp's samples) over [start, stop)."""
        out: dict[str, list[LampSample]] = {s: [] for s in sensors}
        if not sensors:
            return "raw", out
        raw = self.raw_holds(start)
        flux = (raw_lamp_query(self.raw_bucket, sensors, start, stop) if raw
                else rollup_lamp_query(self.minute_bucket, sensors, start, stop))
        for r in self._records(flux):
            on, intensity = r.values.get("lamp_on"), r.values.get("intensity")
            # From the roll-up every row is a minute the lamp was on throughout: no state, runs by gaps.
            lamp_on = (None if on is None else bool(on)) if raw else None
            out.setdefault(r.values["sensor"], []).append(
                LampSample(r.get_time(), lamp_on, None if intensity is None else float(intensity)))
        return ("raw" if raw else "1m"), out
