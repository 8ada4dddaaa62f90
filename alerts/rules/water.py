"""Night flow: a building's water use stops for a while every night once its
tanks are full; flow that never reaches zero between 00:00 and 05:00 site
time is a leak (utility leak-detection practice: "a day with no hour of
zero flow").

A night is judged once, by the first reading after it ends, and only if its
readings cover most of it (a meter that was offline proves nothing). A
clean night clears the alarm; there is no further hold, the night is the
damping.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.localtime import LocalClock
from alerts.rules.spec import NightFlowParams, RuleSpec
from alerts.rules.wording import duration, metric_words, ns, quantity

_FOREVER = 1 << 62


class NightFlowRule(RuleEvaluator):
    """A `NightFlowParams` rule on a water meter's flow."""

    __slots__ = ("clock", "end_hour", "first_ts", "last_ts", "lowest", "min_coverage", "night", "saw_zero", "start_hour", "zero")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, NightFlowParams)
        if not 0 <= p.start_hour < p.end_hour <= 24:
            raise ValueError(f"{spec.id}: the night must lie within one local day (start {p.start_hour}, end {p.end_hour})")
        self.clock = LocalClock(p.timezone)
        self.start_hour, self.end_hour = p.start_hour, p.end_hour
        self.min_coverage = ns(p.min_coverage)
        self.zero = p.zero_flow
        self.night: int | None = None  # the local day whose night is being watched
        self.saw_zero = False
        self.first_ts = 0
        self.last_ts = 0
        self.lowest = 0.0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        day, hour = self.clock.day_and_hour(ts)
        v = float(value)
        if self.start_hour <= hour < self.end_hour:
            if self.night != day:
                if self.night is not None:
                    self._judge(ts, out)  # the last night ended without a reading after it
                self.night, self.saw_zero, self.first_ts, self.lowest = day, False, ts, v
            self.last_ts = ts
            if v <= self.zero:
                self.saw_zero = True
            elif v < self.lowest:
                self.lowest = v
        elif self.night is not None:
            self._judge(ts, out)

    def _judge(self, ts: int, out: list[Output]) -> None:
        covered = self.last_ts - self.first_ts >= self.min_coverage
        self.night = None
        if not covered:
            return
        emit = self.alarm.step(not self.saw_zero, ts, 0, 0, _FOREVER)
        if emit is not None:
            out.append(self._transition(emit, ts))

    def _transition(self, state: AlertState, ts: int) -> Output:
        spec, unit = self.voice.spec, self.voice.unit
        window = f"{self.start_hour:02d}:00-{self.end_hour:02d}:00"
        limit = f"no zero {metric_words(spec.metric or '')} {window} local time"
        if state is AlertState.RESOLVED:
            what = f"night flow reached zero again ({window})"
            value = 0.0
        else:
            what = (
                f"night flow never reached zero {window} (lowest {quantity(self.lowest, unit)} "
                f"over {duration(self.last_ts - self.first_ts)}): a leak?"
            )
            value = round(self.lowest, 4)
        details = {"night_from_ns": self.first_ts, "night_to_ns": self.last_ts, "lowest": value}
        return self.voice.say(state, ts, what, value=value, limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["night"] = [self.night, self.saw_zero, self.first_ts, self.last_ts, self.lowest]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        night, saw_zero, first_ts, last_ts, lowest = state["night"]
        self.night = None if night is None else int(night)
        self.saw_zero, self.first_ts, self.last_ts, self.lowest = bool(saw_zero), int(first_ts), int(last_ts), float(lowest)
