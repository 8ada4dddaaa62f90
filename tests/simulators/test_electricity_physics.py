"""Electricity: energy only moves forward and follows the power, the load
follows the day and the week, voltage and power factor stay near their
nominal, and a generator that picks up within 10 s raises no alarm."""

from __future__ import annotations

import statistics

from simulators import Simulation
from tests.simulators.simkit import CLOCK, MINUTE_NS, START_NS, SimulatedWeek, alarm_times, is_non_decreasing, series
from vigil.registry import Registry

METER = "elec-main-m"


def test_energy_never_decreases_and_integrates_the_power(small_week: SimulatedWeek) -> None:
    energy = series(small_week.readings, METER, "energy")
    power = series(small_week.readings, METER, "power")
    assert is_non_decreasing(energy)
    hours = (power[-1][0] - power[0][0]) / 3.6e12
    mean_kw = statistics.fmean(float(v) for _, v in power)
    assert abs((energy[-1][1] - energy[0][1]) - mean_kw * hours) < 0.01 * mean_kw * hours


def test_load_is_higher_on_weekday_afternoons_than_at_night_or_at_weekends(small_week: SimulatedWeek) -> None:
    power = series(small_week.readings, METER, "power")

    def mean_at(weekend: bool, start: float, end: float) -> float:
        return statistics.fmean(float(v) for t, v in power if (CLOCK.weekday(t) >= 5) == weekend and start <= CLOCK.hour(t) < end)

    night, afternoon, weekend_afternoon = mean_at(False, 1, 5), mean_at(False, 13, 15), mean_at(True, 13, 15)
    assert afternoon > weekend_afternoon > night > 0.3 * afternoon  # a hospital never sleeps


def test_voltage_current_and_power_factor_are_plausible(small_week: SimulatedWeek) -> None:
    voltage = [float(v) for _, v in series(small_week.readings, METER, "voltage")]
    pf = [float(v) for _, v in series(small_week.readings, METER, "power_factor")]
    power = dict(series(small_week.readings, METER, "power"))
    volts = dict(series(small_week.readings, METER, "voltage"))
    assert 210 < statistics.median(voltage) < 225
    assert 0.9 <= statistics.median(pf) <= 0.98
    for t, amps in series(small_week.readings, METER, "current")[::500]:
        # three phases: P = 3 V I pf
        assert abs(float(amps) * 3 * float(volts[t]) * 0.945 / 1000 - float(power[t])) < 0.1 * float(power[t])


def test_generator_changeover_within_ten_seconds_raises_no_voltage_alarm(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=6, start_ns=START_NS)
    at = START_NS + 10 * 3600 * 10**9 + 15 * 10**9  # mid-way between two 30 s samples
    list(sim.readings_between(START_NS, at))
    sim.inject("generator-changeover", at_ns=at - 10 * 10**9)
    readings = list(sim.readings_between(at, at + 60 * MINUTE_NS))
    voltage = series(readings, METER, "voltage")
    limits = small_facility.sensors[METER].thresholds["voltage"]
    assert alarm_times(voltage, limits) == []
    assert all(float(v) > 200 for _, v in voltage)


def test_outage_drops_voltage_to_zero_until_the_generator_takes_the_load(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=6, start_ns=START_NS)
    at = START_NS + 10 * 3600 * 10**9
    list(sim.readings_between(START_NS, at))
    sim.inject("building-power-outage", at_ns=at)
    readings = list(sim.readings_between(at, at + 10 * MINUTE_NS))
    voltage = series(readings, METER, "voltage")
    dead = [t for t, v in voltage if v == 0.0]
    assert dead and (max(dead) - at) / 10**9 < 90
    assert all(float(v) > 200 for t, v in voltage if t >= at + 90 * 10**9)
    assert all(float(v) == 0.0 for t, v in series(readings, METER, "power") if t in dead)


def test_stuck_meter_stops_the_energy_while_power_flows(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=6, start_ns=START_NS)
    at = START_NS + 10 * 3600 * 10**9
    list(sim.readings_between(START_NS, at))
    injection = sim.inject("meter-stuck", asset="elec-main", at_ns=at)
    assert injection.sensors == (METER,)
    readings = list(sim.readings_between(at, at + 60 * MINUTE_NS))
    assert len({v for _, v in series(readings, METER, "energy")}) == 1
    assert min(float(v) for _, v in series(readings, METER, "power")) > 0
