"""Counter rules for electricity and water meters: the register (energy,
volume) must advance while the meter's own rate (power, flow) says
something is being used. A register that stops is a stuck meter or a broken
pulse line: consumption goes unbilled and leaks go unseen.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import CounterStalledParams, RuleSpec
from alerts.rules.wording import duration, metric_words, ns, quantity


class CounterStalledRule(RuleEvaluator):
    """A `CounterStalledParams` rule: listens to the counter and its rate.

    Judged on counter readings. The rate must have been above zero on every
    reading since the register last moved; a gap in the rate readings longer
    than `max_gap` starts the count again.
    """

    __slots__ = ("advanced_at", "after", "last_count", "last_rate", "rate_metric", "rate_positive_since", "rate_ts", "rate_unit")

    def __init__(self, spec: RuleSpec, voice: Voice, rate_unit: str) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, CounterStalledParams)
        self.rate_metric = p.rate_metric
        self.rate_unit = rate_unit
        self.after = ns(p.after)
        self.last_count: float | None = None
        self.advanced_at = 0
        self.rate_positive_since: int | None = None
        self.rate_ts = 0
        self.last_rate = 0.0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        v = float(value)
        if metric == self.rate_metric:
            if v > 0.0:
                if self.rate_positive_since is None or ts - self.rate_ts > self.gap:
                    self.rate_positive_since = ts
            else:
                self.rate_positive_since = None
            self.rate_ts, self.last_rate = ts, v
            return
        advanced = self.last_count is None or v != self.last_count  # a reset (new meter) counts as moving
        if advanced:
            self.last_count, self.advanced_at = v, ts
        since = self.rate_positive_since
        cond: bool | None
        if advanced or since is None:
            cond = False
        elif ts - max(self.advanced_at, since) >= self.after:
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
        counter, rate = metric_words(spec.metric or ""), metric_words(self.rate_metric)
        limit = f"{counter} unchanged for {duration(self.after)} while {rate} > 0"
        if state is AlertState.RESOLVED:
            what = f"{counter} register advancing again: {quantity(value, unit)}"
        else:
            what = (
                f"{counter} register stuck at {quantity(value, unit)} for {duration(ts - self.advanced_at)} "
                f"while {rate} is {quantity(self.last_rate, self.rate_unit)}: check the meter"
            )
        details = {"unchanged_since_ns": self.advanced_at, "rate": self.last_rate, "rate_metric": self.rate_metric}
        return self.voice.say(state, ts, what, value=value, limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["counter"] = [self.last_count, self.advanced_at, self.rate_positive_since, self.rate_ts, self.last_rate]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        last, advanced_at, since, rate_ts, rate = state["counter"]
        self.last_count = None if last is None else float(last)
        self.advanced_at, self.rate_ts, self.last_rate = int(advanced_at), int(rate_ts), float(rate)
        self.rate_positive_since = None if since is None else int(since)
