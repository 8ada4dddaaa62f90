"""Electricity supply as a three-phase meter sees it: active power following
the hospital's day and week, cumulative energy, phase voltage, current and
power factor.

A hospital never sleeps, so the night load is a large share of the peak.
Supply events (an outage and the generator taking the load) are judged at
the exact sample time, because they last seconds and the grid is coarser.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from simulators.plant import Plant, Value, ar1
from simulators.site_time import NS_PER_S, SiteClock, hospital_activity
from vigil.kinds import SensorKind
from vigil.profiles import Limits

DEFAULT_PHASE_VOLTAGE = 220.0
PHASES = 3
GENERATOR_CHANGEOVER_S = 8.0  # NFPA 110 asks for power back within 10 s


class ElectricitySupply(Plant):
    """A metered supply. `main` is a building incomer (hundreds of kW), else a
    department sub-meter (tens of kW). Faults: `outage` (changeover_s of no
    voltage, default 8, then the generator carries the load until cleared),
    `overload` (factor, default 1.6, of the normal load; a weak feeder sags by
    sag_pct, default 15), `phase-imbalance` (deviation_pct, default 18: this
    phase is lightly loaded, its voltage rises and its current falls)."""

    kind = SensorKind.ELECTRICITY_METER
    step_s = 30.0
    interval_s = 30.0
    measures = frozenset({"energy", "power", "voltage", "current", "power_factor"})
    faults_known = frozenset({"outage", "overload", "phase-imbalance"})

    LOAD_DROP = 0.015  # voltage drop at peak load, fraction of nominal

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        clock: SiteClock,
        limits: Mapping[str, Limits],
        *,
        main: bool = True,
        peak_kw: float | None = None,
    ) -> None:
        super().__init__(rng, start_ns, clock, limits)
        lim = limits.get("voltage")
        self.nominal_voltage = lim.nominal if lim is not None and lim.nominal is not None else DEFAULT_PHASE_VOLTAGE
        if peak_kw is None:
            peak_kw = rng.uniform(500.0, 900.0) if main else rng.uniform(20.0, 80.0)
        self.peak_kw = peak_kw
        self.base_share = 0.55 if main else rng.uniform(0.25, 0.45)  # night load as a share of the peak
        self.energy = peak_kw * rng.uniform(5_000.0, 30_000.0)
        self._pf_mean = rng.uniform(0.93, 0.96)
        self.power_factor = self._pf_mean
        self._load_wander = 0.0
        self._v_wander = 0.0
        self._pf_wander = 0.0
        self.load_kw = self._load(start_ns)

    def _load(self, t_ns: int) -> float:
        activity = hospital_activity(self.clock.hour(t_ns), self.clock.weekday(t_ns))
        return self.peak_kw * (self.base_share + (1.0 - self.base_share) * activity) * (1.0 + self._load_wander)

    def _dead(self, t_ns: int) -> bool:
        outage = self.faults.covering("outage", t_ns)
        return outage is not None and t_ns < outage.start_ns + int(
            outage.number("changeover_s", GENERATOR_CHANGEOVER_S) * NS_PER_S
        )

    def _step(self, t_ns: int, dt_s: float) -> None:
        rng = self.rng
        self._load_wander = ar1(self._load_wander, rng, 0.95, 0.008)
        self._v_wander = max(-0.02, min(0.02, ar1(self._v_wander, rng, 0.98, 0.002)))
        self._pf_wander = ar1(self._pf_wander, rng, 0.99, 0.0015)
        self.power_factor = max(0.9, min(0.98, self._pf_mean + self._pf_wander))
        load = self._load(t_ns)
        if (overload := self.faults.active.get("overload")) is not None:
            load *= overload.number("factor", 1.6)
        self.load_kw = load
        if not self._dead(t_ns):
            self.energy += load * dt_s / 3600.0

    def value(self, metric: str, t_ns: int) -> Value | None:
        if metric == "energy":
            return self.energy
        if metric == "power_factor":
            return self.power_factor
        if self._dead(t_ns):
            return 0.0 if metric in ("power", "voltage", "current") else None
        if metric == "power":
            return self.load_kw
        faults = self.faults.active
        voltage = self.nominal_voltage * (1.0 + self._v_wander - self.LOAD_DROP * min(1.0, self.load_kw / self.peak_kw))
        if (overload := faults.get("overload")) is not None:
            voltage *= 1.0 - overload.number("sag_pct", 15.0) / 100.0
        imbalance = faults.get("phase-imbalance")
        deviation = imbalance.number("deviation_pct", 18.0) / 100.0 if imbalance is not None else 0.0
        voltage *= 1.0 + deviation
        if metric == "voltage":
            return voltage
        if metric == "current":
            current = self.load_kw * 1000.0 / (PHASES * voltage * self.power_factor)
            return max(0.0, current * (1.0 - 2.0 * deviation))
        return None
