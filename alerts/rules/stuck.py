"""Stuck-sensor rules: a numeric value repeated exactly, for long enough and
often enough, is a probe or transmitter that has stopped measuring. Real
plant fluctuates at the resolution these sensors report (a fridge cycles
every 20-30 minutes). Exactly zero is a rest state (no flow, no load, no
supply), never "stuck". Silence longer than `max_gap` starts a new run.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import RuleSpec, StuckParams
from alerts.rules.wording import duration, metric_words, ns, quantity


class StuckRule(RuleEvaluator):
    """A `StuckParams` rule on one sensor's metric."""

    __slots__ = ("after", "count", "last", "last_ts", "min_readings", "run_since")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, StuckParams)
        self.after = ns(p.after)
        self.min_readings = p.min_readings
        self.last: float | None = None
        self.last_ts = 0
        self.run_since = 0
        self.count = 0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        v = float(value)
        if v == self.last and ts - self.last_ts <= self.gap:
            self.count += 1
        else:
            self.last, self.run_since, self.count = v, ts, 1
        self.last_ts = ts
        cond: bool | None
        if self.count == 1 or v == 0.0:
            cond = False
        elif self.count >= self.min_readings and ts - self.run_since >= self.after:
            cond = True
        else:
            cond = None
        if not cond and self.alarm.phase == IDLE:
            return
        emit = self.alarm.step(cond, ts, 0, self.hold, self.gap)
        if emit is not None:
            out.append(self._transition(emit, v, ts))

    def _transition(self, state: AlertState, value: float, ts: int) -> Output:
        spec, unit = self.voice.spec, self.voice.unit
        metric = metric_words(spec.metric or "")
        limit = f"unchanged for {duration(self.after)}"
        if state is AlertState.RESOLVED:
            what = f"{metric} sensor changing again: {quantity(value, unit)}"
        else:
            what = (
                f"{metric} sensor stuck at {quantity(value, unit)} for {duration(ts - self.run_since)} "
                f"({self.count} identical readings): check the probe"
            )
        details = {"identical_readings": self.count, "stuck_since_ns": self.run_since}
        return self.voice.say(state, ts, what, value=value, limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["run"] = [self.last, self.last_ts, self.run_since, self.count]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        last, last_ts, run_since, count = state["run"]
        self.last = None if last is None else float(last)
        self.last_ts, self.run_since, self.count = int(last_ts), int(run_since), int(count)
