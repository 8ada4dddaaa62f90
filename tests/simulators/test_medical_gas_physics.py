"""Medical gas: pipeline pressure holds the threshold's nominal with small
noise and brief dips, vacuum cycles in its normal range, and the LOX tank is
refilled before it runs low."""

from __future__ import annotations

import random
import statistics

from simulators import Simulation
from simulators.medical_gas import GasPipeline, LiquidOxygenTank, VacuumLine
from simulators.site_time import SiteClock
from tests.simulators.simkit import DAY_NS, START_NS, TIMEZONE, SimulatedWeek, series
from vigil.profiles import PROFILES
from vigil.registry import Registry


def test_pipeline_pressure_holds_the_nominal_of_its_threshold(small_week: SimulatedWeek) -> None:
    """The small facility overrides the oxygen nominal to 400 kPa."""
    pressures = [float(v) for _, v in series(small_week.readings, "o2-b1-p", "pressure")]
    assert 396 < statistics.median(pressures) < 412
    assert statistics.pstdev(pressures) < 6
    assert min(pressures) > 400 * 0.85


def test_pipeline_shows_brief_demand_dips_and_cylinder_changeovers() -> None:
    limits = {"pressure": PROFILES["oxygen_line"].thresholds["pressure"]}
    line = GasPipeline(random.Random(9), START_NS, SiteClock(TIMEZONE), limits)
    t, below, runs, run = START_NS, 0, [], 0
    while t < START_NS + 3 * DAY_NS:
        t += 10 * 10**9
        line.advance(t)
        low = line.pressure < line.setting * 0.96
        below += low
        run = run + 1 if low else 0
        if run == 1:
            runs.append(t)
    assert len(runs) >= 5  # dips happen
    assert below * 10 < 3 * 86_400 * 0.02  # but are brief: under 2% of the time


def test_vacuum_cycles_in_its_normal_range(every_profile: Registry) -> None:
    sim = Simulation(every_profile, seed=5, start_ns=START_NS, gateways=["gw-vacuum_line"])
    vacuum = [float(v) for _, v in series(sim.readings_between(START_NS, START_NS + DAY_NS), "vacuum_line-1-s", "vacuum")]
    assert 60 <= statistics.median(vacuum) <= 75
    assert min(vacuum) > 50
    assert isinstance(sim.models["vacuum_line-1-s"].plant, VacuumLine)


def test_lox_tank_falls_with_use_and_is_refilled_before_it_runs_low() -> None:
    tank = LiquidOxygenTank(random.Random(2), START_NS, SiteClock(TIMEZONE), {}, level=60.0, use_pct_per_day=9.0)
    levels, t = [], START_NS
    while t < START_NS + 21 * DAY_NS:
        t += 3600 * 10**9
        tank.advance(t)
        levels.append(tank.level)
    assert tank.deliveries >= 2
    assert min(levels) > 20.0
    assert levels[23] < 60.0  # a day of use
    assert max(levels) > 80.0


def test_lox_tank_without_deliveries_runs_down_past_the_low_level() -> None:
    tank = LiquidOxygenTank(random.Random(2), START_NS, SiteClock(TIMEZONE), {}, level=60.0, use_pct_per_day=6.0)
    tank.inject("delivery-missed", START_NS)
    tank.advance(START_NS + 10 * DAY_NS)
    assert tank.deliveries == 0
    assert tank.level < 20.0
