"""How rules and transitions read to people: numbers, durations, limits,
and where a sensor is ("Blood Bank, Basement, Main Building")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from vigil.kinds import METRICS
from vigil.registry import Registry, Sensor

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 3600 * NS_PER_S
NS_PER_DAY = 24 * NS_PER_HOUR


def ns(duration: timedelta) -> int:
    """A duration in integer nanoseconds."""
    return (duration.days * 86_400 + duration.seconds) * NS_PER_S + duration.microseconds * 1000


def number(x: float) -> str:
    """8 -> "8.0", 7.5 -> "7.5", 0.85 -> "0.85", 8.2345 -> "8.23"."""
    text = f"{x:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def duration(d: timedelta | int) -> str:
    """A duration as people say it: "30 s", "15 min", "1 h 30 min", "20 h", "30 days"."""
    seconds = d.total_seconds() if isinstance(d, timedelta) else d / NS_PER_S
    if seconds < 60:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 48 and hours % 24 == 0 and not rest:
        return f"{hours // 24} days"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def unit_of(sensor: Sensor, metric: str | None) -> str:
    """The display unit of `metric` ("°C", "μW/cm²"), "" for booleans and unknowns."""
    if metric is None:
        return ""
    spec = METRICS[sensor.kind].get(metric)
    return spec.display if spec is not None else ""


def quantity(x: float, unit: str) -> str:
    """ "8.0 °C", "0.85" (no unit)."""
    return f"{number(x)} {unit}" if unit else number(x)


def bounds_text(low: float | None, high: float | None, unit: str, inclusive: bool = False) -> str:
    """What out of range means: "above 7.5 °C", "below 2.0 °C or above 7.5 °C"."""
    above = "at or above" if inclusive else "above"
    below = "at or below" if inclusive else "below"
    parts = []
    if low is not None:
        parts.append(f"{below} {quantity(low, unit)}")
    if high is not None:
        parts.append(f"{above} {quantity(high, unit)}")
    return " or ".join(parts) or "out of range"


def metric_words(metric: str) -> str:
    """ "door_open" -> "door open"."""
    return metric.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a sensor is, in the words of its facility config."""

    asset_name: str
    where: str  # "Blood Bank, Basement, Main Building"
    details: dict[str, Any]  # copied into every transition's details

    @classmethod
    def of_sensor(cls, registry: Registry, sensor: Sensor) -> Place:
        """The place of `sensor`, with floor and building names from the config."""
        building_name, floor_name = sensor.building, sensor.floor
        for site in registry.config.sites:
            if site.id != sensor.site:
                continue
            for b in site.buildings:
                if b.id == sensor.building:
                    building_name = b.name
                    floor_name = next((f.name for f in b.floors if f.id == sensor.floor), sensor.floor)
        details = {
            "asset_name": sensor.asset_name,
            "site": sensor.site,
            "building": sensor.building,
            "building_name": building_name,
            "floor": sensor.floor,
            "floor_name": floor_name,
            "room": sensor.room,
            "room_name": sensor.room_name,
            "department": sensor.department,
            "gateway": sensor.gateway,
            "profile": sensor.profile,
        }
        return cls(sensor.asset_name, f"{sensor.room_name}, {floor_name}, {building_name}", details)

    @classmethod
    def of_gateway(cls, registry: Registry, gateway: str) -> Place:
        """The place of a gateway: its site, and the rooms its sensors are in."""
        gw = registry.gateways.get(gateway)
        rooms = sorted({s.room_name for s in registry.sensors_of_gateway(gateway)})
        name = gw.name if gw is not None else gateway
        details = {"site": gw.site if gw is not None else None, "gateway": gateway, "rooms": rooms}
        return cls(f"Gateway {name}", ", ".join(rooms) or "no sensors", details)
