"""Cold chain: the thermostat cycles around a set point taken from the alarm
band, doors open in working hours with short rises that recover, freezers
defrost a few times a day, and a stuck probe repeats itself."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from simulators import Simulation
from simulators.cold_chain import Refrigerator, derive_set_point
from simulators.site_time import SiteClock
from tests.simulators.simkit import (
    CLOCK,
    DAY_NS,
    MINUTE_NS,
    START_NS,
    TIMEZONE,
    SimulatedWeek,
    alarm_times,
    flatline_times,
    series,
)
from vigil.profiles import PROFILES, Limits
from vigil.registry import Registry


@pytest.mark.parametrize(
    ("profile", "set_point"),
    [
        ("vaccine_fridge", 5.0),
        ("pharmacy_fridge", 5.0),
        ("blood_bank_fridge", 4.0),
        ("plasma_freezer", -30.0),
        ("platelet_incubator", 22.0),
    ],
)
def test_set_point_is_derived_from_the_profile_threshold_band(profile: str, set_point: float) -> None:
    limits = PROFILES[profile].thresholds["temperature"]
    assert derive_set_point(limits.effective_low, limits.effective_high) == set_point


def test_an_overridden_band_moves_the_set_point(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    fridge = sim.models["vac-fridge-1-temp"].plant
    assert isinstance(fridge, Refrigerator)
    assert fridge.set_point == 4.75  # the middle of 2 and the asset's 7.5


def test_fridge_temperature_cycles_with_the_compressor_around_its_set_point(small_week: SimulatedWeek) -> None:
    temps = [float(v) for _, v in series(small_week.readings, "bb-fridge-1-temp", "temperature")]
    mean = sum(temps) / len(temps)
    assert 3.7 < mean < 4.3
    crossings = sum(1 for a, b in pairwise(temps) if a < 4.0 <= b)
    assert 7 * 24 < crossings < 7 * 24 * 6  # a cycle every 10-60 minutes


def test_vaccine_fridge_door_openings_do_not_breach_alarm_delay(small_week: SimulatedWeek) -> None:
    doors = series(small_week.readings, "vac-fridge-1-door", "door_open")
    temps = dict(series(small_week.readings, "vac-fridge-1-temp", "temperature"))
    openings = [t for (t0, was), (t, now) in pairwise(doors) if now and not was]
    assert len(openings) >= 20
    door_limits = small_week.registry.sensors["vac-fridge-1-door"].thresholds["door_open"]
    temp_limits = small_week.registry.sensors["vac-fridge-1-temp"].thresholds["temperature"]
    assert alarm_times(doors, door_limits) == []
    assert alarm_times(list(temps.items()), temp_limits) == []
    # The door shows in the temperature: it rises while open and is back within minutes.
    rises = [temps[t + MINUTE_NS] - temps[t - MINUTE_NS] for t in openings if t - MINUTE_NS in temps and t + MINUTE_NS in temps]
    assert sum(rises) / len(rises) > 0.1
    assert all(min(temps.get(t + k * MINUTE_NS, 99.0) for k in range(1, 15)) < 7.5 for t in openings)


def test_doors_open_in_local_working_hours(small_week: SimulatedWeek) -> None:
    doors = series(small_week.readings, "bb-fridge-1-temp", "door_open")
    open_at = [t for t, v in doors if v]
    working = [t for t in open_at if CLOCK.weekday(t) < 5 and 8 <= CLOCK.hour(t) < 18]
    # Working hours are 50 of the week's 168 hours, yet most openings fall in them.
    assert len(working) >= 0.8 * len(open_at) > 0


def test_freezer_defrosts_a_few_times_a_day_with_a_rise_of_a_few_degrees() -> None:
    limits = {"temperature": PROFILES["plasma_freezer"].thresholds["temperature"]}
    freezer = Refrigerator(random.Random(4), START_NS, SiteClock(TIMEZONE), limits, door_openings_per_hour=0.0)
    starts, peaks, was, bottom = 0, [], False, 0.0
    t = START_NS
    while t < START_NS + 2 * DAY_NS:
        t += 10 * 10**9
        freezer.advance(t)
        if freezer.defrosting and not was:
            starts, bottom = starts + 1, freezer.temperature
            peaks.append(0.0)
        if freezer.defrosting or (peaks and freezer.compressor_on and freezer.temperature > bottom):
            peaks[-1] = max(peaks[-1], freezer.temperature - bottom)
        was = freezer.defrosting
    assert 5 <= starts <= 9  # every 6-8 hours
    assert all(2.0 < rise < 4.5 for rise in peaks)
    assert freezer.temperature < -28


def test_stuck_probe_repeats_the_same_value(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=2, start_ns=START_NS)
    at = START_NS + 10 * 3600 * 10**9
    before = list(sim.readings_between(START_NS, at))
    sim.inject("fridge-probe-stuck", asset="bb-fridge-1", at_ns=at)
    after = series(sim.readings_between(at, at + 3600 * 10**9), "bb-fridge-1-temp", "temperature")
    last_before = series(before, "bb-fridge-1-temp", "temperature")[-1][1]
    assert {v for _, v in after} == {last_before}
    assert flatline_times(after)


def test_door_left_open_shows_on_both_sensors_of_a_split_fridge(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=2, start_ns=START_NS)
    at = START_NS + 10 * 3600 * 10**9
    list(sim.readings_between(START_NS, at))
    injection = sim.inject("vaccine-fridge-door-left-open", asset="vac-fridge-1", at_ns=at)
    assert set(injection.sensors) == {"vac-fridge-1-temp", "vac-fridge-1-door"}
    readings = list(sim.readings_between(at, at + 3600 * 10**9))
    assert all(v for t, v in series(readings, "vac-fridge-1-door", "door_open") if t > at)
    temps = series(readings, "vac-fridge-1-temp", "temperature")
    assert temps[-1][1] > 7.5 > temps[0][1]


def test_the_plants_of_one_registry_differ_by_asset(every_profile: Registry) -> None:
    sim = Simulation(every_profile, seed=1, start_ns=START_NS)
    fridges = [m.plant for m in sim.models.values() if isinstance(m.plant, Refrigerator)]
    assert len({round(f.ambient, 6) for f in fridges}) == len(fridges)


def test_power_loss_warms_every_cold_chain_unit_towards_the_room() -> None:
    limits = {"temperature": Limits(low=2, high=8)}
    fridge = Refrigerator(random.Random(1), START_NS, SiteClock(TIMEZONE), limits, ambient=25.0, door_openings_per_hour=0.0)
    fridge.inject("power-loss", START_NS)
    fridge.advance(START_NS + 3 * 3600 * 10**9)
    assert 10.0 < fridge.temperature < 25.0
    assert not fridge.compressor_on
