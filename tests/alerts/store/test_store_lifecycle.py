"""The alert lifecycle: pending -> firing -> acknowledged -> resolved, one
open alert per rule and sensor, and an audit trail of every change."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest

from alerts.model import AlertState
from alerts.store import AlertNotFound, AlertStore, InvalidAlertTransition
from tests.alerts.store.store_kit import T0, FakeClock, keys, recipients, transition
from vigil.profiles import Severity

FIRING, PENDING, RESOLVED = AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED


def test_pending_firing_resolved_is_one_alert_with_every_change_in_its_audit_trail(store: AlertStore, clock: FakeClock) -> None:
    assert store.apply(transition(state=PENDING), clock()) == []
    (alert,) = store.list_alerts()
    assert alert.state is PENDING

    paged = store.apply(transition(state=FIRING), clock.advance(minutes=15))
    assert recipients(paged) == ["wang-mail"]
    clock.advance(minutes=1)
    store.acknowledge(alert.id, "Wang Li", "checking the fridge door")
    store.apply(transition(state=RESOLVED, value=5.0), clock.advance(minutes=20))

    (after,) = store.list_alerts()
    assert after.id == alert.id and after.state is RESOLVED
    trail = [(e.action, e.from_state, e.to_state) for e in store.alert_events(alert.id) if e.to_state]
    assert trail == [
        ("opened", None, "pending"),
        ("fired", "pending", "firing"),
        ("acknowledged", "firing", "acknowledged"),
        ("resolved", "acknowledged", "resolved"),
    ]
    times = [e.at for e in store.alert_events(alert.id)]
    assert times == sorted(times) and times[0] == T0 and times[-1] == T0 + timedelta(minutes=36)


def test_retriggering_updates_the_open_alert_and_never_duplicates_it(store: AlertStore, clock: FakeClock) -> None:
    first = store.apply(transition(value=9.2), clock())
    again = store.apply(transition(value=10.4, summary="Vaccine fridge 1 at 10.4 °C"), clock.advance(minutes=1))
    store.apply(transition(value=11.0), clock.advance(minutes=1))

    (alert,) = store.list_alerts(rule_id="vac-fridge-1-temp/temperature/threshold")
    assert alert.value == 11.0
    assert len(first) == 1 and again == []  # re-triggering pages nobody again


def test_each_sensor_of_a_rule_has_its_own_alert(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition("vac-fridge-1-temp", rule_id="cold-chain/temperature"), clock())
    store.apply(transition("bb-fridge-1-temp", rule_id="cold-chain/temperature"), clock())
    assert sorted(a.sensor for a in store.list_alerts(open_only=True)) == ["bb-fridge-1-temp", "vac-fridge-1-temp"]


def test_an_alert_knows_where_it_is(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition("bb-fridge-1-temp"), clock())
    (alert,) = store.list_alerts()
    assert alert.family == "cold_chain" and alert.profile == "blood_bank_fridge"
    assert (alert.place.building_name, alert.place.room_name, alert.place.asset_name) == ("Annex", "Blood Bank", "Blood bank fridge 1")
    assert alert.place.timezone == "Asia/Shanghai"


def test_acknowledging_records_who_when_and_the_note(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    acked = store.acknowledge(alert.id, "Wang Li", "moved the vaccines to fridge 2", now=clock.advance(minutes=4))

    assert acked.state is AlertState.ACKNOWLEDGED
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("Wang Li", T0 + timedelta(minutes=4))
    event = store.alert_events(alert.id)[-1]
    assert (event.actor, event.action, event.note) == ("Wang Li", "acknowledged", "moved the vaccines to fridge 2")


def test_acknowledging_twice_or_after_resolution_is_refused(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    store.acknowledge(alert.id, "Wang Li")
    with pytest.raises(InvalidAlertTransition, match="already acknowledged by Wang Li"):
        store.acknowledge(alert.id, "Zhang Wei")
    store.resolve(alert.id, "Wang Li", "fixed")
    with pytest.raises(InvalidAlertTransition, match="resolved"):
        store.acknowledge(alert.id, "Zhang Wei")
    with pytest.raises(AlertNotFound):
        store.acknowledge(999, "Zhang Wei")
    with pytest.raises(ValueError, match="--by"):
        store.comment(alert.id, " ", "who am I")


def test_resolving_by_hand_tells_everyone_who_was_paged(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    store.process_due(clock.advance(minutes=15))  # tier 2: chen
    (alert,) = store.list_alerts()
    store.resolve(alert.id, "Chen Jing", "door was left open; closed it", now=clock.advance(minutes=2))

    resolved = [n for n in store.notifications(alert_id=alert.id) if n.kind == "resolved"]
    assert sorted(n.recipient for n in resolved) == ["chen-mail", "wang-mail"]
    assert "by Chen Jing" in resolved[0].body
    escalation = store.escalation(alert.id)
    assert escalation is not None and escalation.stop_reason == "resolved"


def test_comments_go_into_the_audit_trail(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    store.comment(alert.id, "Chen Jing", "supplier called, engineer on the way", now=clock.advance(minutes=3))
    last = store.alert_events(alert.id)[-1]
    assert (last.action, last.actor, last.note, last.at) == ("comment", "Chen Jing", "supplier called, engineer on the way",
                                                            T0 + timedelta(minutes=3))


def test_a_pending_alert_that_clears_pages_nobody(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(state=PENDING), clock())
    assert store.apply(transition(state=RESOLVED), clock.advance(minutes=5)) == []
    assert store.process_due(clock.advance(minutes=30)) == []
    assert store.notifications() == []


def test_alerts_are_listed_by_state_severity_building_and_family(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition("vac-fridge-1-temp"), clock())
    store.apply(transition("bb-fridge-1-temp", severity=Severity.WARNING), clock())
    store.apply(transition("o2-b1-p", state=PENDING), clock())
    store.apply(transition("uv-ward-2-s", severity=Severity.WARNING, value=62.0), clock())

    def sensors(**filters: Any) -> list[str]:
        return sorted(a.sensor for a in store.list_alerts(**filters))

    assert sensors(building="annex") == ["bb-fridge-1-temp", "uv-ward-2-s"]
    assert sensors(family="cold_chain") == ["bb-fridge-1-temp", "vac-fridge-1-temp"]
    assert sensors(severity="warning", building="annex", family="uv_lamp") == ["uv-ward-2-s"]
    assert sensors(state=AlertState.PENDING) == ["o2-b1-p"]
    assert sensors(state=[AlertState.FIRING, AlertState.PENDING], building="main") == ["o2-b1-p", "vac-fridge-1-temp"]


def test_times_come_back_timezone_aware_in_utc(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    assert alert.opened_at == T0 and alert.opened_at.tzinfo is UTC
    assert alert.since == T0 - timedelta(minutes=15)


def test_notification_intents_name_their_step_and_recipient(store: AlertStore, clock: FakeClock) -> None:
    paged = store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    assert keys(paged) == [f"alert:{alert.id}/e1/tier1/pass1/wang-mail"]
