"""What a named fault scenario is: the fault it injects into which assets,
and the alarm it should raise, so alert tests can check that the platform
notices (or, for a tolerated event, that it stays quiet)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from vigil.kinds import METRICS, SensorKind
from vigil.profiles import PROFILES
from vigil.registry import Sensor


class Breach(StrEnum):
    """How the expected alarm shows in the readings."""

    LOW = "low"  # below the threshold's effective low for longer than its delay
    HIGH = "high"  # above the effective high for longer than its delay
    STATE = "state"  # a boolean at its `alarm_when` value for longer than its delay
    FLATLINE = "flatline"  # the same value repeated: a stuck probe
    STALLED = "stalled"  # a counter that stops while its rate is above zero
    CONTINUOUS_FLOW = "continuous_flow"  # no hour of zero flow in a day: a leak


@dataclass(frozen=True, slots=True)
class Trip:
    """An alarm a scenario should cause: on `metric`, shown as `breach`, no
    later than `within` after injection (alarm delay included, default
    parameters, a weekday morning)."""

    metric: str
    breach: Breach
    within: timedelta


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named fault: injects `fault` (with `params`) into an asset of one of
    `profiles`, for `duration` (None: until cleared)."""

    name: str
    description: str
    profiles: frozenset[str]
    fault: str
    trips: tuple[Trip, ...]  # empty: the platform is expected to stay quiet
    params: Mapping[str, float | str] = field(default_factory=dict, hash=False)
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        unknown = self.profiles - PROFILES.keys()
        if unknown:
            raise ValueError(f"scenario {self.name!r}: unknown profiles {sorted(unknown)}")
        for trip in self.trips:
            if not any(trip.metric in METRICS[k] for k in self.kinds):
                raise ValueError(f"scenario {self.name!r}: no sensor of its profiles reports {trip.metric!r}")

    @property
    def kinds(self) -> frozenset[SensorKind]:
        """The sensor kinds of the profiles this scenario names."""
        return frozenset(PROFILES[p].kind for p in self.profiles)

    def applies_to(self, sensor: Sensor) -> bool:
        """Whether this scenario can be injected into `sensor`'s asset through it."""
        return sensor.profile in self.profiles and sensor.kind is PROFILES[sensor.profile].kind

    def trips_for(self, sensor: Sensor) -> tuple[Trip, ...]:
        """The expected alarms that `sensor` can show (the metrics it reports)."""
        return tuple(t for t in self.trips if t.metric in sensor.metrics) if self.applies_to(sensor) else ()


def minutes(n: float) -> timedelta:
    """`n` minutes, for scenario definitions."""
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    """`n` hours, for scenario definitions."""
    return timedelta(hours=n)
