"""Judging a reading against the registry and the clock: the one definition
of a usable reading, shared by ingest (which writes it) and alerts (which
evaluates it). Pure; raises ContractError with the reason it is unusable."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.contract import ContractError, Reading, Reason
from vigil.kinds import ValueType
from vigil.registry import Registry, Sensor
from vigil.units import UnitError, conversion_for

NS = 1_000_000_000


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
