"""Medical gases: pipeline zones (oxygen, medical air, nitrous oxide), the
vacuum system and the bulk liquid-oxygen tank.

A pipeline holds its regulator's pressure, drooping a little with demand;
large simultaneous draws and cylinder-bank changeovers give brief dips. The
vacuum plant's duplex pumps cycle between cut-in and cut-out while suction
use bleeds the vacuum away. The LOX tank empties with use and is refilled by
a tanker that comes after the reorder level is passed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

from simulators.plant import Plant, Value, ar1, limit_bounds
from simulators.site_time import NS_PER_HOUR, NS_PER_S, SiteClock, hospital_activity
from vigil.kinds import SensorKind
from vigil.profiles import Limits

DEFAULT_LINE_KPA = 400.0


class GasPipeline(Plant):
    """A compressed-gas pipeline zone; pressure in kPa gauge. Faults:
    `slow-leak` (rate_pct_per_h of nominal, default 6), `regulator-failure`
    (fails open: rise_pct above the setting, default 35), `sudden-drop`
    (pressure falls to `remaining` of nominal, default 0.3: a valve shut or a
    pipe broken)."""

    kind = SensorKind.MEDICAL_GAS
    step_s = 10.0
    interval_s = 10.0
    measures = frozenset({"pressure"})
    faults_known = frozenset({"slow-leak", "regulator-failure", "sudden-drop"})

    LAG_TAU_S = 10.0  # the pipe's volume smooths every change
    DEMAND_DROOP = 0.02  # of the setting, at full daytime demand
    DIPS_PER_HOUR = 0.5  # large simultaneous draws (busy theatres, ward rounds)
    CHANGEOVER_DIP = 0.09

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        nominal: float | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        lim = limits.get("pressure")
        low, high = limit_bounds(limits, "pressure")
        if nominal is None:
            nominal = lim.nominal if lim is not None and lim.nominal is not None else None
        if nominal is None:
            nominal = (low + high) / 2 if low is not None and high is not None else DEFAULT_LINE_KPA
        self.nominal = nominal
        self.setting = nominal * rng.uniform(1.0, 1.03)  # regulators are set a touch above nominal
        self.pressure = self.setting
        self._alpha = 1.0 - math.exp(-self.step_s / self.LAG_TAU_S)
        self._wander = 0.0
        self._dip_depth = 0.0
        self._dip_ends_ns = 0
        self._next_changeover_ns = start_ns + int(rng.uniform(6.0, 72.0) * NS_PER_HOUR)
        self._changeover_ends_ns = 0

    def _step(self, t_ns: int, dt_s: float) -> None:
        rng, faults = self.rng, self.faults.active
        activity = hospital_activity(self.clock.hour(t_ns), self.clock.weekday(t_ns))
        target = self.setting * (1.0 - self.DEMAND_DROOP * activity)

        if t_ns >= self._dip_ends_ns:
            self._dip_depth = 0.0
            if rng.random() < self.DIPS_PER_HOUR * (0.2 + activity) * dt_s / 3600.0:
                self._dip_depth = rng.uniform(0.03, 0.06)
                self._dip_ends_ns = t_ns + int(rng.uniform(10.0, 40.0) * NS_PER_S)
        if t_ns >= self._next_changeover_ns:
            # The duty cylinder bank is empty; the manifold switches to the reserve bank.
            self._changeover_ends_ns = t_ns + int(rng.uniform(20.0, 40.0) * NS_PER_S)
            self._next_changeover_ns = t_ns + int(rng.uniform(24.0, 72.0) * NS_PER_HOUR)
        target -= self.setting * self._dip_depth
        if t_ns < self._changeover_ends_ns:
            target -= self.setting * self.CHANGEOVER_DIP

        if faults:
            if (leak := faults.get("slow-leak")) is not None:
                target -= self.nominal * leak.number("rate_pct_per_h", 6.0) / 100.0 * leak.hours_active(t_ns)
            if (regulator := faults.get("regulator-failure")) is not None:
                target = self.setting * (1.0 + regulator.number("rise_pct", 35.0) / 100.0)
            if (drop := faults.get("sudden-drop")) is not None:
                target = min(target, self.nominal * drop.number("remaining", 0.3))
        self._wander = ar1(self._wander, rng, 0.9, 0.002)
        target = max(0.0, target * (1.0 + self._wander))
        self.pressure += (target - self.pressure) * self._alpha

    def value(self, metric: str, t_ns: int) -> Value | None:
        return self.pressure if metric == "pressure" else None


class VacuumLine(Plant):
    """The medical vacuum system; `vacuum` in kPa below atmosphere. Fault:
    `pump-failure` (both pumps stop; suction use bleeds the vacuum away)."""

    kind = SensorKind.MEDICAL_GAS
    step_s = 10.0
    interval_s = 10.0
    measures = frozenset({"vacuum"})
    faults_known = frozenset({"pump-failure"})

    CUT_IN = 62.0  # lead pump starts
    LAG_CUT_IN = 57.0  # lag pump joins under heavy use
    CUT_OUT = 72.0
    PUMP_RATE = 5.0  # kPa/min per pump
    SURGES_PER_HOUR = 0.6

    def __init__(self, rng: random.Random, start_ns: int, clock: SiteClock, limits: Mapping[str, Limits]) -> None:
        super().__init__(rng, start_ns, clock, limits)
        self.vacuum = rng.uniform(self.CUT_IN, self.CUT_OUT)
        self.pumps_running = 0
        self._surge = 0.0
        self._surge_ends_ns = 0

    def _step(self, t_ns: int, dt_s: float) -> None:
        rng = self.rng
        activity = hospital_activity(self.clock.hour(t_ns), self.clock.weekday(t_ns))
        use = 0.6 + 0.9 * activity  # kPa/min bled by suction points and system leakage
        if t_ns >= self._surge_ends_ns:
            self._surge = 0.0
            if rng.random() < self.SURGES_PER_HOUR * (0.2 + activity) * dt_s / 3600.0:
                self._surge = rng.uniform(1.5, 3.5)
                self._surge_ends_ns = t_ns + int(rng.uniform(30.0, 120.0) * NS_PER_S)
        use += self._surge

        vac = self.vacuum
        if "pump-failure" in self.faults.active or vac >= self.CUT_OUT:
            self.pumps_running = 0
        elif vac <= self.LAG_CUT_IN:
            self.pumps_running = 2
        elif vac <= self.CUT_IN:
            self.pumps_running = max(1, self.pumps_running)
        rate = self.PUMP_RATE * self.pumps_running - use * rng.uniform(0.8, 1.2)
        self.vacuum = min(95.0, max(0.0, vac + rate * dt_s / 60.0))

    def value(self, metric: str, t_ns: int) -> Value | None:
        return self.vacuum if metric == "vacuum" else None


class LiquidOxygenTank(Plant):
    """A bulk LOX tank; `tank_level` in %. Fault: `delivery-missed` (no
    tanker comes while it lasts, so the level runs down past the low alarm)."""

    kind = SensorKind.MEDICAL_GAS
    step_s = 60.0
    interval_s = 60.0
    measures = frozenset({"tank_level"})
    faults_known = frozenset({"delivery-missed"})

    REORDER_LEVEL = 40.0
    FILL_MINUTES = 45.0

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        level: float | None = None,
        use_pct_per_day: float | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        self.level = rng.uniform(45.0, 95.0) if level is None else level
        self.use_pct_per_day = rng.uniform(5.0, 9.0) if use_pct_per_day is None else use_pct_per_day
        self.deliveries = 0
        self._delivery_due_ns: int | None = None
        self._fill_to: float | None = None
        self._fill_rate = 0.0

    def _step(self, t_ns: int, dt_s: float) -> None:
        hour = self.clock.hour(t_ns)
        activity = hospital_activity(hour, self.clock.weekday(t_ns))
        self.level -= self.use_pct_per_day * (0.6 + 0.8 * activity) * dt_s / 86_400.0
        if self._fill_to is not None:
            self.level += self._fill_rate * dt_s
            if self.level >= self._fill_to:
                self._fill_to = None
                self.deliveries += 1
        elif self._delivery_due_ns is None:
            if self.level < self.REORDER_LEVEL:
                self._delivery_due_ns = t_ns + int(self.rng.uniform(4.0, 24.0) * NS_PER_HOUR)
        elif t_ns >= self._delivery_due_ns and 8.0 <= hour < 18.0 and "delivery-missed" not in self.faults.active:
            # Tankers deliver in the day; filling takes most of an hour.
            self._delivery_due_ns = None
            self._fill_to = self.rng.uniform(85.0, 95.0)
            self._fill_rate = (self._fill_to - self.level) / (self.FILL_MINUTES * 60.0)
        self.level = min(100.0, max(0.0, self.level))

    def value(self, metric: str, t_ns: int) -> Value | None:
        return self.level if metric == "tank_level" else None
