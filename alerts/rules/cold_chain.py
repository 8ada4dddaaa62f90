"""Cold chain: excursion records, and the door left open while the
temperature is out of range.

An excursion is a record of its own (not an alert): it opens at the first
reading outside the sensor's limits, with no alarm delay, and closes once
the temperature has been back inside for the resolve hold, with its end at
the return. A return shorter than the hold does not split the excursion.
Minutes out of range are counted sample-and-hold (a reading's verdict
stands until the next one, for at most `max_gap`); the peak is the reading
furthest outside; MKT (USP <1160>) is over the readings from the start to
the return. An open excursion is re-sent at most every `update_every`.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState, ExcursionEvent
from alerts.rules.base import Evaluator, Output, RuleEvaluator, Value, Voice
from alerts.rules.damping import IDLE
from alerts.rules.mkt import arrhenius_weight, mkt_from_weights
from alerts.rules.spec import DoorAndTemperatureParams, ExcursionSpec, RuleSpec
from alerts.rules.wording import bounds_text, duration, metric_words, ns, quantity


class ExcursionWatch(Evaluator):
    """Excursion records for one temperature series (`ExcursionSpec`)."""

    __slots__ = (
        "closing_since", "count", "gap", "high", "hold", "is_open", "last_update", "low", "out_ns", "peak", "peak_by",
        "prev_out", "prev_ts", "spec", "started", "tail_count", "tail_weight", "update_every", "weight",
    )  # fmt: skip

    def __init__(self, spec: ExcursionSpec) -> None:
        super().__init__(spec.id)
        self.spec = spec
        self.low, self.high = spec.low, spec.high
        self.update_every = ns(spec.update_every)
        self.hold = ns(spec.resolve_hold)
        self.gap = ns(spec.max_gap)
        self.is_open = False
        self.prev_ts = 0
        self.prev_out = False
        self._reset()

    def _reset(self) -> None:
        self.started = 0
        self.peak = 0.0
        self.peak_by = 0.0  # how far outside the limits the peak is
        self.out_ns = 0
        self.count = 0  # readings in the MKT
        self.weight = 0.0  # their sum of Arrhenius weights
        self.closing_since: int | None = None
        self.tail_count = 0  # readings back inside while closing: part of the MKT only if it re-opens
        self.tail_weight = 0.0
        self.last_update = 0

    def _outside_by(self, v: float) -> float:
        if self.high is not None and v > self.high:
            return v - self.high
        if self.low is not None and v < self.low:
            return self.low - v
        return 0.0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        v = float(value)
        by = self._outside_by(v)
        if not self.is_open:
            self.prev_ts, self.prev_out = ts, by > 0.0
            if by <= 0.0:
                return
            self.is_open = True
            self._reset()
            self.started, self.peak, self.peak_by, self.last_update = ts, v, by, ts
            self.count, self.weight = 1, arrhenius_weight(v)
            out.append(self._event(None))
            return
        if self.prev_out:
            self.out_ns += min(ts - self.prev_ts, self.gap)
        self.prev_ts, self.prev_out = ts, by > 0.0
        if by > 0.0:
            if self.closing_since is not None:
                self.count += self.tail_count
                self.weight += self.tail_weight
                self.closing_since, self.tail_count, self.tail_weight = None, 0, 0.0
            self.count += 1
            self.weight += arrhenius_weight(v)
            if by > self.peak_by:
                self.peak, self.peak_by = v, by
        else:
            if self.closing_since is None:
                self.closing_since = ts
            if ts - self.closing_since >= self.hold:
                out.append(self._event(self.closing_since))
                self.is_open = False
                self._reset()
                return
            self.tail_count += 1
            self.tail_weight += arrhenius_weight(v)
            return
        if ts - self.last_update >= self.update_every:
            self.last_update = ts
            out.append(self._event(None))

    def _event(self, ended: int | None) -> ExcursionEvent:
        spec = self.spec
        return ExcursionEvent(
            sensor=spec.sensor,
            asset=spec.asset,
            product=spec.product,
            started_ns=self.started,
            ended_ns=ended,
            peak=round(self.peak, 3),
            minutes_out_of_range=self.out_ns / 60e9,
            mean_kinetic_temperature=mkt_from_weights(self.weight, self.count),
            low=self.low,
            high=self.high,
        )

    def state(self) -> dict[str, Any]:
        return {
            "open": self.is_open, "prev": [self.prev_ts, self.prev_out],
            "record": [self.started, self.peak, self.peak_by, self.out_ns, self.count, self.weight, self.closing_since,
                       self.tail_count, self.tail_weight, self.last_update],
        }  # fmt: skip

    def load(self, state: dict[str, Any]) -> None:
        prev_ts, prev_out = state["prev"]
        started, peak, peak_by, out_ns, count, weight, closing, tail_count, tail_weight, last_update = state["record"]
        self.is_open = bool(state["open"])
        self.prev_ts, self.prev_out = int(prev_ts), bool(prev_out)
        self.started, self.peak, self.peak_by, self.out_ns = int(started), float(peak), float(peak_by), int(out_ns)
        self.count, self.weight, self.tail_count, self.tail_weight = (
            int(count),
            float(weight),
            int(tail_count),
            float(tail_weight),
        )
        self.closing_since = None if closing is None else int(closing)
        self.last_update = int(last_update)


OUT, BAND, IN = 2, 1, 0


class DoorAndTemperatureRule(RuleEvaluator):
    """A `DoorAndTemperatureParams` combination: listens to the door and the
    temperature (of one sensor or two of the same asset). Fires at once when
    the door has been open for its delay and the temperature is out of range:
    the cause is known, the fix is to close the door."""

    __slots__ = (
        "clear_high",
        "clear_low",
        "door_after",
        "door_metric",
        "door_open",
        "door_since",
        "high",
        "low",
        "temp",
        "temp_state",
    )

    def __init__(self, spec: RuleSpec, voice: Voice) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, DoorAndTemperatureParams)
        self.door_metric = p.door_metric
        self.door_after = ns(p.door_after)
        self.low, self.high = p.low, p.high
        self.clear_low = None if p.low is None else p.low + p.clear_band
        self.clear_high = None if p.high is None else p.high - p.clear_band
        self.door_open = False
        self.door_since = 0
        self.temp: float | None = None
        self.temp_state = IN

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        if metric == self.door_metric:
            is_open = bool(value)
            if is_open and not self.door_open:
                self.door_since = ts
            self.door_open = is_open
        else:
            v = float(value)
            self.temp = v
            if (self.high is not None and v > self.high) or (self.low is not None and v < self.low):
                self.temp_state = OUT
            elif (self.clear_high is None or v <= self.clear_high) and (self.clear_low is None or v >= self.clear_low):
                self.temp_state = IN
            else:
                self.temp_state = BAND
        cond: bool | None
        if self.door_open and self.temp_state == OUT and ts - self.door_since >= self.door_after:
            cond = True
        elif not self.door_open or self.temp_state == IN:
            cond = False
        else:
            cond = None
        if not cond and self.alarm.phase == IDLE:
            return
        emit = self.alarm.step(cond, ts, 0, self.hold, self.gap)
        if emit is not None:
            out.append(self._transition(emit, ts))

    def _transition(self, state: AlertState, ts: int) -> Output:
        unit = self.voice.unit
        bounds = bounds_text(self.low, self.high, unit)
        limit = f"door open >= {duration(self.door_after)} and temperature {bounds}"
        temp = quantity(self.temp, unit) if self.temp is not None else "unknown"
        if state is AlertState.RESOLVED:
            what = f"door closed or temperature back in range: {temp}"
        else:
            broken = bounds
            if self.temp is not None and self.high is not None and self.temp > self.high:
                broken = bounds_text(None, self.high, unit)
            elif self.temp is not None and self.low is not None and self.temp < self.low:
                broken = bounds_text(self.low, None, unit)
            what = f"{metric_words(self.door_metric)} for {duration(ts - self.door_since)} and temperature {broken}: {temp}, close the door"
        details = {"door_open_since_ns": self.door_since if self.door_open else None}
        value = None if self.temp is None else round(self.temp, 3)
        return self.voice.say(state, ts, what, value=value, limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s["unit"] = [self.door_open, self.door_since, self.temp, self.temp_state]
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        door_open, door_since, temp, temp_state = state["unit"]
        self.door_open, self.door_since, self.temp_state = bool(door_open), int(door_since), int(temp_state)
        self.temp = None if temp is None else float(temp)
