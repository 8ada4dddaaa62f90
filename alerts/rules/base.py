"""What every evaluator shares: how it is fed, how it speaks, how its state
is saved.

An evaluator is the running form of one `RuleSpec` (or excursion watch) for
one sensor. The engine feeds it the readings of the (sensor, metric) series
it listens to, in event-time order per series, and it appends what it has to
say to `out`. Feeding must be cheap: no allocation unless something changes.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState, ExcursionEvent, Transition
from alerts.rules.damping import Alarm
from alerts.rules.spec import RuleSpec
from alerts.rules.wording import Place, ns

Output = Transition | ExcursionEvent
Value = float | bool


class Evaluator:
    """Base of every evaluator: `key` names its state in a snapshot."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        """Judge one reading of `metric` at event time `ts`."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """JSON-ready state for a snapshot."""
        raise NotImplementedError

    def load(self, state: dict[str, Any]) -> None:
        """Restore what `state()` returned (may raise on a malformed state)."""
        raise NotImplementedError


class Voice:
    """Says one rule's transitions: which rule, which sensor, where, how bad."""

    __slots__ = ("place", "spec", "unit")

    def __init__(self, spec: RuleSpec, place: Place, unit: str) -> None:
        self.spec = spec
        self.place = place
        self.unit = unit

    def say(
        self,
        state: AlertState,
        at_ns: int,
        what: str,
        *,
        value: float | bool | None = None,
        limit: str | None = None,
        since_ns: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> Transition:
        """A transition whose summary reads "<asset> <what> (<where>)"."""
        spec = self.spec
        merged: dict[str, Any] = dict(self.place.details)
        merged["rule"] = spec.description
        if spec.source:
            merged["source"] = spec.source
        if details:
            merged.update(details)
        return Transition(
            rule_id=spec.id,
            rule_kind=spec.kind,
            sensor=spec.sensor,
            asset=spec.asset,
            metric=spec.metric,
            state=state,
            at_ns=at_ns,
            severity=spec.severity,
            summary=f"{self.place.asset_name} {what} ({self.place.where})",
            value=value,
            limit=limit,
            since_ns=since_ns,
            details=merged,
            work_order=spec.work_order,
        )


class RuleEvaluator(Evaluator):
    """An evaluator with an alarm state machine and the rule's timings."""

    __slots__ = ("alarm", "gap", "hold", "spec", "voice")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec.id)
        self.spec = spec
        self.voice = voice
        self.alarm = Alarm()
        self.hold = ns(spec.resolve_hold)
        self.gap = ns(spec.max_gap)

    def base_state(self) -> dict[str, Any]:
        return {"alarm": self.alarm.state()}

    def load_base(self, state: dict[str, Any]) -> None:
        self.alarm.load(state["alarm"])

    def state(self) -> dict[str, Any]:
        return self.base_state()

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
