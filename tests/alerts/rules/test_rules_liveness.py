"""What only the wall clock shows: sensors that stop reporting and gateways
that go offline, judged by tick()."""

from __future__ import annotations

from alerts.model import AlertState, RuleKind, Transition
from alerts.rules import RulesEngine
from tests.alerts.rules.rules_kit import HOUR, MIN, START_NS, S, engine_for, feed, readings
from vigil.contract import Reading
from vigil.profiles import Severity
from vigil.registry import Registry

FRIDGE = "vac-fridge-1-temp"
GATEWAY_RULE = "gw-a/-/gateway_offline"


def about(said: list[Transition], sensor: str, kind: RuleKind) -> list[Transition]:
    return [t for t in said if t.sensor == sensor and t.rule_kind is kind]


def test_a_silent_sensor_raises_no_data_once_past_its_expected_interval(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [5.0] * 30))  # the last reading at minute 29
    assert not about(engine.tick(START_NS + 89 * MIN), FRIDGE, RuleKind.NO_DATA)
    (stale,) = about(engine.tick(START_NS + 90 * MIN), FRIDGE, RuleKind.NO_DATA)
    assert stale.state is AlertState.FIRING and stale.at_ns == START_NS + 90 * MIN  # wall clock
    assert stale.since_ns == START_NS + 29 * MIN and stale.limit == "no reading for 1 h"
    assert stale.severity is Severity.CRITICAL  # it watches vaccines
    assert stale.details["gateway"] == "gw-a"  # so the store can tie it to a gateway outage
    assert not about(engine.tick(START_NS + 95 * MIN), FRIDGE, RuleKind.NO_DATA)  # said once


def test_no_data_resolves_once_the_sensor_has_been_reporting_for_the_hold(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [5.0]))
    engine.tick(START_NS + 2 * HOUR)
    feed(engine, readings(FRIDGE, "temperature", [5.0] * 10, start_ns=START_NS + 2 * HOUR))
    assert not about(engine.tick(START_NS + 2 * HOUR + MIN), FRIDGE, RuleKind.NO_DATA)
    (back,) = about(engine.tick(START_NS + 2 * HOUR + 6 * MIN), FRIDGE, RuleKind.NO_DATA)
    assert back.state is AlertState.RESOLVED and back.summary.startswith("Vaccine fridge 1 reporting again")


def test_a_sensor_never_heard_from_raises_no_data(small: Registry) -> None:
    engine = engine_for(small)
    assert not about(engine.tick(START_NS + 59 * MIN), FRIDGE, RuleKind.NO_DATA)
    (never,) = about(engine.tick(START_NS + 61 * MIN), FRIDGE, RuleKind.NO_DATA)
    assert "has not reported since monitoring began" in never.summary


def test_a_door_contact_that_goes_silent_is_a_warning_an_oxygen_sensor_critical(small: Registry) -> None:
    said = engine_for(small).tick(START_NS + 2 * HOUR)
    severities = {t.sensor: t.severity for t in said if t.rule_kind is RuleKind.NO_DATA}
    assert severities["vac-fridge-1-door"] is Severity.WARNING and severities["o2-b1-p"] is Severity.CRITICAL


def test_gateway_offline_fires_after_its_delay_and_resolves_when_online(small: Registry) -> None:
    engine = engine_for(small)
    (pending,) = engine.observe_status("gw-a", False, START_NS)
    assert (pending.rule_id, pending.state, pending.sensor, pending.asset) == (GATEWAY_RULE, AlertState.PENDING, "gw-a", "-")
    assert not [t for t in engine.tick(START_NS + MIN) if t.rule_id == GATEWAY_RULE]
    (fired,) = [t for t in engine.tick(START_NS + 2 * MIN) if t.rule_id == GATEWAY_RULE]
    assert fired.state is AlertState.FIRING and fired.rule_kind is RuleKind.GATEWAY_OFFLINE
    assert "4 sensors not reporting" in fired.summary and "Blood Bank" in fired.summary
    assert engine.observe_status("gw-a", True, START_NS + 10 * MIN) == []
    assert not [t for t in engine.tick(START_NS + 14 * MIN) if t.rule_id == GATEWAY_RULE]
    (resolved,) = [t for t in engine.tick(START_NS + 15 * MIN) if t.rule_id == GATEWAY_RULE]
    assert resolved.state is AlertState.RESOLVED


def test_a_gateway_reconnecting_within_its_delay_does_not_fire(small: Registry) -> None:
    engine = engine_for(small)
    said = engine.observe_status("gw-b", False, START_NS) + engine.observe_status("gw-b", True, START_NS + 20 * S)
    for minute in range(1, 10):
        said += [t for t in engine.tick(START_NS + minute * MIN) if t.sensor == "gw-b"]
    assert [t.state for t in said] == [AlertState.PENDING, AlertState.RESOLVED]


def test_a_last_will_is_dated_from_the_gateways_last_sign_of_life(small: Registry) -> None:
    engine = engine_for(small)
    engine.observe_status("gw-a", True, START_NS)  # connected; its will carries this time too
    feed(engine, readings(FRIDGE, "temperature", [5.0] * 181))  # then three hours of readings
    last_reading = START_NS + 3 * HOUR
    (pending,) = engine.observe_status("gw-a", False, START_NS)  # the broker publishes the will
    assert pending.since_ns == last_reading
    assert not [t for t in engine.tick(last_reading + MIN) if t.rule_id == GATEWAY_RULE]
    assert [t.state for t in engine.tick(last_reading + 2 * MIN) if t.rule_id == GATEWAY_RULE] == [AlertState.FIRING]


def test_a_retained_offline_status_seen_again_after_a_restart_is_not_emitted_again(small: Registry) -> None:
    engine = engine_for(small)
    engine.observe_status("gw-b", False, START_NS)
    engine.tick(START_NS + 3 * MIN)
    engine = RulesEngine.restore(small, engine.snapshot(), clock=lambda: START_NS + HOUR)
    assert engine.observe_status("gw-b", False, START_NS) == []  # the broker re-delivers the retained status
    assert not [t for t in engine.tick(START_NS + HOUR) if t.sensor == "gw-b"]
    assert engine.active_alerts()["gw-b/-/gateway_offline"] is AlertState.FIRING


def test_readings_from_a_sensor_count_as_signs_of_life_even_when_late(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, [Reading(FRIDGE, "temperature", 5.0, START_NS + 50 * MIN), Reading(FRIDGE, "temperature", 5.0, START_NS)])
    assert not about(engine.tick(START_NS + 100 * MIN), FRIDGE, RuleKind.NO_DATA)
