"""What the dashboards need to know about a facility that InfluxDB does not
hold: each asset's acceptable band (from its profile and overrides), which
meters are building mains, and the site's time zone. They are rendered into
the Flux as constants, so the committed JSON is specific to one facility
registry and `dashboards build` regenerates it when the registry changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.kinds import METRICS, SensorKind, ValueType
from vigil.registry import Registry


@dataclass(frozen=True)
class FacilityFacts:
    lows: dict[str, float]  # "asset/metric" -> lowest acceptable value
    highs: dict[str, float]
    nominals: dict[str, float]
    electricity_mains: tuple[str, ...]  # assets whose sum is a building's consumption
    water_mains: tuple[str, ...]
    timezone: str
    sensors_per_building: dict[str, int]  # building -> sensors registered there

    @property
    def banded_metrics(self) -> tuple[str, ...]:
        return tuple(sorted({key.split("/", 1)[1] for key in (*self.lows, *self.highs)}))


def facility_facts(registry: Registry) -> FacilityFacts:
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    nominals: dict[str, float] = {}
    for sensor in registry.sensors.values():
        for metric in sensor.metrics:
            limits = sensor.thresholds.get(metric)
            if limits is None or METRICS[sensor.kind][metric].value_type is not ValueType.NUMBER:
                continue
            key = f"{sensor.asset}/{metric}"
            if limits.effective_low is not None:
                lows[key] = limits.effective_low
            if limits.effective_high is not None:
                highs[key] = limits.effective_high
            if limits.nominal is not None:
                nominals[key] = limits.nominal

    def mains(kind: SensorKind, profile: str) -> tuple[str, ...]:
        return tuple(sorted({s.asset for s in registry.sensors.values() if s.kind is kind and s.profile == profile}))

    per_building: dict[str, int] = {}
    for sensor in registry.sensors.values():
        per_building[sensor.building] = per_building.get(sensor.building, 0) + 1
    sites = registry.config.sites
    return FacilityFacts(lows, highs, nominals, mains(SensorKind.ELECTRICITY_METER, "electricity_main"),
                         mains(SensorKind.WATER_METER, "water_main"), sites[0].timezone if sites else "UTC",
                         dict(sorted(per_building.items())))
