"""Threshold rules: out of range (or a boolean in its alarm state) for
longer than the alarm delay, cleared with hysteresis.

Numeric readings are judged three ways: beyond a limit (out), back inside by
the clear band (in), or in between (the band: the last verdict stands, so a
value hovering at 8.0 °C neither clears nor restarts the alarm).
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.spec import RuleSpec, ThresholdParams
from alerts.rules.uv import LampWatch
from alerts.rules.wording import bounds_text, duration, metric_words, ns, number, quantity

ABOVE = 1
BELOW = -1


class ThresholdRule(RuleEvaluator):
    """A `ThresholdParams` rule on one sensor's metric, optionally gated by a lamp."""

    __slots__ = ("alarm_when", "clear_high", "clear_low", "delay", "gate", "high", "inclusive", "low", "side", "worst")

    def __init__(self, spec: RuleSpec, voice: Voice, gate: LampWatch | None = None) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, ThresholdParams)
        self.low, self.high, self.alarm_when, self.inclusive = p.low, p.high, p.alarm_when, p.inclusive
        self.clear_low = None if p.low is None else p.low + p.clear_band
        self.clear_high = None if p.high is None else p.high - p.clear_band
        self.delay = ns(p.delay)
        self.gate = gate
        self.side = 0  # which limit the current episode broke
        self.worst: float | None = None  # the most extreme value of the episode

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        gate = self.gate
        if gate is not None and not gate.judging(ts):
            return
        cond: bool | None
        side = 0
        if self.alarm_when is not None:
            cond = bool(value) is self.alarm_when
        else:
            high, low = self.high, self.low
            if high is not None and (value > high or (self.inclusive and value == high)):
                cond, side = True, ABOVE
            elif low is not None and (value < low or (self.inclusive and value == low)):
                cond, side = True, BELOW
            elif (self.clear_high is None or value <= self.clear_high) and (self.clear_low is None or value >= self.clear_low):
                cond = False
            else:
                cond = None
        alarm = self.alarm
        if alarm.phase == IDLE:
            if not cond:
                return  # the common case: in range, nothing open
            self.side, self.worst = side, None
        if side and self.alarm_when is None:
            worst = self.worst
            v = float(value)
            if worst is None or (v > worst if side == ABOVE else v < worst):
                self.worst = v
        clearing = alarm.clear_since
        emit = alarm.step(cond, ts, self.delay, self.hold, self.gap)
        if emit is not None:
            out.append(self._transition(emit, value, ts, ts if clearing is None else clearing))

    def _limit_text(self) -> str:
        spec, unit = self.voice.spec, self.voice.unit
        for_delay = f" for {duration(self.delay)}" if self.delay else ""
        if self.alarm_when is not None:
            what = metric_words(spec.metric or "") if self.alarm_when else f"not {metric_words(spec.metric or '')}"
            return f"{what}{for_delay}"
        if self.side == ABOVE and self.high is not None:
            return f"{'>=' if self.inclusive else '>'} {quantity(self.high, unit)}{for_delay}"
        if self.side == BELOW and self.low is not None:
            return f"{'<=' if self.inclusive else '<'} {quantity(self.low, unit)}{for_delay}"
        return f"{bounds_text(self.low, self.high, unit, self.inclusive)}{for_delay}"

    def _breach_words(self) -> str:
        unit = self.voice.unit
        if self.side == ABOVE and self.high is not None:
            return bounds_text(None, self.high, unit, self.inclusive)
        if self.side == BELOW and self.low is not None:
            return bounds_text(self.low, None, unit, self.inclusive)
        return bounds_text(self.low, self.high, unit, self.inclusive)

    def _inside_words(self) -> str:
        unit, low, high = self.voice.unit, self.low, self.high
        if low is not None and high is not None:
            return f"within {number(low)}-{quantity(high, unit)}"
        if high is not None:
            return f"{'below' if self.inclusive else 'at or below'} {quantity(high, unit)}"
        if low is not None:
            return f"{'above' if self.inclusive else 'at or above'} {quantity(low, unit)}"
        return "in range"

    def _transition(self, state: AlertState, value: Value, ts: int, cleared_ns: int) -> Output:
        spec, unit = self.voice.spec, self.voice.unit
        metric = metric_words(spec.metric or "")
        details: dict[str, Any] = {"delay_s": self.delay / 1e9}
        note = f", {spec.source}" if spec.variant and spec.source else ""
        if self.alarm_when is not None:
            shown: float | bool = bool(value)
            if state is AlertState.PENDING:
                what = f"{metric}: alarm if still so after {duration(self.delay)}"
            elif state is AlertState.FIRING:
                what = f"{self._limit_text()}{note}"
            else:
                what = "door closed" if spec.metric == "door_open" else f"{metric} back to normal"
        else:
            shown = round(float(value), 3)
            now = quantity(float(value), unit)
            if self.worst is not None:
                details["worst"] = self.worst
            if state is AlertState.PENDING:
                what = f"{metric} {self._breach_words()}: {now}, alarm after {duration(self.delay)}{note}"
            elif state is AlertState.FIRING:
                held = f" for {duration(self.delay)}" if self.delay else ""
                extreme = ""
                if self.worst is not None and round(self.worst, 2) != round(float(value), 2):
                    extreme = f", {'highest' if self.side == ABOVE else 'lowest'} {quantity(self.worst, unit)}"
                what = f"{metric} {self._breach_words()}{held}: now {now}{extreme}{note}"
                if spec.work_order:
                    what += f": {spec.work_order.replace('_', ' ')}"
            else:
                what = f"{metric} back {self._inside_words()}: {now}"
        if state is AlertState.RESOLVED:
            details["cleared_ns"] = cleared_ns
        return self.voice.say(state, ts, what, value=shown, limit=self._limit_text(), since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["side"], s["worst"] = self.side, self.worst
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        self.side = int(state["side"])
        worst = state["worst"]
        self.worst = None if worst is None else float(worst)
