"""Threshold rules: alarm delay in event time, hysteresis (clear band), flap
damping (resolve hold), and what a transition tells a person."""

from __future__ import annotations

from alerts.model import AlertState, RuleKind
from alerts.rules.damping import Alarm
from tests.alerts.rules.rules_kit import MIN, START_NS, engine_for, feed, readings, states, transitions
from vigil.contract import Reading
from vigil.profiles import Severity
from vigil.registry import Registry

FRIDGE = "vac-fridge-1-temp"  # 2.0-7.5 °C (asset override), 15 min delay, 0.3 °C clear band
RULE = f"{FRIDGE}/temperature/threshold"
DOOR_RULE = "vac-fridge-1-door/door_open/threshold"


def test_compressor_failure_goes_pending_then_fires_after_the_alarm_delay(small: Registry) -> None:
    engine = engine_for(small)
    warming = [5.0] * 10 + [7.6 + 0.05 * i for i in range(30)]  # above 7.5 °C from minute 10
    said = transitions(feed(engine, readings(FRIDGE, "temperature", warming)), RULE)
    assert [t.state for t in said] == [AlertState.PENDING, AlertState.FIRING]
    pending, fired = said
    assert pending.at_ns == START_NS + 10 * MIN
    assert fired.at_ns == START_NS + 25 * MIN  # 15 min of event time later, not when it arrived
    assert fired.since_ns == pending.at_ns
    assert fired.rule_kind is RuleKind.THRESHOLD and fired.severity is Severity.CRITICAL
    assert fired.limit == "> 7.5 °C for 15 min"
    assert fired.value == 8.35 and fired.asset == "vac-fridge-1" and fired.metric == "temperature"


def test_a_transition_says_what_and_where(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, readings(FRIDGE, "temperature", [5.0] + [8.4] * 16))
    (fired,) = transitions(said, RULE, AlertState.FIRING)
    assert fired.summary == (
        "Vaccine fridge 1 temperature above 7.5 °C for 15 min: now 8.4 °C: service fridge (Blood Bank, Basement, Main Building)"
    )
    assert fired.details["room_name"] == "Blood Bank" and fired.details["building_name"] == "Main Building"
    assert fired.details["floor_name"] == "Basement" and fired.details["department"] == "Transfusion"
    assert fired.details["gateway"] == "gw-a" and fired.details["source"] == "CDC/VFC 2-8 °C"


def test_a_warm_spell_shorter_than_the_delay_never_fires(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, readings(FRIDGE, "temperature", [5.0] * 5 + [8.0] * 14 + [5.0] * 30))
    assert states(said, RULE) == [AlertState.PENDING, AlertState.RESOLVED]
    resolved = transitions(said, RULE, AlertState.RESOLVED)[0]
    assert resolved.at_ns == START_NS + (19 + 15) * MIN  # back inside at minute 19, held for the 15 min delay


def test_a_value_in_the_clear_band_keeps_the_alarm_firing(small: Registry) -> None:
    engine = engine_for(small)
    # Fires, then sits at 7.3 °C: inside 7.5 but not by the 0.3 °C clear band, for an hour.
    said = feed(engine, readings(FRIDGE, "temperature", [8.0] * 16 + [7.3] * 60))
    assert states(said, RULE) == [AlertState.PENDING, AlertState.FIRING]
    # At 7.1 °C (past the band) it clears, after the hold.
    more = feed(engine, readings(FRIDGE, "temperature", [7.1] * 20, start_ns=START_NS + 76 * MIN))
    assert states(more, RULE) == [AlertState.RESOLVED]
    assert transitions(more, RULE)[0].details["cleared_ns"] == START_NS + 76 * MIN


def test_a_value_flapping_around_the_limit_raises_one_alert_not_a_storm(small: Registry) -> None:
    engine = engine_for(small)
    # Every other minute above 7.5 °C, every other minute well inside, for three hours.
    flapping = [7.8 if i % 2 else 6.5 for i in range(180)]
    said = feed(engine, readings(FRIDGE, "temperature", flapping))
    assert states(said, RULE) == [AlertState.PENDING]  # never an unbroken 15 min out: never fires, never storms
    # Out for 20 minutes, then flapping again for two hours: fires once, stays open.
    said = feed(engine, readings(FRIDGE, "temperature", [7.9] * 20 + flapping[:120], start_ns=START_NS + 180 * MIN))
    assert states(said, RULE) == [AlertState.FIRING]
    said = feed(engine, readings(FRIDGE, "temperature", [5.0] * 20, start_ns=START_NS + 320 * MIN))
    assert states(said, RULE) == [AlertState.RESOLVED]


def test_resolved_only_after_staying_back_inside_for_the_hold(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [8.2] * 16))
    back = feed(engine, readings(FRIDGE, "temperature", [5.0] * 14, start_ns=START_NS + 16 * MIN))
    assert states(back, RULE) == []  # 14 minutes inside: still firing
    again = feed(engine, readings(FRIDGE, "temperature", [8.2] * 3, start_ns=START_NS + 30 * MIN))
    assert states(again, RULE) == []  # came back before the hold ran out: the same alert, not re-emitted
    done = feed(engine, readings(FRIDGE, "temperature", [5.0] * 16, start_ns=START_NS + 33 * MIN))
    (resolved,) = transitions(done, RULE)
    assert resolved.state is AlertState.RESOLVED and resolved.at_ns == START_NS + 48 * MIN
    assert resolved.summary.startswith("Vaccine fridge 1 temperature back within 2.0-7.5 °C")


def test_door_left_open_alarms_after_ten_minutes(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, readings("vac-fridge-1-door", "door_open", [False] + [True] * 12))
    assert states(said, DOOR_RULE) == [AlertState.PENDING, AlertState.FIRING]
    fired = transitions(said, DOOR_RULE, AlertState.FIRING)[0]
    assert fired.at_ns == START_NS + 11 * MIN and fired.limit == "door open for 10 min"
    assert fired.severity is Severity.WARNING and fired.value is True
    closed = feed(engine, readings("vac-fridge-1-door", "door_open", [False] * 11, start_ns=START_NS + 13 * MIN))
    (closed_door,) = transitions(closed, DOOR_RULE)
    assert closed_door.summary == "Vaccine fridge 1 door closed (Blood Bank, Basement, Main Building)"


def test_vaccine_fridge_door_opening_does_not_alarm(small: Registry) -> None:
    engine = engine_for(small)
    quick_pick = [False] * 5 + [True] * 2 + [False] * 30
    said = feed(engine, readings("vac-fridge-1-door", "door_open", quick_pick * 3))
    assert not transitions(said, state=AlertState.FIRING)


def test_silence_does_not_count_towards_the_alarm_delay(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, [Reading(FRIDGE, "temperature", 8.1, START_NS)])
    # The probe is silent for 90 min (longer than the 60 min no-data limit), then reads 8.1 °C again.
    later = START_NS + 90 * MIN
    said = feed(engine, readings(FRIDGE, "temperature", [8.1] * 16, start_ns=later))
    (fired,) = transitions(said, RULE, AlertState.FIRING)
    assert fired.at_ns == later + 15 * MIN  # the delay counts from the return, not across the silence


def test_a_delay_of_zero_fires_at_once_without_pending() -> None:
    alarm = Alarm()
    assert alarm.step(True, 10, 0, 5, 100) is AlertState.FIRING
    assert alarm.step(False, 11, 0, 5, 100) is None
    assert alarm.step(False, 16, 0, 5, 100) is AlertState.RESOLVED
