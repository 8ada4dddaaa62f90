"""What a rule is, as people see it: `RuleSpec` (one rule on one sensor, with
its numbers and their source) and `RuleBook` (every rule of a facility).

The engine builds its evaluators from a rule book, so what is shown is what
runs. Parameters are plain frozen dataclasses, one per rule kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import timedelta
from typing import Any

from alerts.model import RuleKind
from vigil.profiles import Severity


@dataclass(frozen=True, slots=True)
class LampGate:
    """Judge a UV sensor's intensity only while its lamp is on and warmed
    up. `lamp_metric` None: the sensor reports no lamp state, so a cycle is
    a run of intensity readings and the warm-up counts from its first."""

    lamp_sensor: str
    lamp_metric: str | None
    warm_up: timedelta


@dataclass(frozen=True, slots=True)
class ThresholdParams:
    """Out of [low, high] (or equal to `alarm_when`) for `delay`, cleared
    once back inside by `clear_band`. `inclusive`: the bounds themselves are
    out of range (WHO: ">= 45 °C")."""

    low: float | None
    high: float | None
    alarm_when: bool | None
    delay: timedelta
    clear_band: float
    inclusive: bool = False
    gate: LampGate | None = None


@dataclass(frozen=True, slots=True)
class CumulativeParams:
    """Time out of [low, high] adding up to `budget` within a sliding `window`."""

    low: float | None
    high: float | None
    inclusive: bool
    budget: timedelta
    window: timedelta


@dataclass(frozen=True, slots=True)
class RateOfChangeParams:
    """Falling by more than `drop_per_minute` (metric units) over `window`.
    The alarm holds until the fall has stopped and the value is back at or
    above `recovered_at` (the threshold's low limit), like a latching gas alarm."""

    drop_per_minute: float
    window: timedelta
    recovered_at: float | None


@dataclass(frozen=True, slots=True)
class NoDataParams:
    """No reading of any metric for `after` (wall clock)."""

    after: timedelta
    gateway: str


@dataclass(frozen=True, slots=True)
class GatewayOfflineParams:
    """The gateway's status says offline (or its last will fired) for `after`."""

    after: timedelta
    sensors: int  # how many sensors it carries, for the summary


@dataclass(frozen=True, slots=True)
class StuckParams:
    """The same numeric value for `after` and at least `min_readings` times."""

    after: timedelta
    min_readings: int


@dataclass(frozen=True, slots=True)
class NightFlowParams:
    """Flow never at or below `zero_flow` between `start_hour` and
    `end_hour` local time, judged when the night is over."""

    timezone: str
    start_hour: int
    end_hour: int
    min_coverage: timedelta
    zero_flow: float = 0.0


@dataclass(frozen=True, slots=True)
class CounterStalledParams:
    """The counter (the rule's metric) unchanged for `after` while every
    `rate_metric` reading in that time is above zero."""

    rate_metric: str
    after: timedelta


@dataclass(frozen=True, slots=True)
class PredictedCrossingParams:
    """A linear trend of warmed-up intensity (one point per lamp cycle,
    against `age_metric` or, without it, time) predicts when it falls below
    `limit`. Fires when that is within `horizon`, clears beyond `clear_horizon`."""

    limit: float
    horizon: timedelta
    clear_horizon: timedelta
    fit_window: timedelta
    min_points: int
    min_span: timedelta
    age_metric: str | None
    gate: LampGate


@dataclass(frozen=True, slots=True)
class DoorAndTemperatureParams:
    """The unit's door open for at least `door_after` while the temperature
    is out of [low, high] (cleared by `clear_band`)."""

    door_sensor: str
    door_metric: str
    door_after: timedelta
    low: float | None
    high: float | None
    clear_band: float


RuleParams = (
    ThresholdParams
    | CumulativeParams
    | RateOfChangeParams
    | NoDataParams
    | GatewayOfflineParams
    | StuckParams
    | NightFlowParams
    | CounterStalledParams
    | PredictedCrossingParams
    | DoorAndTemperatureParams
)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule on one sensor (or gateway). `id` is stable across restarts
    and releases: f"{sensor}/{metric}/{kind}", with "/{variant}" when a
    sensor has several rules of one kind on one metric, and "-" for the
    metric of sensor-wide rules."""

    id: str
    kind: RuleKind
    sensor: str  # the gateway id for GATEWAY_OFFLINE
    asset: str  # "-" for GATEWAY_OFFLINE
    metric: str | None
    severity: Severity
    description: str  # "above 7.5 °C or below 2.0 °C for 15 min"
    source: str | None
    params: RuleParams
    resolve_hold: timedelta  # flap damping: clear this long before RESOLVED
    max_gap: timedelta  # longer silence breaks a run (alarm delay, cumulative time)
    work_order: str | None = None
    variant: str | None = None

    def describe(self) -> dict[str, Any]:
        """The rule as JSON for people and the API (durations in seconds)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "sensor": self.sensor,
            "asset": self.asset,
            "metric": self.metric,
            "severity": self.severity.value,
            "description": self.description,
            "source": self.source,
            "params": _jsonable(self.params),
            "resolve_hold_s": self.resolve_hold.total_seconds(),
            "work_order": self.work_order,
        }


@dataclass(frozen=True, slots=True)
class ExcursionSpec:
    """Cold-chain excursion records for one temperature sensor: opened at the
    first reading outside [low, high], updated at most every `update_every`,
    closed once back inside for `resolve_hold` (ended at the return)."""

    id: str  # f"{sensor}/{metric}/excursion"
    sensor: str
    asset: str
    metric: str
    product: str | None
    low: float | None
    high: float | None
    update_every: timedelta
    resolve_hold: timedelta
    max_gap: timedelta
    source: str | None

    def describe(self) -> dict[str, Any]:
        """The excursion watch as JSON (durations in seconds)."""
        out = _jsonable(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Every rule and excursion watch of a facility, in a stable order."""

    rules: tuple[RuleSpec, ...]
    excursions: tuple[ExcursionSpec, ...] = ()

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules] + [e.id for e in self.excursions]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)  # not ids.count: quadratic at 100,000 sensors
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicates)}")

    def __iter__(self) -> Iterator[RuleSpec]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> RuleSpec | None:
        """The rule with `rule_id`, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def for_sensor(self, sensor: str) -> list[RuleSpec]:
        """The rules watching `sensor` (or gateway)."""
        return [r for r in self.rules if r.sensor == sensor]

    def describe(self) -> dict[str, Any]:
        """Every rule and excursion watch as JSON, for `vigil rules` and the API."""
        return {
            "rules": [r.describe() for r in self.rules],
            "excursions": [e.describe() for e in self.excursions],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
