"""A normal week raises no alarm: every family stays inside its thresholds
once the alarm delay is applied, counters only move forward, and values stay
physically possible."""

from __future__ import annotations

import pytest

from simulators import Simulation
from tests.simulators.simkit import START_NS, WEEK_NS, SimulatedWeek, alarm_times, flatline_times, is_non_decreasing, series
from vigil.contract import Reading
from vigil.kinds import METRICS, SensorKind
from vigil.profiles import PROFILES
from vigil.registry import Registry


def assert_no_alarm(registry: Registry, readings: list[Reading], sensor_ids: list[str]) -> None:
    for sensor_id in sensor_ids:
        sensor = registry.sensors[sensor_id]
        for metric, limits in sensor.thresholds.items():
            samples = series(readings, sensor_id, metric)
            assert samples, f"{sensor_id} reported no {metric}"
            fired = alarm_times(samples, limits)
            assert not fired, f"{sensor_id} {metric} {limits.summary()} alarms at {[(t - START_NS) / 3.6e12 for t in fired]} h"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_normal_week_of_each_profile_raises_no_alarm(every_profile: Registry, profile: str) -> None:
    sim = Simulation(every_profile, seed=21, start_ns=START_NS, gateways=[f"gw-{profile}"])
    readings = list(sim.readings_between(START_NS, START_NS + WEEK_NS))
    assert_no_alarm(every_profile, readings, list(sim.models))


def test_normal_week_of_the_small_facility_raises_no_alarm(small_week: SimulatedWeek) -> None:
    """Including the vaccine fridge's overridden 7.5 °C limit and its door on a separate sensor."""
    assert_no_alarm(small_week.registry, small_week.readings, list(small_week.registry.sensors))


def test_normal_week_has_no_flat_lined_probe(small_week: SimulatedWeek) -> None:
    for sensor in small_week.registry.sensors.values():
        if "temperature" in sensor.metrics:
            assert not flatline_times(series(small_week.readings, sensor.id, "temperature"))


def test_counters_never_decrease(small_week: SimulatedWeek) -> None:
    counters = {(k, m) for k, specs in METRICS.items() for m, spec in specs.items() if spec.counter}
    checked = 0
    for sensor in small_week.registry.sensors.values():
        for metric in sensor.metrics:
            if (sensor.kind, metric) in counters:
                samples = series(small_week.readings, sensor.id, metric)
                assert is_non_decreasing(samples), f"{sensor.id} {metric} went backwards"
                assert samples[-1][1] > samples[0][1], f"{sensor.id} {metric} never advanced"
                checked += 1
    assert checked == 3  # energy, volume, burn hours


def test_values_stay_physically_possible(small_week: SimulatedWeek) -> None:
    sensors = small_week.registry.sensors
    for r in small_week.readings:
        spec = METRICS[sensors[r.sensor].kind][r.metric]
        assert isinstance(r.value, bool) or spec.is_possible(r.value), r


def test_every_kind_is_covered_by_the_profiles() -> None:
    assert {p.kind for p in PROFILES.values()} == set(SensorKind)
