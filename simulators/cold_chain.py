"""Cold-chain storage: a fridge, freezer or platelet incubator under on/off
thermostat control, with door openings in working hours and, for freezers,
defrost cycles.

The probe sits in a thermal buffer, as good practice asks, so it follows the
product rather than the air. Temperature is a first-order balance: heat leaks
in from the room (faster with the door open), the compressor takes a fixed
amount out while it runs. The rates are stated at the set point, which keeps
every product class on a similar cycle (~15 min off, ~8 min on).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from simulators.plant import Fault, Plant, Value, limit_bounds
from simulators.site_time import NS_PER_S, SiteClock, is_working_hours
from vigil.kinds import SensorKind
from vigil.profiles import Limits

# °C per minute at the set point.
IDLE_DRIFT = 0.1  # warming with the compressor off and the door shut
DOOR_DRIFT = 0.4  # extra warming while the door is open
COOLING = 0.3  # what a running compressor removes
DEFROST_HEAT = 0.08  # the defrost heater, freezers only: a rise of ~3 °C

FREEZER_BELOW_C = 0.0
_MIN_S = 60.0


def derive_set_point(low: float | None, high: float | None) -> float:
    """The thermostat set point a technician would choose for an alarm band:
    the middle of a closed band (5 °C for 2-8, 4 °C for a blood bank's
    2.5-5.5, 22 °C for platelets), 5 °C under an upper limit alone (-30 °C
    for plasma at <= -25 °C), 4 °C above a lower limit alone."""
    if low is not None and high is not None:
        return (low + high) / 2
    if high is not None:
        return high - 5.0
    if low is not None:
        return low + 4.0
    return 5.0


def control_differential(low: float | None, high: float | None) -> float:
    """Thermostat differential (cut-in minus cut-out): under a third of the
    band, so a cycle plus a door opening stays inside it; 3 °C for freezers."""
    if low is not None and high is not None:
        return min(2.0, max(0.4, 0.3 * (high - low)))
    return 3.0


class Refrigerator(Plant):
    """A cold-chain unit. Faults: `compressor-failure` (capacity, default
    0.2 of normal: a slow rise), `door-left-open`, `power-loss` (no cooling,
    no defrost; the logger runs on its battery), `thermostat-drift` (rate_c_per_h,
    default -1.0, up to max_c, default 8: the set point wanders, here towards
    freezing)."""

    kind = SensorKind.COLD_CHAIN
    step_s = 10.0
    interval_s = 60.0
    measures = frozenset({"temperature", "door_open"})
    faults_known = frozenset({"compressor-failure", "door-left-open", "power-loss", "thermostat-drift"})

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        set_point: float | None = None,
        ambient: float | None = None,
        door_openings_per_hour: float | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        low, high = limit_bounds(limits, "temperature")
        self.set_point = derive_set_point(low, high) if set_point is None else set_point
        self.differential = control_differential(low, high)
        self.is_freezer = self.set_point < FREEZER_BELOW_C
        room = rng.uniform(23.0, 27.0) if ambient is None else ambient
        # A unit kept near room temperature (platelets) still needs a gap to cool against.
        self.ambient = max(room, self.set_point + 3.0)
        gap = self.ambient - self.set_point
        self._k_idle = IDLE_DRIFT / gap / _MIN_S  # per second
        self._k_door = DOOR_DRIFT / gap / _MIN_S
        self._cooling = COOLING / _MIN_S
        self._defrost_heat = DEFROST_HEAT / _MIN_S
        if door_openings_per_hour is None:
            door_openings_per_hour = rng.uniform(0.5, 1.5) if self.is_freezer else rng.uniform(2.0, 4.0)
        self.door_openings_per_hour = door_openings_per_hour

        half = self.differential / 2
        self.temperature = self.set_point + rng.uniform(-half, half)
        self.compressor_on = rng.random() < 0.35
        self.door_open = False
        self.defrosting = False
        self._door_closes_ns = 0
        self._defrost_due_ns = start_ns + int(rng.uniform(0.5, 8.0) * 3600 * NS_PER_S) if self.is_freezer else None
        self._defrost_pending = False
        self._defrost_ends_ns = 0

    def _door_rate_per_s(self, t_ns: int) -> float:
        hour, weekday = self.clock.hour(t_ns), self.clock.weekday(t_ns)
        if is_working_hours(hour, weekday):
            share = 1.0
        elif 7.0 <= hour < 22.0:
            share = 0.15  # evenings, weekends: an occasional night-shift visit
        else:
            share = 0.03
        return self.door_openings_per_hour * share / 3600.0

    def _step(self, t_ns: int, dt_s: float) -> None:
        faults = self.faults.active
        rng = self.rng
        powered = "power-loss" not in faults

        if "door-left-open" in faults:
            self.door_open, self._door_closes_ns = True, t_ns
        elif self.door_open:
            self.door_open = t_ns < self._door_closes_ns
        elif rng.random() < self._door_rate_per_s(t_ns) * dt_s:
            # Most openings are a quick pick; a few are a restock.
            seconds = min(120.0, 15.0 + rng.expovariate(1 / 25.0))
            self.door_open, self._door_closes_ns = True, t_ns + int(seconds * NS_PER_S)

        offset = 0.0
        drift = faults.get("thermostat-drift")
        if drift is not None:
            limit = abs(drift.number("max_c", 8.0))
            offset = max(-limit, min(limit, drift.number("rate_c_per_h", -1.0) * drift.hours_active(t_ns)))
        cut_in = self.set_point + offset + self.differential / 2
        cut_out = self.set_point + offset - self.differential / 2

        temp = self.temperature
        if self._defrost_due_ns is not None and t_ns >= self._defrost_due_ns:
            self._defrost_pending = True
            self._defrost_due_ns = t_ns + int(rng.uniform(6.0, 8.0) * 3600 * NS_PER_S)
        if self.defrosting:
            self.defrosting = powered and t_ns < self._defrost_ends_ns
        if not powered:
            self.compressor_on = False
        elif not self.defrosting:
            if temp >= cut_in:
                self.compressor_on = True
            elif temp <= cut_out and self.compressor_on:
                self.compressor_on = False
                if self._defrost_pending:
                    # Defrost starts at the bottom of a cycle, so its rise stays inside the band.
                    self._defrost_pending = False
                    self.defrosting = True
                    self._defrost_ends_ns = t_ns + int(rng.uniform(15.0, 20.0) * _MIN_S * NS_PER_S)

        gap = self.ambient - temp
        rate = self._k_idle * gap
        if self.door_open:
            rate += self._k_door * gap
        if self.defrosting:
            rate += self._defrost_heat
        if self.compressor_on:
            capacity = faults["compressor-failure"].number("capacity", 0.2) if "compressor-failure" in faults else 1.0
            rate -= self._cooling * capacity
        self.temperature = temp + rate * dt_s

    def _fault_started(self, fault: Fault, t_ns: int) -> None:
        if fault.name == "door-left-open":
            self.door_open = True

    def value(self, metric: str, t_ns: int) -> Value | None:
        if metric == "temperature":
            return self.temperature
        if metric == "door_open":
            return self.door_open
        return None
