"""Judging a reading against the registry and the clock: the one definition
of a usable reading, shared by ingest (which writes it) and alerts (which
evaluates it). Pure; raises ContractError with the reason it is unusable."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from vigil.contract import MAX_TS_NS, MIN_TS_NS, ContractError, Reading, Reason
from vigil.kinds import ValueType
from vigil.registry import Registry, Sensor
from vigil.units import UnitError, conversion_for

NS = 1_000_000_000
_FLOAT_MAX = sys.float_info.max  # finite bounds, so that inf and nan fall out of range


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far from now a reading's time may be before it is rejected."""

    max_future_s: float = 300.0  # clock skew on a gateway; beyond this the clock is wrong
    max_past_s: float = 30 * 86_400.0  # the raw bucket keeps 30 days; older would vanish at once


def canonical_reading(registry: Registry, reading: Reading, gateway: str, now_ns: int,
                      window: TimeWindow = TimeWindow()) -> tuple[Sensor, float | bool]:
    """The sensor and the value in its canonical unit; raises ContractError
    when the reading is unusable (unknown, foreign, impossible, mistimed)."""
    sensor = registry.sensors.get(reading.sensor)
    if sensor is None:
        raise ContractError(Reason.UNKNOWN_SENSOR, f"no sensor {reading.sensor!r} in the registry")
    if sensor.gateway != gateway:
        raise ContractError(Reason.FOREIGN_SENSOR, f"sensor {reading.sensor!r} belongs to gateway {sensor.gateway!r}, not {gateway!r}")
    spec = sensor.metric_spec(reading.metric)
    if spec is None:
        raise ContractError(Reason.UNKNOWN_METRIC, f"{sensor.kind.value} sensor {sensor.id!r} does not report {reading.metric!r} (it reports {', '.join(sensor.metrics)})")
    if reading.ts_ns > now_ns + window.max_future_s * NS:
        raise ContractError(Reason.FUTURE_TIME, f"ts is {(reading.ts_ns - now_ns) / NS:.0f} s in the future")
    if reading.ts_ns < now_ns - window.max_past_s * NS:
        raise ContractError(Reason.STALE_TIME, f"ts is {(now_ns - reading.ts_ns) / 86_400 / NS:.1f} days old")
    value = reading.value
    if spec.value_type is ValueType.BOOL:
        if type(value) is not bool:
            raise ContractError(Reason.WRONG_TYPE, f"{reading.metric} must be true or false")
        if reading.unit not in (None, ""):
            raise ContractError(Reason.BAD_UNIT, f"{reading.metric} is a boolean and takes no unit")
        return sensor, value
    if type(value) is bool:
        raise ContractError(Reason.WRONG_TYPE, f"{reading.metric} must be a number")
    try:
        number = conversion_for(reading.unit, spec.unit).apply(value)
    except UnitError as exc:
        raise ContractError(Reason.BAD_UNIT, str(exc)) from None
    if not spec.is_possible(number):
        raise ContractError(Reason.IMPOSSIBLE_VALUE, f"{reading.metric}={number:g} {spec.unit} is outside what is physically possible [{spec.minimum:g}, {spec.maximum:g}]")
    return sensor, number


# The usual reading (a known sensor of the gateway that sent it, a number in
# range or a boolean, no unit or the canonical one, integer epoch ms in the
# window) can be judged straight from the decoded JSON: ingest and alerts
# judge hundreds of thousands a second. `canonical_reading` stays the
# definition; each service's tests hold its fast path to it.


@dataclass(frozen=True, slots=True)
class UsualSeries:
    """What judging the usual reading of one (sensor, metric) needs."""

    gateway: str
    unit: str  # canonical ("" for booleans)
    boolean: bool
    lowest: float  # what is physically possible, as finite bounds
    highest: float

    @staticmethod
    def fields(sensor: Sensor, metric: str) -> tuple[str, str, bool, float, float]:
        spec = sensor.metric_spec(metric)
        assert spec is not None
        return (sensor.gateway, spec.unit, spec.value_type is ValueType.BOOL,
                -_FLOAT_MAX if spec.minimum is None else spec.minimum, _FLOAT_MAX if spec.maximum is None else spec.maximum)


def usual_series(registry: Registry) -> dict[tuple[str, str], UsualSeries]:
    return {(s.id, m): UsualSeries(*UsualSeries.fields(s, m)) for s in registry.sensors.values() for m in s.metrics}


def window_ns(now_ns: int, window: TimeWindow) -> tuple[float, float]:
    """The reading times `canonical_reading` and `parse_time_ns` accept, in
    ns, computed as `canonical_reading` computes them (in floats)."""
    return max(MIN_TS_NS, now_ns - window.max_past_s * NS), min(MAX_TS_NS - 1, now_ns + window.max_future_s * NS)


def usual_reading(series: dict[tuple[str, str], UsualSeries], raw: Any, gateway: str, earliest_ns: float, latest_ns: float) -> Reading | None:
    """`raw` judged on the fast path, or None if it is not the usual reading
    (then the full path, `decode_reading` and `canonical_reading`, decides)."""
    try:
        key = raw["sensor"], raw["metric"]
        s = series[key]
        value = raw["value"]
        ts = raw["ts"]
        unit = raw.get("unit")
    except (KeyError, TypeError, AttributeError):  # not a dict, a field missing, unknown series
        return None
    if s.gateway != gateway or type(ts) is not int or not earliest_ns <= ts * 1_000_000 <= latest_ns or not (unit is None or unit == s.unit):
        return None
    kind = type(value)
    if s.boolean:
        return Reading(*key, value, ts * 1_000_000) if kind is bool else None
    if (kind is float or kind is int) and s.lowest <= value <= s.highest:
        # + 0.0 as the identity conversion does: an int becomes a float, -0.0 becomes 0.0
        return Reading(*key, value + 0.0, ts * 1_000_000)
    return None
