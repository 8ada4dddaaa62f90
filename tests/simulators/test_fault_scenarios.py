"""Named fault scenarios: each is registered under a kebab-case name, fits the
assets it names, and trips the alarm it promises within the time it states
(or, for a tolerated event, trips none)."""

from __future__ import annotations

import re

import pytest

from simulators import SCENARIOS, Breach, Simulation, Trip
from tests.simulators.simkit import (
    DAY_NS,
    MINUTE_NS,
    START_NS,
    alarm_times,
    flatline_times,
    series,
    stall_times,
    zero_flow_hours,
)
from vigil.contract import Reading
from vigil.registry import Registry, Sensor

AT_NS = START_NS + 10 * 3600 * 10**9  # a Monday, 10:00 local
RATE_OF = {"energy": "power", "volume": "flow"}
ISSUE_NAMES = {
    "vaccine-fridge-compressor-failure", "blood-fridge-door-left-open", "cold-room-power-loss", "uv-lamp-sudden-failure",
    "uv-lamp-ageing", "oxygen-slow-leak", "oxygen-sudden-drop", "vacuum-pump-failure", "building-power-outage",
    "water-night-leak", "water-burst", "meter-stuck",
}  # fmt: skip


def test_scenarios_are_registered_by_kebab_case_name() -> None:
    assert SCENARIOS.keys() >= ISSUE_NAMES
    for name, scenario in SCENARIOS.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name)
        assert scenario.name == name and scenario.description and scenario.profiles


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_fault_is_known_to_every_asset_it_names(every_profile: Registry, name: str) -> None:
    scenario = SCENARIOS[name]
    for profile in scenario.profiles:
        sim = Simulation(every_profile, seed=1, start_ns=START_NS, gateways=[f"gw-{profile}"])
        assert any(m.accepts(scenario.fault, scenario.params) for m in sim.models.values()), profile


def first_trip(trip: Trip, sensor: Sensor, readings: list[Reading]) -> int | None:
    samples = [s for s in series(readings, sensor.id, trip.metric) if s[0] > AT_NS]
    if trip.breach in (Breach.LOW, Breach.HIGH, Breach.STATE):
        fired = alarm_times(samples, sensor.thresholds[trip.metric], None if trip.breach is Breach.STATE else trip.breach)
    elif trip.breach is Breach.FLATLINE:
        fired = flatline_times(samples)
    elif trip.breach is Breach.STALLED:
        fired = stall_times(samples, series(readings, sensor.id, RATE_OF[trip.metric]))
    else:  # a day without an hour of zero flow
        day = [s for s in samples if s[0] <= AT_NS + DAY_NS]
        fired = [day[-1][0]] if day[-1][0] - day[0][0] >= DAY_NS - 2 * MINUTE_NS and not zero_flow_hours(day) else []
    return fired[0] if fired else None


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_trips_its_expected_metric_in_time(every_profile: Registry, name: str) -> None:
    scenario = SCENARIOS[name]
    horizon = max((t.within for t in scenario.trips), default=scenario.duration or None)
    assert horizon is not None
    for profile in sorted(scenario.profiles):
        sim = Simulation(every_profile, seed=17, start_ns=START_NS, gateways=[f"gw-{profile}"])
        list(sim.readings_between(START_NS, AT_NS))
        injection = sim.inject(name, at_ns=AT_NS)
        end = AT_NS + int(horizon.total_seconds()) * 10**9
        readings = list(sim.readings_between(AT_NS, end + 1))
        sensor = every_profile.sensors[injection.sensors[0]]
        for trip in scenario.trips_for(sensor):
            tripped = first_trip(trip, sensor, readings)
            assert tripped is not None, f"{name} on {profile}: {trip.metric} never showed {trip.breach}"
            assert tripped - AT_NS <= trip.within.total_seconds() * 10**9, f"{name} on {profile}: {trip.metric} too late"
        if not scenario.trips:  # a tolerated event: the platform must stay quiet
            for metric, limits in sensor.thresholds.items():
                assert alarm_times(series(readings, sensor.id, metric), limits) == [], f"{name} on {profile}: {metric}"


def test_every_scenario_names_the_alarm_it_expects_or_says_none() -> None:
    quiet = {n for n, s in SCENARIOS.items() if not s.trips}
    assert quiet == {"generator-changeover"}


def test_inject_chooses_the_first_fitting_asset_when_none_is_named(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    assert sim.inject("cold-room-power-loss").asset == "bb-fridge-1"
    assert sim.inject("vaccine-fridge-compressor-failure").asset == "vac-fridge-1"
    injection = sim.inject("meter-stuck", asset="water-main")
    assert injection.sensors == ("water-main-m",) and injection.at_ns == START_NS


def test_inject_refuses_unknown_scenarios_and_unfit_assets(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    with pytest.raises(ValueError, match="unknown scenario 'no-such-thing'"):
        sim.inject("no-such-thing")
    with pytest.raises(ValueError, match="does not fit asset 'water-main'"):
        sim.inject("oxygen-slow-leak", asset="water-main")
    with pytest.raises(ValueError, match="is not simulated here"):
        sim.inject("oxygen-slow-leak", asset="nowhere")
    with pytest.raises(ValueError, match="no simulated asset fits"):
        sim.inject("vacuum-pump-failure")


def test_a_scenario_with_a_duration_ends_by_itself(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    injection = sim.inject("building-power-outage", at_ns=AT_NS)
    assert injection.until_ns == AT_NS + 30 * MINUTE_NS
    readings = list(sim.readings_between(START_NS, AT_NS + 60 * MINUTE_NS))
    voltage = series(readings, "elec-main-m", "voltage")
    assert all(float(v) > 200 for t, v in voltage if t >= AT_NS + 90 * 10**9)


def test_clearing_a_scenario_ends_its_fault(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    sim.inject("water-burst", at_ns=AT_NS)
    sim.clear("water-burst", at_ns=AT_NS + 20 * MINUTE_NS)
    flow = series(sim.readings_between(START_NS, AT_NS + 40 * MINUTE_NS), "water-main-m", "flow")
    assert max(float(v) for t, v in flow if AT_NS < t <= AT_NS + 20 * MINUTE_NS) > 60
    assert max(float(v) for t, v in flow if t > AT_NS + 21 * MINUTE_NS) < 60


def test_scenario_parameters_can_be_overridden(small_facility: Registry) -> None:
    sim = Simulation(small_facility, seed=1, start_ns=START_NS)
    sim.inject("oxygen-sudden-drop", at_ns=AT_NS, remaining=0.5)
    pressure = series(sim.readings_between(AT_NS, AT_NS + 10 * MINUTE_NS), "o2-b1-p", "pressure")
    assert 190 < float(pressure[-1][1]) < 210  # half of the 400 kPa nominal
