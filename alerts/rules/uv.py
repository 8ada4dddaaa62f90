"""UV-C lamps: intensity means something only while the lamp is on and
warmed up (WS/T 367-2012 measures after 5 min), and its slow decline with
age predicts when the lamp must be replaced.

`LampWatch` is the gate the intensity rules consult. `PredictedCrossing`
fits a straight line through one point per lamp cycle (mean warmed-up
intensity against burn hours, or time when the sensor reports no burn
hours) and says when it will fall below the in-use limit.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

from alerts.model import AlertState
from alerts.rules.base import Evaluator, Output, RuleEvaluator, Value, Voice
from alerts.rules.defaults import UV_CYCLE_GAP, UV_TREND_BREAK
from alerts.rules.spec import LampGate, PredictedCrossingParams, RuleSpec
from alerts.rules.wording import NS_PER_DAY, NS_PER_HOUR, duration, ns, quantity

_FOREVER = 1 << 62


class LampWatch(Evaluator):
    """Whether a lamp is on and past its warm-up, from its lamp state
    readings (or, without them, from runs of intensity readings).

    It sees the lamp state reported before the intensity it gates: a sensor
    that sends both in one sample has its first intensity of a cycle judged
    against the previous state, which the warm-up makes harmless.
    """

    __slots__ = ("cycle_gap", "lamp_metric", "last_ts", "on_since", "warm_up")

    def __init__(self, key: str, gate: LampGate) -> None:
        super().__init__(key)
        self.lamp_metric = gate.lamp_metric
        self.warm_up = ns(gate.warm_up)
        self.cycle_gap = ns(UV_CYCLE_GAP)
        self.on_since: int | None = None
        self.last_ts = 0

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        if self.lamp_metric is not None:
            if value:
                if self.on_since is None:
                    self.on_since = ts
            else:
                self.on_since = None
        elif self.on_since is None or ts - self.last_ts > self.cycle_gap:
            self.on_since = ts  # the first intensity reading of a cycle
        self.last_ts = ts

    def judging(self, ts: int) -> bool:
        """Whether a reading at `ts` is taken with the lamp on and warmed up."""
        on = self.on_since
        return on is not None and ts - on >= self.warm_up

    def state(self) -> dict[str, Any]:
        return {"on_since": self.on_since, "last_ts": self.last_ts}

    def load(self, state: dict[str, Any]) -> None:
        on = state["on_since"]
        self.on_since = None if on is None else int(on)
        self.last_ts = int(state["last_ts"])


class PredictedCrossing(RuleEvaluator):
    """Plan a lamp replacement when the intensity trend will cross the limit soon.

    A cycle is closed (its mean becomes a point of the fit) by the first
    warmed-up reading of the next cycle, so the prediction is judged once
    per cycle, at that reading's time. A cycle mean that jumps by more than
    15% (a new lamp, a cleaned sensor, a failed tube) starts a new trend,
    as does burn hours going backwards (a new lamp's counter). A new lamp or
    a cleaned sensor above the limit clears a planned replacement at once.
    """

    __slots__ = (
        "age_metric", "clear_horizon", "cyc_last_ts", "cyc_n", "cyc_sum", "cyc_x", "fit_window", "gate", "horizon",
        "last_age", "limit", "min_points", "min_span", "points", "prediction", "renewed",
    )  # fmt: skip

    def __init__(self, spec: RuleSpec, voice: Voice, gate: LampWatch) -> None:
        super().__init__(spec, voice)
        p = spec.params
        assert isinstance(p, PredictedCrossingParams)
        self.gate = gate
        self.limit = p.limit
        self.horizon = ns(p.horizon)
        self.clear_horizon = ns(p.clear_horizon)
        self.fit_window = ns(p.fit_window)
        self.min_points = p.min_points
        self.min_span = ns(p.min_span)
        self.age_metric = p.age_metric
        self.points: deque[tuple[int, float, float]] = deque()  # (cycle end ns, age or hours, mean intensity)
        self.cyc_n = 0
        self.cyc_sum = 0.0
        self.cyc_last_ts = 0
        self.cyc_x = 0.0
        self.last_age: float | None = None
        self.prediction: tuple[int, float] | None = None  # (crossing ns, slope per x unit)
        self.renewed = False  # a new lamp or a cleaned sensor since the last cycle

    def feed(self, metric: str, value: Value, ts: int, out: list[Output]) -> None:
        if metric == self.age_metric:
            age = float(value)
            if self.last_age is not None and age < self.last_age - 1.0:
                self.points.clear()  # a new lamp: its counter starts again
                self.cyc_n = 0
                self.renewed = True
            self.last_age = age
            return
        if not self.gate.judging(ts):
            return
        if self.cyc_n and ts - self.cyc_last_ts > self.gate.cycle_gap:
            self._close_cycle(ts, out)
        self.cyc_n += 1
        self.cyc_sum += float(value)
        self.cyc_last_ts = ts
        if self.age_metric is None:
            self.cyc_x = ts / NS_PER_HOUR
        elif self.last_age is not None:
            self.cyc_x = self.last_age

    def _close_cycle(self, now: int, out: list[Output]) -> None:
        y = self.cyc_sum / self.cyc_n
        point = (self.cyc_last_ts, self.cyc_x, y)
        self.cyc_n, self.cyc_sum = 0, 0.0
        points = self.points
        if self.age_metric is not None and self.last_age is None:
            return  # no burn hours yet: nothing to place the point at
        if points and abs(y - points[-1][2]) > UV_TREND_BREAK * max(points[-1][2], 1e-9):
            self.renewed = y > points[-1][2]  # up: new lamp or clean window; down: a failure, not ageing
            points.clear()
        points.append(point)
        while points and points[0][0] < now - self.fit_window:
            points.popleft()
        cond = self._judge(now)
        if cond is None and self.renewed and y > self.limit:
            cond = False  # the planned replacement has been done: no trend yet, but well above the limit
        self.renewed = False
        alarm = self.alarm
        emit = alarm.step(cond, now, 0, self.hold, _FOREVER)
        if emit is not None:
            out.append(self._transition(emit, now, y))

    def _judge(self, now: int) -> bool | None:
        """True: crossing within the horizon; False: beyond the clear horizon
        or no decline; None: not enough data, or in between (keep the verdict)."""
        points = self.points
        n = len(points)
        if n < self.min_points or points[-1][0] - points[0][0] < self.min_span:
            self.prediction = None
            return None
        mx = sum(p[1] for p in points) / n
        my = sum(p[2] for p in points) / n
        sxx = sum((p[1] - mx) ** 2 for p in points)
        sxy = sum((p[1] - mx) * (p[2] - my) for p in points)
        if sxx <= 0.0:
            self.prediction = None
            return None
        slope = sxy / sxx
        if slope >= 0.0:
            self.prediction = None
            return False
        x_cross = mx + (self.limit - my) / slope
        t_last, x_last = points[-1][0], points[-1][1]
        if self.age_metric is None:
            remaining_ns = (x_cross - x_last) * NS_PER_HOUR
        else:
            t_first, x_first = points[0][0], points[0][1]
            per_ns = (x_last - x_first) / (t_last - t_first)  # burn hours per ns of calendar time
            if per_ns <= 0.0:
                self.prediction = None
                return None
            remaining_ns = (x_cross - x_last) / per_ns
        crossing = t_last + int(max(-1e18, min(1e18, remaining_ns)))
        self.prediction = (crossing, slope)
        left = crossing - now
        if left <= self.horizon:
            return True
        if left > self.clear_horizon:
            return False
        return None

    def _transition(self, state: AlertState, now: int, level: float) -> Output:
        unit = self.voice.unit
        limit = f"< {quantity(self.limit, unit)} within {duration(self.horizon)}"
        details: dict[str, Any] = {"points": len(self.points)}
        if self.prediction is not None:
            crossing, slope = self.prediction
            details.update(
                predicted_crossing_ns=crossing,
                days_left=round((crossing - now) / NS_PER_DAY, 1),
                slope_per_burn_hour=slope if self.age_metric is not None else None,
                slope_per_hour=slope if self.age_metric is None else None,
            )
        if state is AlertState.RESOLVED:
            what = (
                f"intensity no longer predicted to fall below {quantity(self.limit, unit)} within {duration(self.clear_horizon)}"
            )
        elif self.prediction is not None:
            crossing = self.prediction[0]
            day = datetime.fromtimestamp(crossing / 1e9, UTC).date().isoformat()
            days = max(0.0, (crossing - now) / NS_PER_DAY)
            what = (
                f"intensity predicted to fall below {quantity(self.limit, unit)} around {day} "
                f"(in {days:.0f} days, now {quantity(level, unit)}): plan a lamp replacement"
            )
        else:
            what = f"intensity trend close to {quantity(self.limit, unit)}: plan a lamp replacement"
        return self.voice.say(state, now, what, value=round(level, 2), limit=limit, since_ns=self.alarm.since, details=details)

    def state(self) -> dict[str, Any]:
        s = self.base_state()
        s.update(
            points=[list(p) for p in self.points], cyc=[self.cyc_n, self.cyc_sum, self.cyc_last_ts, self.cyc_x],
            last_age=self.last_age, renewed=self.renewed,
        )  # fmt: skip
        return s

    def load(self, state: dict[str, Any]) -> None:
        self.load_base(state)
        self.points = deque((int(t), float(x), float(y)) for t, x, y in state["points"])
        n, total, last_ts, x = state["cyc"]
        self.cyc_n, self.cyc_sum, self.cyc_last_ts, self.cyc_x = int(n), float(total), int(last_ts), float(x)
        age = state["last_age"]
        self.last_age = None if age is None else float(age)
        self.renewed = bool(state["renewed"])
