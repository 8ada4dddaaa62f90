"""The engine against the simulated plant: every named fault scenario raises
the right alarm in time, tolerated events and a normal week raise none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.model import AlertState, RuleKind
from alerts.rules import RulesEngine, build_rules
from simulators import SCENARIOS, Breach, Simulation
from tests.alerts.rules.rules_kit import HOUR, MIN, START_NS, WEEK, engine_for, excursions, firing, transitions
from vigil.registry import Registry

AT_NS = START_NS + 10 * HOUR  # a Monday, 10:00 site time
WARM_UP_NS = 2 * HOUR  # readings the engine sees before the fault, so it starts from a running plant
RULE_KIND_OF = {
    Breach.LOW: RuleKind.THRESHOLD,
    Breach.HIGH: RuleKind.THRESHOLD,
    Breach.STATE: RuleKind.THRESHOLD,
    Breach.FLATLINE: RuleKind.STUCK,
    Breach.STALLED: RuleKind.COUNTER_STALLED,
    Breach.CONTINUOUS_FLOW: RuleKind.NIGHT_FLOW,
}
CASES = [(name, profile) for name, sc in sorted(SCENARIOS.items()) for profile in sorted(sc.profiles)]


def allowed(breach: Breach, within: timedelta) -> timedelta:
    """How long the engine may take: what the scenario promises."""
    return within


@pytest.mark.parametrize(("name", "profile"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_fault_scenario_raises_its_alarm_in_time(every_profile: Registry, name: str, profile: str) -> None:
    scenario = SCENARIOS[name]
    sim = Simulation(every_profile, seed=17, start_ns=START_NS, gateways=[f"gw-{profile}"])
    engine = engine_for(every_profile)
    before = engine.observe_many(sim.readings_between(AT_NS - WARM_UP_NS, AT_NS))
    assert not firing(before), f"{name} on {profile}: an alarm before the fault"
    injection = sim.inject(name, at_ns=AT_NS)
    sensor = every_profile.sensors[injection.sensors[0]]
    trips = scenario.trips_for(sensor)
    horizon = max((allowed(t.breach, t.within) for t in trips), default=scenario.duration or timedelta(hours=1))
    said = engine.observe_many(sim.readings_between(AT_NS, AT_NS + int(horizon.total_seconds()) * 10**9 + 1))
    fired = firing(said)
    for trip in trips:
        kind = RULE_KIND_OF[trip.breach]
        rule_id = f"{sensor.id}/{trip.metric}/{kind.value}"
        hits = [t for t in fired if t.rule_id == rule_id]
        assert hits, f"{name} on {profile}: {rule_id} never fired (fired: {[t.rule_id for t in fired]})"
        late_by = hits[0].at_ns - AT_NS - allowed(trip.breach, trip.within).total_seconds() * 10**9
        assert late_by <= 0, f"{name} on {profile}: {rule_id} fired {late_by / MIN:.1f} min too late"
        assert hits[0].sensor == sensor.id and hits[0].summary.startswith(sensor.asset_name)
    if not trips:  # a tolerated event: the platform stays quiet
        assert not fired, f"{name} on {profile}: {[t.rule_id for t in fired]}"


@pytest.mark.parametrize("name", ["uv-lamp-ageing", "uv-lamp-sudden-failure"])
def test_uv_lamp_below_70_orders_a_replacement_at_its_next_cycle(every_profile: Registry, name: str) -> None:
    sim = Simulation(every_profile, seed=17, start_ns=START_NS, gateways=["gw-uv_lamp"])
    engine = engine_for(every_profile)
    engine.observe_many(sim.readings_between(AT_NS - WARM_UP_NS, AT_NS))
    sim.inject(name, at_ns=AT_NS)
    said = engine.observe_many(sim.readings_between(AT_NS, AT_NS + 24 * HOUR))
    (fired,) = transitions(said, "uv_lamp-1-s/intensity/threshold", AlertState.FIRING)
    assert fired.work_order == "replace_uv_lamp" and fired.value is not None and float(fired.value) < 70


def test_oxygen_sudden_drop_fires_rate_of_change_before_the_pressure_alarm(every_profile: Registry) -> None:
    sim = Simulation(every_profile, seed=17, start_ns=START_NS, gateways=["gw-oxygen_line"])
    engine = engine_for(every_profile)
    engine.observe_many(sim.readings_between(AT_NS - WARM_UP_NS, AT_NS))
    sim.inject("oxygen-sudden-drop", at_ns=AT_NS)
    said = engine.observe_many(sim.readings_between(AT_NS, AT_NS + 10 * MIN))
    rate = transitions(said, "oxygen_line-1-s/pressure/rate_of_change", AlertState.FIRING)
    low = transitions(said, "oxygen_line-1-s/pressure/threshold", AlertState.FIRING)
    assert rate and low and rate[0].at_ns < low[0].at_ns
    assert rate[0].at_ns - AT_NS <= 20 * 10**9  # within two 10-second readings
    assert "sudden drop" in rate[0].summary and rate[0].severity.value == "critical"
    # Latched: the fall has stopped but the line is still far below its alarm limit.
    assert not transitions(said, "oxygen_line-1-s/pressure/rate_of_change", AlertState.RESOLVED)


def test_door_left_open_fires_the_combination_before_the_temperature_alarm(every_profile: Registry) -> None:
    sim = Simulation(every_profile, seed=17, start_ns=START_NS, gateways=["gw-vaccine_fridge"])
    engine = engine_for(every_profile)
    engine.observe_many(sim.readings_between(AT_NS - WARM_UP_NS, AT_NS))
    sim.inject("vaccine-fridge-door-left-open", at_ns=AT_NS)
    said = engine.observe_many(sim.readings_between(AT_NS, AT_NS + HOUR))
    (combined,) = transitions(said, "vaccine_fridge-1-s/temperature/combination/door-open", AlertState.FIRING)
    (temperature,) = transitions(said, "vaccine_fridge-1-s/temperature/threshold", AlertState.FIRING)
    assert combined.at_ns < temperature.at_ns and combined.summary.endswith("close the door (Room, Floor, Building)")
    assert "temperature above 8.0 °C" in combined.summary
    assert combined.rule_kind is RuleKind.COMBINATION
    assert excursions(said), "the warm fridge opens an excursion record"


@pytest.mark.parametrize("profile", sorted({p for _, p in CASES} | {"lox_tank", "uv_lamp"}))
def test_a_normal_week_of_each_profile_raises_no_alarm(every_profile: Registry, profile: str) -> None:
    sim = Simulation(every_profile, seed=21, start_ns=START_NS, gateways=[f"gw-{profile}"])
    engine = engine_for(every_profile)
    said = engine.observe_many(sim.readings_between(START_NS, START_NS + WEEK))
    assert not firing(said), [t.summary for t in firing(said)]
    assert not excursions(said)
    # Only the door contact goes PENDING (a pick or a restock), and every one is resolved.
    others = [t for t in transitions(said) if t.metric != "door_open"]
    assert not others, others[:3]
    assert not engine.active_alerts()


def test_a_normal_week_of_the_small_facility_raises_no_alarm(small: Registry) -> None:
    """Door openings, defrost, demand dips, night-time lows and zero night flow,
    over every family at once; the vaccine fridge at its overridden 7.5 °C."""
    engine = RulesEngine(small, build_rules(small), clock=lambda: START_NS)
    said = engine.observe_many(Simulation(small, seed=11, start_ns=START_NS).readings_between(START_NS, START_NS + WEEK))
    assert not firing(said) and not excursions(said)
    door_pendings = transitions(said, "vac-fridge-1-door/door_open/threshold", AlertState.PENDING)
    assert len(door_pendings) > 20  # the fridge was used all week, and no door opening alarmed
    assert engine.stats()["late"] == 0 and engine.stats()["observed"] > 200_000
