"""Water supply as a flow meter sees it: the main refills the building's
storage tanks, so flow follows the day's use and stops for several hours at
night once the tanks are full. Below its starting flow the meter registers
nothing, which is also why a small leak shows up only as night flow that
never reaches zero.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

from simulators.plant import Plant, Value, ar1, limit_bounds
from simulators.site_time import SiteClock
from vigil.kinds import SensorKind
from vigil.profiles import Limits

# Share of the peak by local hour (00:00 ... 23:00), interpolated between
# hours: zero from 01:00 to 04:00, peaks in the morning and early evening.
DIURNAL_USE = (
    0.10, 0.0, 0.0, 0.0, 0.0, 0.05, 0.35, 0.70, 0.95, 1.0, 0.95, 0.90,
    0.85, 0.80, 0.80, 0.80, 0.85, 0.90, 0.85, 0.70, 0.55, 0.40, 0.30, 0.20,
)  # fmt: skip


def diurnal_use(hour: float) -> float:
    """Share of the peak flow at local `hour`."""
    i = int(hour) % 24
    frac = hour - int(hour)
    return DIURNAL_USE[i] + (DIURNAL_USE[(i + 1) % 24] - DIURNAL_USE[i]) * frac


class WaterSupply(Plant):
    """A water meter. `main` is a building main (tens of m³/h at peak), else a
    department sub-meter. Faults: `leak` (flow_m3_per_h added at all hours,
    default 4% of the peak), `burst` (flow_m3_per_h, default 1.5 x the flow
    alarm limit, else 4 x the peak)."""

    kind = SensorKind.WATER_METER
    step_s = 60.0
    interval_s = 60.0
    measures = frozenset({"volume", "flow"})
    faults_known = frozenset({"leak", "burst"})

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        main: bool = True,
        peak_m3_per_h: float | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        if peak_m3_per_h is None:
            peak_m3_per_h = rng.uniform(18.0, 30.0) if main else rng.uniform(3.0, 6.0)
        self.peak = peak_m3_per_h
        self.starting_flow = 0.01 * peak_m3_per_h  # the meter registers nothing below this
        self.volume = rng.uniform(1e4, 5e5) if main else rng.uniform(1e3, 5e4)
        _, high = limit_bounds(limits, "flow")
        self.burst_default = 1.5 * high if high is not None else 4.0 * peak_m3_per_h
        self.leak_default = max(0.04 * peak_m3_per_h, 3.0 * self.starting_flow)
        self.flow = 0.0
        self._wander = 0.0

    def _step(self, t_ns: int, dt_s: float) -> None:
        self._wander = ar1(self._wander, self.rng, 0.97, 0.03)
        weekend = 0.8 if self.clock.weekday(t_ns) >= 5 else 1.0
        demand = self.peak * diurnal_use(self.clock.hour(t_ns)) * weekend * math.exp(self._wander)
        faults = self.faults.active
        if faults:
            if (leak := faults.get("leak")) is not None:
                demand += leak.number("flow_m3_per_h", self.leak_default)
            if (burst := faults.get("burst")) is not None:
                demand += burst.number("flow_m3_per_h", self.burst_default)
        self.flow = demand if demand >= self.starting_flow else 0.0
        self.volume += self.flow * dt_s / 3600.0

    def value(self, metric: str, t_ns: int) -> Value | None:
        if metric == "volume":
            return self.volume
        if metric == "flow":
            return self.flow
        return None
