"""UV-C germicidal lamps: a timer runs disinfection cycles a few times a day;
while the lamp is on, a UV-C sensor 1 m below it reads the irradiance.

Intensity follows the lamp's age: about 5% is lost in the first 100 burn
hours, then a slow exponential decline that crosses the 70 μW/cm² in-use
limit (WS/T 367) near 8,000 h for a typical new lamp of 100-110 μW/cm².
Each cycle starts with a warm-up of about 5 minutes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from simulators.plant import Fault, Plant, Value
from simulators.site_time import NS_PER_S, SiteClock
from vigil.kinds import SensorKind
from vigil.profiles import Limits

BURN_IN_LOSS = 0.05
BURN_IN_HOURS = 100.0
AGEING_HOURS = 22_000.0  # e-folding of the slow decline
WARM_UP_TAU_S = 72.0  # 98% of full output after ~5 min
AGED_BURN_HOURS = 10_000.0  # a lamp well past its replacement point


def lamp_intensity(burn_hours: float, new_intensity: float = 105.0) -> float:
    """Warmed-up irradiance at 1 m, μW/cm², of a lamp with `burn_hours` of use."""
    burn_in = 1.0 - BURN_IN_LOSS * (1.0 - math.exp(-burn_hours / BURN_IN_HOURS))
    return new_intensity * burn_in * math.exp(-burn_hours / AGEING_HOURS)


def warm_up_fraction(seconds_on: float) -> float:
    """Share of full output `seconds_on` after switching on."""
    return 1.0 - math.exp(-max(0.0, seconds_on) / WARM_UP_TAU_S)


Cycle = tuple[float, float]  # (local start hour, duration in hours)


def disinfection_timer(rng: random.Random) -> tuple[Cycle, ...]:
    """A lamp's daily timer: 2-4 cycles of 30-60 min spread over the day,
    the first early in the morning before the rooms are used."""
    count = rng.choice((2, 3, 3, 4))
    first = rng.uniform(5.5, 7.0)
    return tuple(((first + i * 24.0 / count + rng.uniform(0.0, 0.5)) % 24.0, rng.choice((0.5, 0.75, 1.0))) for i in range(count))


class UvLamp(Plant):
    """A UV-C lamp and its sensor. Faults: `lamp-failure` (energised, but no
    UV output), `ageing` (burn_hours, default 10,000: the lamp is that old)."""

    kind = SensorKind.UV_LAMP
    step_s = 10.0
    interval_s = 60.0
    measures = frozenset({"intensity", "lamp_on", "burn_hours"})
    faults_known = frozenset({"lamp-failure", "ageing"})

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        burn_hours: float | None = None,
        new_intensity: float | None = None,
        timer: Sequence[Cycle] | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        self.new_intensity = rng.uniform(100.0, 110.0) if new_intensity is None else new_intensity
        self.burn_hours = rng.uniform(300.0, 3000.0) if burn_hours is None else burn_hours
        self.timer = tuple(timer) if timer is not None else disinfection_timer(rng)
        self.lamp_on = False
        self.intensity = 0.0
        self._on_since_ns = start_ns
        self._supply = 0.0  # mains and ballast wander, a fraction of output

    def scheduled_on(self, t_ns: int) -> bool:
        """Whether the timer has the lamp on at `t_ns`."""
        hour = self.clock.hour(t_ns)
        return any(start <= hour < start + length or start <= hour + 24.0 < start + length for start, length in self.timer)

    def _step(self, t_ns: int, dt_s: float) -> None:
        on = self.scheduled_on(t_ns)
        if on and not self.lamp_on:
            self._on_since_ns = t_ns
        self.lamp_on = on
        if not on:
            self.intensity = 0.0
            return
        self.burn_hours += dt_s / 3600.0
        self._supply = 0.9 * self._supply + self.rng.gauss(0.0, 0.003)
        if "lamp-failure" in self.faults.active:
            # A failed tube on a live ballast: a glimmer, no germicidal output.
            self.intensity = self.rng.uniform(0.0, 1.5)
            return
        seconds_on = (t_ns - self._on_since_ns) / NS_PER_S + dt_s
        self.intensity = lamp_intensity(self.burn_hours, self.new_intensity) * warm_up_fraction(seconds_on) * (1.0 + self._supply)

    def _fault_started(self, fault: Fault, t_ns: int) -> None:
        if fault.name == "ageing":
            self.burn_hours = max(self.burn_hours, fault.number("burn_hours", AGED_BURN_HOURS))

    def value(self, metric: str, t_ns: int) -> Value | None:
        if metric == "lamp_on":
            return self.lamp_on
        if metric == "burn_hours":
            return self.burn_hours
        if metric == "intensity":
            # The sensor is only read while the lamp is on: off, there is nothing to judge.
            return self.intensity if self.lamp_on else None
        return None
