"""Flap damping in the store: an alert that clears and fires again reopens
the same alert, its "resolved" message waits until the condition has stayed
clear, and it is not announced again within the cooldown."""

from __future__ import annotations

from alerts.model import AlertState
from alerts.store import AlertStore
from tests.alerts.store.store_kit import FakeClock, transition

FIRING, RESOLVED = AlertState.FIRING, AlertState.RESOLVED


def test_a_flapping_alert_reopens_the_same_alert_and_pages_once(store: AlertStore, clock: FakeClock) -> None:
    sent = store.apply(transition(state=FIRING), clock())
    for _ in range(10):  # clears and fires again every 30 seconds
        sent += store.apply(transition(state=RESOLVED), clock.advance(seconds=30))
        sent += store.process_due(clock())
        sent += store.apply(transition(state=FIRING), clock.advance(seconds=30))
        sent += store.process_due(clock())

    (alert,) = store.list_alerts()
    assert alert.state is AlertState.FIRING and alert.flaps == 10
    assert [n.kind for n in sent] == ["firing"]  # one page, no "resolved", no re-page
    assert [e.action for e in store.alert_events(alert.id)].count("reopened") == 10


def test_the_resolved_message_waits_until_the_condition_stayed_clear(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(state=FIRING), clock())
    assert store.apply(transition(state=RESOLVED), clock.advance(minutes=1)) == []
    assert store.process_due(clock.advance(minutes=4)) == []  # 4 of the 5 minutes
    told = store.process_due(clock.advance(minutes=1))
    assert [(n.kind, n.recipient) for n in told] == [("resolved", "wang-mail")]
    assert "RESOLVED" in told[0].title
    assert store.process_due(clock.advance(minutes=10)) == []  # once


def test_a_refire_after_resolved_was_told_waits_for_the_cooldown(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(state=FIRING), clock())  # announced at t0
    store.apply(transition(state=RESOLVED), clock.advance(minutes=2))
    store.process_due(clock.advance(minutes=5))  # resolved told at t0+7
    refire = store.apply(transition(state=FIRING), clock.advance(minutes=3))  # t0+10, within the reopen window

    (alert,) = store.list_alerts()
    assert refire == [] and alert.flaps == 1 and alert.suppressed_by is not None
    assert "cooldown" in alert.suppressed_by
    assert store.process_due(clock.advance(minutes=4)) == []  # t0+14
    again = store.process_due(clock.advance(minutes=1))  # t0+15: 15 min after the last announcement
    assert [(n.kind, n.recipient) for n in again] == [("firing", "wang-mail")]
    assert store.get_alert(alert.id).episode == 2


def test_a_refire_after_the_reopen_window_is_a_new_alert(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(state=FIRING), clock())
    store.apply(transition(state=RESOLVED), clock.advance(minutes=1))
    store.process_due(clock.advance(minutes=5))
    paged = store.apply(transition(state=FIRING), clock.advance(minutes=31))

    first, second = sorted(store.list_alerts(), key=lambda a: a.id)
    assert (first.state, second.state) == (AlertState.RESOLVED, AlertState.FIRING)
    assert [n.alert_id for n in paged] == [second.id]


def test_an_acknowledged_alert_that_flaps_stays_acknowledged(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(state=FIRING), clock())
    (alert,) = store.list_alerts()
    store.acknowledge(alert.id, "Wang Li", "on my way", now=clock.advance(minutes=2))
    store.apply(transition(state=RESOLVED), clock.advance(minutes=1))
    assert store.apply(transition(state=FIRING), clock.advance(minutes=1)) == []
    assert store.get_alert(alert.id).state is AlertState.ACKNOWLEDGED
    assert store.process_due(clock.advance(minutes=30)) == []  # no escalation: someone is on it
