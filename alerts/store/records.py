"""ORM rows -> the frozen records the store hands out."""

from __future__ import annotations

from alerts.model import AlertState
from alerts.notify.base import Notification, NotificationKind
from alerts.store.schema import (
    AlertEventRow,
    AlertRow,
    ExcursionRow,
    NotificationRow,
    SilenceRow,
    WorkOrderEventRow,
    WorkOrderRow,
)
from alerts.store.views import Alert, AlertEvent, Excursion, NotificationRecord, Place, Silence
from alerts.workorders import Priority, WorkOrder, WorkOrderEvent, WorkOrderState
from vigil.profiles import Severity


def alert_record(r: AlertRow) -> Alert:
    """An alert row as a record."""
    return Alert(
        id=r.id, rule_id=r.rule_id, rule_kind=r.rule_kind, sensor=r.sensor, asset=r.asset, metric=r.metric,
        state=AlertState(r.state), severity=severity_of(r.severity), summary=r.summary, value=r.value,
        limit=r.limit_text, details=dict(r.details or {}), work_order_problem=r.work_order_problem, family=r.family,
        profile=r.profile, place=Place.from_json(r.place), since=r.since, event_at=r.event_at, opened_at=r.opened_at,
        fired_at=r.fired_at, acknowledged_at=r.acknowledged_at, acknowledged_by=r.acknowledged_by,
        resolved_at=r.resolved_at, resolved_by=r.resolved_by, updated_at=r.updated_at, announced=r.announced,
        episode=r.episode, flaps=r.flaps, suppressed_by=r.suppressed_by, caused_by=r.caused_by,
    )


def alert_event_record(e: AlertEventRow) -> AlertEvent:
    """An audit-trail row as a record."""
    return AlertEvent(id=e.id, alert_id=e.alert_id, at=e.at, actor=e.actor, action=e.action, from_state=e.from_state,
                      to_state=e.to_state, note=e.note, event_time=e.event_time, details=dict(e.details or {}))


def silence_record(r: SilenceRow) -> Silence:
    """A silence row as a record."""
    return Silence(id=r.id, kind=r.kind, asset=r.asset, sensor=r.sensor, rule_id=r.rule_id, building=r.building,
                   starts_at=r.starts_at, ends_at=r.ends_at, created_by=r.created_by, created_at=r.created_at,
                   reason=r.reason, expired_at=r.expired_at, expired_by=r.expired_by)


def notification_intent(r: NotificationRow) -> Notification:
    """An outbox row as the intent the dispatcher delivers."""
    return Notification(id=r.id, key=r.key, kind=NotificationKind(r.kind), recipient=r.recipient, title=r.title,
                        body=r.body, severity=severity_of(r.severity) if r.severity else None, alert_id=r.alert_id,
                        work_order_id=r.work_order_id, person=r.person, created_at=r.created_at, attempts=r.attempts)


def notification_record(r: NotificationRow) -> NotificationRecord:
    """An outbox row as an audit record."""
    return NotificationRecord(id=r.id, key=r.key, kind=NotificationKind(r.kind), step=r.step, recipient=r.recipient,
                              person=r.person, alert_id=r.alert_id, work_order_id=r.work_order_id, title=r.title,
                              body=r.body, status=r.status, created_at=r.created_at, attempts=r.attempts,
                              sent_at=r.sent_at, last_error=r.last_error)


def work_order_record(r: WorkOrderRow) -> WorkOrder:
    """A work-order row as a record."""
    return WorkOrder(
        id=r.id, problem=r.problem, title=r.title, description=r.description, priority=Priority(r.priority),
        state=WorkOrderState(r.state), source=r.source, asset=r.asset, site=r.site, building=r.building,
        floor=r.floor, room=r.room, place=dict(r.place or {}), alert_id=r.alert_id, details=dict(r.details or {}),
        opened_at=r.opened_at, opened_by=r.opened_by, response_due=r.response_due, resolution_due=r.resolution_due,
        assigned_to=r.assigned_to, assigned_at=r.assigned_at, responded_at=r.responded_at,
        responded_by=r.responded_by, resolved_at=r.resolved_at, resolved_by=r.resolved_by, closed_at=r.closed_at,
        closed_by=r.closed_by, escalated_at=r.escalated_at, response_breached_at=r.response_breached_at,
    )


def work_order_event_record(e: WorkOrderEventRow) -> WorkOrderEvent:
    """A work-order history row as a record."""
    return WorkOrderEvent(id=e.id, work_order_id=e.work_order_id, at=e.at, actor=e.actor, action=e.action,
                          from_state=e.from_state, to_state=e.to_state, note=e.note, details=dict(e.details or {}))


def excursion_record(r: ExcursionRow) -> Excursion:
    """An excursion row as a record."""
    return Excursion(id=r.id, sensor=r.sensor, asset=r.asset, product=r.product, started_at=r.started_at,
                     ended_at=r.ended_at, peak=r.peak, minutes_out_of_range=r.minutes_out_of_range,
                     mean_kinetic_temperature=r.mean_kinetic_temperature, low=r.low, high=r.high,
                     disposition=r.disposition, disposition_by=r.disposition_by, disposition_at=r.disposition_at,
                     disposition_note=r.disposition_note)


def severity_of(value: str | None) -> Severity:
    """The severity stored as text (WARNING for anything unknown)."""
    try:
        return Severity(value or "")
    except ValueError:
        return Severity.WARNING
