"""What the rules engine tells the alert store: the types both sides share.

The rules engine (alerts/rules/) is pure: readings and gateway statuses go in
(judged in event time, the readings' own timestamps), `Transition`s and
`ExcursionEvent`s come out. The alert store (alerts/store/) turns transitions
into alerts with a lifecycle, audit trail, silences, inhibition,
notifications, escalation and work orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vigil.profiles import Severity


class RuleKind(StrEnum):
    THRESHOLD = "threshold"  # out of [low, high] for longer than the alarm delay, with a clear band
    CUMULATIVE = "cumulative"  # total time out of range within a window (WHO: >= 10 °C for 20 h in total)
    RATE_OF_CHANGE = "rate_of_change"  # faster than X per minute (a sudden pressure drop)
    NO_DATA = "no_data"  # no reading for longer than expected (wall clock)
    GATEWAY_OFFLINE = "gateway_offline"  # status topic says offline, or the last will fired
    STUCK = "stuck"  # exactly the same value for too long (a probe that sticks)
    NIGHT_FLOW = "night_flow"  # water flow never reaches zero during the night: a leak
    COUNTER_STALLED = "counter_stalled"  # meter not advancing while it should
    PREDICTED_CROSSING = "predicted_crossing"  # trend says the limit will be crossed by a date (UV lamp)
    COMBINATION = "combination"


class AlertState(StrEnum):
    PENDING = "pending"  # condition true, alarm delay still running
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"  # set by people, never by the engine
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Transition:
    """A rule's condition changed for one sensor. `state` is PENDING, FIRING
    or RESOLVED. One open alert exists per (rule_id, sensor)."""

    rule_id: str  # stable across restarts, e.g. "vac-fridge-1-temp/temperature/threshold"
    rule_kind: RuleKind
    sensor: str  # or the gateway id for GATEWAY_OFFLINE
    asset: str
    metric: str | None
    state: AlertState
    at_ns: int  # event time: the reading's ts (wall clock for NO_DATA / GATEWAY_OFFLINE)
    severity: Severity
    summary: str  # one line a person understands: "Vaccine fridge 1 above 8.0 °C for 15 min"
    value: float | bool | None = None
    limit: str | None = None  # "> 8.0 °C for 15 min"
    since_ns: int | None = None  # when the condition first became true
    details: dict[str, Any] = field(default_factory=dict)
    work_order: str | None = None  # a maintenance problem code to open an order for, e.g. "replace_uv_lamp"


@dataclass(frozen=True, slots=True)
class ExcursionEvent:
    """A cold-chain excursion opened, updated or closed (a record of its own)."""

    sensor: str
    asset: str
    product: str | None
    started_ns: int
    ended_ns: int | None  # None while it lasts
    peak: float  # the most extreme temperature, °C
    minutes_out_of_range: float
    mean_kinetic_temperature: float | None  # °C, over the excursion, ΔH = 83.144 kJ/mol
    low: float | None
    high: float | None
