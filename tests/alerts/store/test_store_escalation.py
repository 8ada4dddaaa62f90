"""Escalation by time, driven by process_due(now) over stored timestamps:
tier 1 at t0, tier 2 at t0 + N, then the policy again, then stop;
acknowledging stops it."""

from __future__ import annotations

from datetime import timedelta

from alerts.store import AlertStore
from tests.alerts.conftest import StoreFactory
from tests.alerts.store.store_kit import T0, FakeClock, oncall_config, recipients, transition
from tests.alerts.store.store_kit import keys as intent_keys
from vigil.profiles import Severity


def _timeline(store: AlertStore, clock: FakeClock, minutes: int, every: int = 1) -> list[tuple[int, str]]:
    """(minute, recipient) of every notification over `minutes`, one tick every `every` minutes."""
    seen = []
    for minute in range(every, minutes + 1, every):
        for n in store.process_due(clock.set(T0 + timedelta(minutes=minute))):
            seen.append((minute, n.recipient))
    return seen


def test_escalation_notifies_tier_1_then_tier_2_then_repeats_then_stops(store: AlertStore, clock: FakeClock) -> None:
    assert recipients(store.apply(transition(), clock())) == ["wang-mail"]  # t0: tier 1, whoever is on call
    assert _timeline(store, clock, 90) == [(15, "chen-mail"), (30, "wang-mail"), (45, "chen-mail")]

    (alert,) = store.list_alerts()
    escalation = store.escalation(alert.id)
    assert escalation is not None and escalation.stopped_at == T0 + timedelta(minutes=60)
    assert escalation.stop_reason is not None and "exhausted" in escalation.stop_reason
    actions = [e.action for e in store.alert_events(alert.id)]
    assert actions.count("escalated") == 3 and "escalation_exhausted" in actions


def test_acknowledging_stops_escalation(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    (alert,) = store.list_alerts()
    assert _timeline(store, clock, 20) == [(15, "chen-mail")]
    store.acknowledge(alert.id, "Chen Jing", "engineer called", now=clock.set(T0 + timedelta(minutes=21)))
    assert store.process_due(clock.set(T0 + timedelta(hours=3))) == []
    escalation = store.escalation(alert.id)
    assert escalation is not None and escalation.stop_reason == "acknowledged by Chen Jing"


def test_a_warning_follows_the_slower_standard_policy(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition("uv-ward-2-s", severity=Severity.WARNING, value=61.0), clock())
    assert _timeline(store, clock, 180, every=5) == [(60, "chen-mail")]  # no repeat in the standard policy


def test_after_downtime_escalation_resumes_one_step_at_a_time(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    # The service was down for two hours: every step is overdue.
    late = store.process_due(clock.set(T0 + timedelta(hours=2)))
    assert recipients(late) == ["chen-mail"]  # tier 2 only, not the whole policy at once
    assert store.process_due(clock.advance(minutes=14)) == []
    assert recipients(store.process_due(clock.advance(minutes=1))) == ["wang-mail"]


def test_the_on_call_person_is_paged_by_the_rotation_at_that_time(store: AlertStore, clock: FakeClock) -> None:
    # The next day after the 08:00 hand-over (Shanghai), Zhang is on call.
    tomorrow = T0 + timedelta(days=1)
    paged = store.apply(transition(at=tomorrow), clock.set(tomorrow))
    assert recipients(paged) == ["zhang-mail"]


def test_an_alert_no_policy_routes_is_recorded_but_pages_nobody(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(oncall=oncall_config(routes=[], default_policy=None))
    assert store.apply(transition(), clock()) == []
    (alert,) = store.list_alerts()
    assert alert.state.value == "firing"
    assert "no escalation policy" in (store.alert_events(alert.id)[-1].note or "")
    assert store.process_due(clock.advance(hours=2)) == []


def test_every_step_has_its_own_idempotency_key(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(), clock())
    _timeline(store, clock, 60)
    (alert,) = store.list_alerts()
    steps = intent_keys(store.notifications(alert_id=alert.id))
    assert steps == [f"alert:{alert.id}/e1/tier1/pass1/wang-mail", f"alert:{alert.id}/e1/tier2/pass1/chen-mail",
                     f"alert:{alert.id}/e1/tier1/pass2/wang-mail", f"alert:{alert.id}/e1/tier2/pass2/chen-mail"]
