"""Rate-of-change rules: a value falling faster than N units per minute
(an oxygen line losing pressure: a shut zone valve, a broken pipe), seen
before the pressure crosses the area alarm limit.

The fall is measured over a window (one minute by default) against the
newest reading at or before the window's start, so one noisy sample or a
short demand dip does not count, and a short span is never extrapolated:
the fall is divided by at least the whole window. Like a gas area alarm the
rule latches: it clears only once the fall has stopped and the value is back
at the threshold's low limit.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import RateOfChangeParams, RuleSpec
from alerts.rules.wording import NS_PER_MIN, duration, metric_words, ns, quantity


class RateOfChangeRule(RuleEvaluator):
    """A `RateOfChangeParams` rule on one sensor's metric."""

    __slots__ = ("drop", "last_drop", "recent", "recovered_at", "window")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, RateOfChangeParams)
        self.drop = p.drop_per_minute
        self.window = ns(p.window)
        self.recovered_at = p.recovered_at
        self.recent: deque[tuple[int, float]] = deque()  # (ts, value), oldest first
        self.last_drop = 0.0  # per minute, at the last reading

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        recent = self.recent
        v = float(value)
        if recent and ts - recent[-1][0] > self.gap:
            recent.clear()  # after silence there is no "before" to compare with
        recent.append((ts, v))
        horizon = ts - self.window
        while len(recent) > 2 and recent[1][0] <= horizon:
            recent.popleft()
        t0, v0 = recent[0]
        span = ts - t0
        if span <= 0:
            return
        drop = (v0 - v) * NS_PER_MIN / max(span, self.window)
        self.last_drop = drop
        cond: bool | None
        if drop >= self.drop:
            cond = True
        elif self.alarm.phase == IDLE:
            return
        elif drop < self.drop / 2 and (self.recovered_at is None or v >= self.recovered_at):
            cond = False
        else:
            cond = None
        emit = self.alarm.step(cond, ts, 0, self.hold, self.gap)
        if emit is not None:
            out.append(self._transition(emit, v, ts))

    def _transition(self, state: AlertState, value: float, ts: int) -> Output:
        spec, unit = self.voice.spec, self.voice.unit
        per_min = f"{unit}/min" if unit else "/min"
        limit = f"falling faster than {quantity(self.drop, per_min)} over {duration(self.window)}"
        metric = metric_words(spec.metric or "")
        if state is AlertState.RESOLVED:
            what = f"{metric} steady again: {quantity(value, unit)}"
        else:
            what = f"{metric} dropping {quantity(self.last_drop, per_min)}: {quantity(value, unit)} (sudden drop)"
        details = {"drop_per_minute": round(self.last_drop, 3), "recovered_at": self.recovered_at}
        return self.voice.say(state, ts, what, value=round(value, 3), limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["recent"] = [list(p) for p in self.recent]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        self.recent = deque((int(t), float(v)) for t, v in state["recent"])
