"""Silences and maintenance windows: a silenced alert is recorded (state
changes, audit trail) but pages nobody; when the silence ends and it still
fires, it is announced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.model import AlertState
from alerts.store import AlertStore
from tests.alerts.store.store_kit import T0, FakeClock, recipients, transition


def test_a_silenced_alert_is_recorded_but_notifies_nobody(store: AlertStore, clock: FakeClock) -> None:
    silence = store.add_silence(asset="vac-fridge-1", created_by="Chen Jing", reason="defrost and cleaning",
                                duration=timedelta(hours=2))
    assert store.apply(transition(), clock()) == []
    assert store.apply(transition(state=AlertState.RESOLVED), clock.advance(minutes=20)) == []
    assert store.process_due(clock.advance(minutes=30)) == []

    (alert,) = store.list_alerts()
    assert alert.state is AlertState.RESOLVED
    actions = [(e.action, e.note) for e in store.alert_events(alert.id)]
    assert ("suppressed", f"silence {silence.id}") in actions
    assert store.notifications() == []


def test_an_alert_still_firing_when_its_silence_ends_is_announced(store: AlertStore, clock: FakeClock) -> None:
    store.add_silence(sensor="vac-fridge-1-temp", created_by="Chen Jing", reason="probe replacement",
                      ends_at=T0 + timedelta(minutes=30), kind="maintenance")
    assert store.apply(transition(), clock()) == []
    assert store.process_due(clock.advance(minutes=29)) == []
    assert recipients(store.process_due(clock.advance(minutes=1))) == ["wang-mail"]


def test_expiring_a_silence_early_lets_the_alert_through(store: AlertStore, clock: FakeClock) -> None:
    silence = store.add_silence(rule_id="vac-fridge-1-temp/temperature/threshold", created_by="Chen Jing",
                                reason="calibration", duration=timedelta(hours=4))
    store.apply(transition(), clock())
    store.expire_silence(silence.id, "Chen Jing", now=clock.advance(minutes=5))
    assert recipients(store.process_due(clock())) == ["wang-mail"]
    assert store.list_silences(active_at=clock()) == []


def test_a_building_silence_holds_only_that_buildings_alerts(store: AlertStore, clock: FakeClock) -> None:
    store.add_silence(building="annex", created_by="Chen Jing", reason="annex rewiring", duration=timedelta(hours=8))
    assert store.apply(transition("bb-fridge-1-temp"), clock()) == []
    assert recipients(store.apply(transition("vac-fridge-1-temp"), clock())) == ["wang-mail"]


def test_a_silence_that_fires_mid_escalation_holds_the_escalation(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    store.add_silence(asset="vac-fridge-1", created_by="Wang Li", reason="engineer on site, door open",
                      duration=timedelta(minutes=40), now=clock.advance(minutes=5))
    assert store.process_due(clock.advance(minutes=10)) == []  # tier 2 would be due at t0+15
    (alert,) = store.list_alerts()
    escalation = store.escalation(alert.id)
    assert escalation is not None and escalation.held
    assert store.process_due(clock.set(T0 + timedelta(minutes=45))) == []  # silence over: resumes, waits a tier
    assert recipients(store.process_due(clock.set(T0 + timedelta(minutes=60)))) == ["chen-mail"]


@pytest.mark.parametrize(("matchers", "message"), [
    ({}, "at least one of"),
    ({"asset": "vac-fridge-1", "created_by": " "}, "who created it"),
    ({"asset": "vac-fridge-1", "reason": ""}, "reason"),
    ({"asset": "vac-fridge-1", "duration": timedelta(minutes=-5)}, "end after it starts"),
])
def test_a_silence_must_match_something_and_say_who_and_why(store: AlertStore, matchers: dict[str, object],
                                                           message: str) -> None:
    arguments: dict[str, Any] = {"created_by": "Chen Jing", "reason": "works", "duration": timedelta(hours=1)}
    arguments.update(matchers)
    with pytest.raises(ValueError, match=message):
        store.add_silence(**arguments)
