"""UV lamps: intensity only while the lamp is on, a warm-up of about five
minutes, decay with burn hours from 100-110 μW/cm² new to below 70, and burn
hours that count only lit time."""

from __future__ import annotations

import random
from itertools import pairwise

from simulators import Simulation
from simulators.site_time import SiteClock
from simulators.uv_lamp import UvLamp, lamp_intensity, warm_up_fraction
from tests.simulators.simkit import DAY_NS, START_NS, TIMEZONE, SimulatedWeek, series
from vigil.registry import Registry

SENSOR = "uv-or-1-s"


def test_intensity_is_reported_only_while_the_lamp_is_on(small_week: SimulatedWeek) -> None:
    lamp_on = dict(series(small_week.readings, SENSOR, "lamp_on"))
    intensity = series(small_week.readings, SENSOR, "intensity")
    assert intensity
    assert all(lamp_on[t] for t, _ in intensity)
    on_times = [t for t, on in lamp_on.items() if on]
    assert len(intensity) == len(on_times)
    assert 0.02 < len(on_times) / len(lamp_on) < 0.2  # a few 30-60 min cycles a day


def test_lamp_runs_a_few_disinfection_cycles_a_day(small_week: SimulatedWeek) -> None:
    lamp_on = series(small_week.readings, SENSOR, "lamp_on")
    switch_ons = sum(1 for (_, a), (_, b) in pairwise(lamp_on) if b and not a)
    assert 2 * 7 <= switch_ons <= 4 * 7 + 1


def test_new_lamps_read_100_to_110_and_decay_below_70_with_burn_hours() -> None:
    assert lamp_intensity(0, 100) >= 95 and lamp_intensity(0, 110) <= 110
    curve = [lamp_intensity(h, 105) for h in range(0, 12_001, 500)]
    assert all(a > b for a, b in pairwise(curve))
    assert lamp_intensity(5_000, 105) > 70 > lamp_intensity(9_000, 105)


def test_an_older_lamp_reads_lower_than_a_newer_one() -> None:
    clock = SiteClock(TIMEZONE)

    def peak_intensity(burn_hours: float) -> float:
        lamp = UvLamp(random.Random(1), START_NS, clock, {}, burn_hours=burn_hours, new_intensity=105.0, timer=((6.0, 1.0),))
        lamp.advance(START_NS + int(6.5 * 3600) * 10**9)
        return lamp.intensity

    assert peak_intensity(500) > peak_intensity(4_000) > 70 > peak_intensity(10_000)


def test_lamp_warms_up_within_five_minutes() -> None:
    assert warm_up_fraction(60) < 0.7
    assert warm_up_fraction(300) > 0.98


def test_burn_hours_count_only_lit_time(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=4, start_ns=START_NS)
    readings = list(sim.readings_between(START_NS, START_NS + DAY_NS))
    burn = series(readings, SENSOR, "burn_hours")
    lit_minutes = sum(1 for _, on in series(readings, SENSOR, "lamp_on") if on)
    assert abs((burn[-1][1] - burn[0][1]) * 60 - lit_minutes) <= 3
    lamp_on = dict(series(readings, SENSOR, "lamp_on"))
    assert all(b == a for (t, a), (_, b) in pairwise(burn) if not lamp_on[t] and not lamp_on[t + 60 * 10**9])
