"""Maintenance work orders: raised from transitions, one open order per asset
and problem, response SLAs by priority with escalation at half the window,
response and resolution tracked separately, and a full lifecycle history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerts.model import AlertState, RuleKind, Transition
from alerts.store import AlertStore, WorkOrderNotFound
from alerts.workorders import InvalidWorkOrderTransition, Priority, WorkOrderState
from tests.alerts.store.store_kit import T0, FakeClock, transition
from vigil.profiles import Severity


def _uv_low(**overrides: Any) -> Transition:
    arguments: dict[str, Any] = {"value": 64.0, "severity": Severity.WARNING, "limit": "< 70 μW/cm² for 5 min",
                                 "summary": "UV lamp OR 1 at 64 μW/cm²", "work_order": "replace_uv_lamp"}
    arguments.update(overrides)
    return transition("uv-or-1-s", **arguments)


def test_a_transition_with_a_work_order_opens_one_order_per_asset_and_problem(store: AlertStore, clock: FakeClock) -> None:
    store.apply(_uv_low(), clock())
    store.apply(_uv_low(value=63.0), clock.advance(minutes=5))
    (alert,) = store.list_alerts()
    store.apply(transition("uv-or-1-s", AlertState.RESOLVED, rule_id=alert.rule_id), clock.advance(minutes=40))
    store.process_due(clock.advance(minutes=10))
    store.apply(_uv_low(rule_id="uv-or-1-s/intensity/predicted", kind=RuleKind.PREDICTED_CROSSING), clock.advance(hours=1))

    (order,) = store.list_work_orders()
    assert (order.asset, order.problem, order.priority, order.state) == ("uv-or-1", "replace_uv_lamp", Priority.URGENT,
                                                                       WorkOrderState.OPEN)
    assert order.alert_id == alert.id and order.place["room_name"] == "Operating room 1"
    assert [e.action for e in store.work_order_events(order.id)] == ["opened", "raised_again"]


@pytest.mark.parametrize(("severity", "problem", "priority", "window"), [
    (Severity.CRITICAL, "service_fridge", Priority.EMERGENCY, timedelta(minutes=30)),
    (Severity.WARNING, "inspect_leak", Priority.URGENT, timedelta(hours=2)),
    (Severity.WARNING, "planned_uv_lamp_replacement", Priority.ROUTINE, timedelta(hours=24)),
])
def test_priorities_carry_the_response_windows_of_the_hospital_plans(store: AlertStore, clock: FakeClock, severity: Severity,
                                                                     problem: str, priority: Priority, window: timedelta) -> None:
    store.apply(transition("vac-fridge-1-temp", severity=severity, work_order=problem), clock())
    (order,) = store.list_work_orders()
    assert order.priority is priority and order.response_due - order.opened_at == window


def test_an_order_nobody_responds_to_escalates_at_half_its_window(store: AlertStore, clock: FakeClock) -> None:
    opened = store.apply(transition(work_order="service_fridge"), clock())
    assert {(n.kind, n.recipient) for n in opened if n.work_order_id} == {("work_order_opened", "wang-mail")}
    (order,) = store.list_work_orders()

    assert [n for n in store.process_due(clock.advance(minutes=14)) if n.work_order_id] == []
    escalated = [n for n in store.process_due(clock.advance(minutes=1)) if n.work_order_id]
    assert {(n.kind, n.recipient) for n in escalated} == {("work_order_escalated", "chen-mail"),
                                                          ("work_order_escalated", "wang-mail")}
    assert "NO RESPONSE WO-" in escalated[0].title
    overdue = [n for n in store.process_due(clock.advance(minutes=15)) if n.work_order_id]
    assert {n.kind for n in overdue} == {"work_order_overdue"}
    assert [e.action for e in store.work_order_events(order.id)] == ["opened", "escalated", "response_overdue"]
    assert store.get_work_order(order.id).escalated_at == T0 + timedelta(minutes=15)


def test_a_response_in_time_stops_the_escalation(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(work_order="service_fridge"), clock())
    (order,) = store.list_work_orders()
    store.respond_work_order(order.id, "Engineer Zhou", "on site", now=clock.advance(minutes=10))
    assert [n for n in store.process_due(clock.advance(hours=2)) if n.work_order_id] == []


def test_response_and_resolution_are_tracked_separately(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition(work_order="service_fridge"), clock())
    (order,) = store.list_work_orders()
    store.respond_work_order(order.id, "Engineer Zhou", "on site", now=clock.advance(minutes=40))  # late
    done = store.resolve_work_order(order.id, "Engineer Zhou", "replaced the compressor relay", now=clock.advance(hours=2))
    assert done.response_met is False and done.resolution_met is True
    assert (done.responded_at, done.resolved_at) == (T0 + timedelta(minutes=40), T0 + timedelta(minutes=160))


def test_the_lifecycle_runs_open_assigned_responded_resolved_closed_with_notes(store: AlertStore, clock: FakeClock) -> None:
    order = store.open_work_order("inspect_leak", asset="water-main", description="night flow never zero", now=clock())
    store.assign_work_order(order.id, "Plumbing team", "Chen Jing", "please check B1", now=clock.advance(minutes=10))
    store.respond_work_order(order.id, "Plumber Sun", "on site", now=clock.advance(minutes=30))
    store.comment_work_order(order.id, "Plumber Sun", "leaking valve found under the sink in B1-12", now=clock.advance(minutes=5))
    store.resolve_work_order(order.id, "Plumber Sun", "valve replaced", now=clock.advance(minutes=40))
    closed = store.close_work_order(order.id, "Chen Jing", "verified: night flow zero again", now=clock.advance(days=1))

    assert closed.state is WorkOrderState.CLOSED and closed.assigned_to == "Plumbing team"
    history = [(e.action, e.actor, e.to_state, e.note) for e in store.work_order_events(order.id)]
    assert history == [
        ("opened", "vigil", "open", "night flow never zero"),
        ("assigned", "Chen Jing", "assigned", "please check B1"),
        ("responded", "Plumber Sun", "responded", "on site"),
        ("comment", "Plumber Sun", None, "leaking valve found under the sink in B1-12"),
        ("resolved", "Plumber Sun", "resolved", "valve replaced"),
        ("closed", "Chen Jing", "closed", "verified: night flow zero again"),
    ]


def test_a_step_the_state_does_not_allow_is_refused(store: AlertStore, clock: FakeClock) -> None:
    order = store.open_work_order("inspect_leak", asset="water-main", now=clock())
    with pytest.raises(InvalidWorkOrderTransition, match="is open"):
        store.close_work_order(order.id, "Chen Jing")
    with pytest.raises(WorkOrderNotFound):
        store.respond_work_order(999, "Chen Jing")


def test_after_closing_a_new_order_for_the_same_problem_can_open(store: AlertStore, clock: FakeClock) -> None:
    first = store.open_work_order("inspect_leak", asset="water-main", now=clock())
    assert store.open_work_order("inspect_leak", asset="water-main", now=clock()).id == first.id
    store.resolve_work_order(first.id, "Plumber Sun", "fixed", now=clock.advance(hours=1))
    store.close_work_order(first.id, "Chen Jing", "verified", now=clock.advance(hours=1))
    second = store.open_work_order("inspect_leak", asset="water-main", now=clock.advance(days=3))
    assert second.id != first.id
    assert [o.state for o in store.list_work_orders(asset="water-main")] == [WorkOrderState.OPEN, WorkOrderState.CLOSED]


def test_an_order_raised_during_a_maintenance_window_is_recorded_but_pages_nobody(store: AlertStore, clock: FakeClock) -> None:
    store.add_silence(asset="uv-or-1", kind="maintenance", created_by="Chen Jing", reason="lamp replacement in progress",
                      duration=timedelta(hours=2))
    assert store.apply(_uv_low(), clock()) == []
    (order,) = store.list_work_orders()
    assert order.problem == "replace_uv_lamp"
    assert [(e.action, e.note) for e in store.work_order_events(order.id)][-1][0] == "not_notified"
