"""Cumulative rules: total time out of range within a sliding window (WHO
PQS: vaccines at or above 10 °C for 20 h in total).

Time is counted sample-and-hold: a reading's verdict stands until the next
reading of the series, for at most `max_gap` (silence is not evidence).
Out-of-range time is kept as merged [start, end) segments, trimmed as the
window slides, so each reading costs O(1) amortised and the state stays as
small as the number of separate excursions in the window.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import CumulativeParams, RuleSpec
from alerts.rules.wording import bounds_text, duration, metric_words, ns, quantity


class CumulativeRule(RuleEvaluator):
    """A `CumulativeParams` rule on one sensor's metric."""

    __slots__ = ("budget", "high", "inclusive", "low", "prev_out", "prev_ts", "segments", "total", "window")

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, CumulativeParams)
        self.low, self.high, self.inclusive = p.low, p.high, p.inclusive
        self.budget = ns(p.budget)
        self.window = ns(p.window)
        self.prev_ts = 0
        self.prev_out = False
        self.segments: deque[list[int]] = deque()  # [start, end) out of range, oldest first
        self.total = 0  # ns out of range within the window

    def _out(self, value: float) -> bool:
        high, low = self.high, self.low
        if self.inclusive:
            return (high is not None and value >= high) or (low is not None and value <= low)
        return (high is not None and value > high) or (low is not None and value < low)

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        segments = self.segments
        if self.prev_out and self.prev_ts:
            held = min(ts - self.prev_ts, self.gap)
            start, end = self.prev_ts, self.prev_ts + held
            if segments and segments[-1][1] == start:
                segments[-1][1] = end
            else:
                segments.append([start, end])
            self.total += held
        now_out = self._out(float(value))
        self.prev_ts, self.prev_out = ts, now_out
        if not segments and self.alarm.phase == IDLE:
            return  # nothing counted in the window, nothing open
        horizon = ts - self.window
        while segments and segments[0][1] <= horizon:
            first = segments.popleft()
            self.total -= first[1] - first[0]
        if segments and segments[0][0] < horizon:
            self.total -= horizon - segments[0][0]
            segments[0][0] = horizon
        emit = self.alarm.step(self.total >= self.budget, ts, 0, self.hold, self.gap)
        if emit is not None:
            out.append(self._transition(emit, value, ts))

    def reset(self, ts: int, out: list[Output]) -> None:
        """Forget the time counted so far (new stock after a disposition)."""
        self.segments.clear()
        self.total = 0
        if self.alarm.force_resolve():
            out.append(self._transition(AlertState.RESOLVED, None, ts, reset=True))

    def _transition(self, state: AlertState, value: Value | None, ts: int, reset: bool = False) -> Output:
        spec, unit = self.voice.spec, self.voice.unit
        bounds = bounds_text(self.low, self.high, unit, self.inclusive)
        limit = f"{bounds} for {duration(self.budget)} in total within {duration(self.window)}"
        details = {"total_s": self.total / 1e9, "budget_s": self.budget / 1e9, "window_s": self.window / 1e9}
        metric = metric_words(spec.metric or "")
        if reset:
            what = f"{metric}: time {bounds} counted again from zero (stock replaced)"
        elif state is AlertState.RESOLVED:
            what = f"{metric}: time {bounds} back under {duration(self.budget)} within {duration(self.window)}"
        else:
            what = f"{metric} {limit}: {duration(self.total)} so far"
            if value is not None:
                what += f", now {quantity(float(value), unit)}"
            if spec.source:
                what += f", {spec.source}"
        shown = None if value is None else round(float(value), 3)
        return self.voice.say(state, ts, what, value=shown, limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s.update(prev=[self.prev_ts, self.prev_out], segments=[list(seg) for seg in self.segments], total=self.total)
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        prev_ts, prev_out = state["prev"]
        self.prev_ts, self.prev_out = int(prev_ts), bool(prev_out)
        self.segments = deque([int(a), int(b)] for a, b in state["segments"])
        self.total = int(state["total"])
