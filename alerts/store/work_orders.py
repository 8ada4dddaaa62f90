"""Maintenance work orders in the store: one open order per subject
(asset or room) and problem, response SLAs with escalation at half the
window, and a lifecycle with notes (the pure rules live in alerts.workorders)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.notify.base import NotificationKind
from alerts.oncall import Target
from alerts.store.core import SYSTEM, StoreCore, WorkOrderNotFound, json_safe
from alerts.store.messages import render_work_order
from alerts.store.records import severity_of, work_order_event_record, work_order_record
from alerts.store.schema import NotificationRow, WorkOrderEventRow, WorkOrderRow
from alerts.store.views import Place
from alerts.workorders import (
    OPEN_STATES,
    Priority,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderState,
    check_transition,
    priority_for,
    problem_title,
)


class WorkOrderBook(StoreCore):
    """Work orders: opened by alerts, preventive plans or people."""

    def _open_order(self, s: Session, *, problem: str, subject: str, asset: str | None, place: Place,
                    priority: Priority, title: str | None, description: str | None, source: str, by: str,
                    alert_id: int | None, details: dict[str, Any], now: datetime,
                    out: list[NotificationRow], quiet_because: str | None = None) -> tuple[WorkOrderRow, bool]:
        key = f"{subject}|{problem}"
        existing = s.scalar(select(WorkOrderRow).where(WorkOrderRow.open_key == key).with_for_update())
        if existing is not None:
            if alert_id is not None and existing.alert_id != alert_id:
                self._wo_event(s, existing, now, by, "raised_again", note=description, details={"alert": alert_id})
            return existing, False
        policy = self.work_order_policy
        row = WorkOrderRow(
            problem=problem, title=title or problem_title(problem), description=description, priority=priority.value,
            state=WorkOrderState.OPEN.value, source=source, asset=asset, site=place.site, building=place.building,
            floor=place.floor, room=place.room, place=place.to_json(), alert_id=alert_id, details=json_safe(details),
            opened_at=now, opened_by=by, response_due=policy.response_due(priority, now),
            resolution_due=policy.resolution_due(priority, now), updated_at=now, open_key=key,
        )
        s.add(row)
        s.flush()
        self._wo_event(s, row, now, by, "opened", to_state=row.state, note=description,
                       details={"priority": priority.value, "response_due": row.response_due.isoformat()})
        if quiet_because is None:
            self._notify_order(s, row, NotificationKind.WORK_ORDER_OPENED, "opened", self.oncall.work_orders.notify, now, out)
        else:
            # Raised by a silenced or inhibited alert: recorded, nobody paged for it now.
            self._wo_event(s, row, now, SYSTEM, "not_notified", note=quiet_because)
        return row, True

    def _notify_order(self, s: Session, row: WorkOrderRow, kind: NotificationKind, step: str, targets: Sequence[Target],
                      now: datetime, out: list[NotificationRow]) -> list[str]:
        recipients = self._recipients(targets, now)
        title, body = render_work_order(work_order_record(row), kind, now=now, console_url=self.console_url)
        severity = "critical" if row.priority == Priority.EMERGENCY.value else "warning"
        for r in recipients:
            self._enqueue(s, out, key=f"wo:{row.id}/{step}/{r.contact_point}", kind=kind, step=step, recipient=r,
                          title=title, body=body, severity=severity, work_order_id=row.id, now=now)
        return [r.contact_point for r in recipients]

    def _work_orders_due(self, s: Session, now: datetime, out: list[NotificationRow]) -> None:
        """Half the response window gone unanswered: escalate; all of it: overdue."""
        policy = self.work_order_policy
        rows = s.scalars(select(WorkOrderRow).where(WorkOrderRow.state.in_([WorkOrderState.OPEN.value,
                                                                            WorkOrderState.ASSIGNED.value]),
                                                    WorkOrderRow.responded_at.is_(None))
                         .order_by(WorkOrderRow.id)).all()
        routing = self.oncall.work_orders
        for row in rows:
            priority = Priority(row.priority)
            if row.escalated_at is None and now >= policy.escalate_at(priority, row.opened_at):
                row.escalated_at = now
                sent = self._notify_order(s, row, NotificationKind.WORK_ORDER_ESCALATED, "escalated",
                                          [*routing.escalate_to, *routing.notify], now, out)
                window = policy.response[priority]
                self._wo_event(s, row, now, SYSTEM, "escalated",
                               note=f"no response after half of the {int(window.total_seconds() // 60)} min response window",
                               details={"recipients": sent})
            if row.response_breached_at is None and now >= row.response_due:
                row.response_breached_at = now
                sent = self._notify_order(s, row, NotificationKind.WORK_ORDER_OVERDUE, "overdue",
                                          [*routing.escalate_to, *routing.notify], now, out)
                self._wo_event(s, row, now, SYSTEM, "response_overdue", note="the response window passed without a response",
                               details={"recipients": sent})

    def open_work_order(
        self,
        problem: str,
        *,
        asset: str | None = None,
        place: Place | None = None,
        subject: str | None = None,
        priority: Priority | None = None,
        severity: str | None = None,
        title: str | None = None,
        description: str | None = None,
        source: str = "manual",
        by: str = SYSTEM,
        alert_id: int | None = None,
        details: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> WorkOrder:
        """Open a work order for `problem` on an asset (or a room: give `place`
        and `subject`), or return the one already open for that subject and
        problem. The maintenance team is notified through the outbox."""
        now = self._now(now)
        if place is None:
            place = self._places.for_asset(asset).place if asset else Place()
        subject = subject or asset or (f"room:{place.room}" if place.room else None)
        if subject is None:
            raise ValueError("a work order needs an asset, or a place with a room, or a subject")
        prio = priority or priority_for(problem, severity_of(severity) if severity else None)
        out: list[NotificationRow] = []
        with self._tx() as s:
            row, _ = self._open_order(s, problem=problem, subject=subject, asset=asset, place=place, priority=prio,
                                      title=title, description=description, source=source, by=by, alert_id=alert_id,
                                      details=details or {}, now=now, out=out)
            return work_order_record(row)

    def _move_order(self, order_id: int, target: WorkOrderState, by: str, note: str | None, now: datetime | None,
                    action: str, update: Callable[[WorkOrderRow, datetime, str], None]) -> WorkOrder:
        now, by = self._now(now), self._who(by)
        with self._tx() as s:
            row = s.get(WorkOrderRow, order_id, with_for_update=True)
            if row is None:
                raise WorkOrderNotFound(f"no work order {order_id}")
            current = WorkOrderState(row.state)
            check_transition(order_id, current, target)
            update(row, now, by)
            row.state, row.updated_at = target.value, now
            self._wo_event(s, row, now, by, action, from_state=current.value, to_state=target.value, note=note)
            return work_order_record(row)

    def assign_work_order(self, order_id: int, to: str, by: str, note: str | None = None, *,
                          now: datetime | None = None) -> WorkOrder:
        """Assign the order to a person or team."""
        if not to.strip():
            raise ValueError("assign to whom?")

        def update(row: WorkOrderRow, at: datetime, _by: str) -> None:
            row.assigned_to, row.assigned_at = to.strip(), at

        return self._move_order(order_id, WorkOrderState.ASSIGNED, by, note, now, "assigned", update)

    def respond_work_order(self, order_id: int, by: str, note: str | None = None, *,
                           now: datetime | None = None) -> WorkOrder:
        """Someone answered / is on site: the response SLA is met or missed now."""

        def update(row: WorkOrderRow, at: datetime, who: str) -> None:
            if row.responded_at is None:
                row.responded_at, row.responded_by = at, who

        return self._move_order(order_id, WorkOrderState.RESPONDED, by, note, now, "responded", update)

    def resolve_work_order(self, order_id: int, by: str, note: str | None = None, *,
                           now: datetime | None = None) -> WorkOrder:
        """The fault is fixed (the note says how). Without an earlier response,
        the resolution counts as the response."""

        def update(row: WorkOrderRow, at: datetime, who: str) -> None:
            if row.responded_at is None:
                row.responded_at, row.responded_by = at, who
            row.resolved_at, row.resolved_by = at, who

        return self._move_order(order_id, WorkOrderState.RESOLVED, by, note, now, "resolved", update)

    def close_work_order(self, order_id: int, by: str, note: str | None = None, *,
                         now: datetime | None = None) -> WorkOrder:
        """Verified and closed; a new order for the same problem may open after this."""

        def update(row: WorkOrderRow, at: datetime, who: str) -> None:
            row.closed_at, row.closed_by, row.open_key = at, who, None

        return self._move_order(order_id, WorkOrderState.CLOSED, by, note, now, "closed", update)

    def comment_work_order(self, order_id: int, by: str, note: str, *, now: datetime | None = None) -> WorkOrderEvent:
        """Add a note to a work order's history."""
        now, by = self._now(now), self._who(by)
        with self._tx() as s:
            row = s.get(WorkOrderRow, order_id)
            if row is None:
                raise WorkOrderNotFound(f"no work order {order_id}")
            event = WorkOrderEventRow(work_order_id=row.id, at=now, actor=by, action="comment", note=note, details={})
            s.add(event)
            s.flush()
            return work_order_event_record(event)

    def get_work_order(self, order_id: int) -> WorkOrder:
        """One work order by id (WorkOrderNotFound if there is none)."""
        with self._read() as s:
            row = s.get(WorkOrderRow, order_id)
            if row is None:
                raise WorkOrderNotFound(f"no work order {order_id}")
            return work_order_record(row)

    def list_work_orders(self, state: WorkOrderState | str | Sequence[WorkOrderState | str] | None = None,
                         priority: Priority | str | None = None, building: str | None = None, asset: str | None = None,
                         problem: str | None = None, *, open_only: bool = False) -> list[WorkOrder]:
        """Work orders, newest first."""
        query = select(WorkOrderRow)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            query = query.where(WorkOrderRow.state.in_([str(x) for x in states]))
        if open_only:
            query = query.where(WorkOrderRow.state.in_([s.value for s in OPEN_STATES]))
        if priority is not None:
            query = query.where(WorkOrderRow.priority == str(priority))
        if building is not None:
            query = query.where(WorkOrderRow.building == building)
        if asset is not None:
            query = query.where(WorkOrderRow.asset == asset)
        if problem is not None:
            query = query.where(WorkOrderRow.problem == problem)
        with self._read() as s:
            rows = s.scalars(query.order_by(WorkOrderRow.opened_at.desc(), WorkOrderRow.id.desc())).all()
            return [work_order_record(r) for r in rows]

    def work_order_events(self, order_id: int) -> list[WorkOrderEvent]:
        """A work order's history, oldest first."""
        with self._read() as s:
            rows = s.scalars(select(WorkOrderEventRow).where(WorkOrderEventRow.work_order_id == order_id)
                             .order_by(WorkOrderEventRow.id)).all()
            return [work_order_event_record(r) for r in rows]

