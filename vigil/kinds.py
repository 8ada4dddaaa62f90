"""Sensor kinds: what each family of plant sensor measures, in which canonical
unit, and which values are physically possible.

One InfluxDB measurement per kind, one field per metric. Canonical units are
ASCII so they survive every transport; `display` is what a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SensorKind(StrEnum):
    UV_LAMP = "uv_lamp"
    COLD_CHAIN = "cold_chain"
    MEDICAL_GAS = "medical_gas"
    ELECTRICITY_METER = "electricity_meter"
    WATER_METER = "water_meter"


class ValueType(StrEnum):
    NUMBER = "number"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric a sensor kind reports.

    `minimum`/`maximum` bound what is physically possible for the quantity, not
    what is acceptable: a value outside them is a broken sensor or a bad
    payload, and ingest rejects it. Acceptable ranges are thresholds.
    """

    name: str
    unit: str  # canonical unit; "" for booleans
    display: str
    description: str
    value_type: ValueType = ValueType.NUMBER
    minimum: float | None = None
    maximum: float | None = None
    counter: bool = False  # monotonically increasing (energy, volume, burn hours)

    def is_possible(self, value: float) -> bool:
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)


def _specs(*specs: MetricSpec) -> dict[str, MetricSpec]:
    return {s.name: s for s in specs}


# Physically possible ranges are generous on purpose: they catch a probe that
# reads -273 °C or a meter that jumps to 1e30, never a real excursion.
METRICS: dict[SensorKind, dict[str, MetricSpec]] = {
    SensorKind.UV_LAMP: _specs(
        MetricSpec("intensity", "uW/cm2", "μW/cm²", "UV-C irradiance at 1 m, 253.7 nm", minimum=0, maximum=5000),
        MetricSpec("lamp_on", "", "", "lamp energised", ValueType.BOOL),
        MetricSpec("burn_hours", "h", "h", "cumulative burn time", minimum=0, maximum=200_000, counter=True),
    ),
    SensorKind.COLD_CHAIN: _specs(
        MetricSpec("temperature", "degC", "°C", "storage temperature", minimum=-100, maximum=80),
        MetricSpec("door_open", "", "", "door open", ValueType.BOOL),
    ),
    SensorKind.MEDICAL_GAS: _specs(
        MetricSpec("pressure", "kPa", "kPa", "pipeline pressure, gauge", minimum=0, maximum=3000),
        # Vacuum is stated as depth below atmosphere, as hospital staff read it.
        MetricSpec("vacuum", "kPa", "kPa", "vacuum below atmosphere", minimum=0, maximum=101.325),
        MetricSpec("tank_level", "%", "%", "liquid oxygen tank level", minimum=0, maximum=100),
    ),
    SensorKind.ELECTRICITY_METER: _specs(
        MetricSpec("energy", "kWh", "kWh", "active energy import", minimum=0, maximum=1e12, counter=True),
        MetricSpec("power", "kW", "kW", "active power demand", minimum=-100_000, maximum=100_000),
        MetricSpec("voltage", "V", "V", "line voltage", minimum=0, maximum=50_000),
        MetricSpec("current", "A", "A", "line current", minimum=0, maximum=100_000),
        MetricSpec("power_factor", "1", "", "power factor", minimum=-1, maximum=1),
    ),
    SensorKind.WATER_METER: _specs(
        MetricSpec("volume", "m3", "m³", "cumulative volume", minimum=0, maximum=1e12, counter=True),
        MetricSpec("flow", "m3/h", "m³/h", "flow rate", minimum=0, maximum=100_000),
    ),
}


def metric_spec(kind: SensorKind, metric: str) -> MetricSpec | None:
    """The spec of `metric` for `kind`, or None when the kind has no such metric."""
    return METRICS[kind].get(metric)
