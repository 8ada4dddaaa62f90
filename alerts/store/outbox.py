"""The outbox, from the dispatcher's side (alerts.notify.DeliveryLedger):
claiming a notification before the send, recording how each attempt ended,
handing out what is due, and the audit of what was sent to whom."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from alerts.notify.base import DeliveryResult, Notification
from alerts.store.core import FAILED, PENDING_SEND, SENDING, SENT, SYSTEM, StoreCore
from alerts.store.db import as_utc
from alerts.store.records import notification_intent, notification_record
from alerts.store.schema import AlertRow, NotificationAttemptRow, NotificationRow
from alerts.store.views import DeliveryAttempt, NotificationRecord


class Outbox(StoreCore):
    """Delivery bookkeeping: every attempt is written before and after the send."""

    def claim_notification(self, notification_id: int, channel: str | None, now: datetime) -> Notification | None:
        """Mark a pending notification as being sent, recording the attempt
        before the send; None if it is not pending any more."""
        now = as_utc(now)
        with self._tx() as s:
            # A conditional UPDATE is atomic on every backend: of two
            # dispatchers racing for the same row, exactly one wins.
            claimed = s.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.status == PENDING_SEND)
                .values(status=SENDING, attempts=NotificationRow.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return None
            row = s.get_one(NotificationRow, notification_id, populate_existing=True)
            s.add(NotificationAttemptRow(notification_id=row.id, attempt=row.attempts, channel=channel, started_at=now))
            return notification_intent(row)

    def finish_attempt(self, notification_id: int, result: DeliveryResult, now: datetime,
                       retry_at: datetime | None) -> None:
        """Record how the attempt ended; `retry_at` schedules the next one."""
        now = as_utc(now)
        with self._tx() as s:
            row = s.get_one(NotificationRow, notification_id, with_for_update=True)
            attempt = s.scalar(select(NotificationAttemptRow)
                               .where(NotificationAttemptRow.notification_id == row.id)
                               .order_by(NotificationAttemptRow.attempt.desc()).limit(1))
            if attempt is not None and attempt.finished_at is None:
                attempt.finished_at, attempt.ok = now, result.ok
                attempt.retryable = None if result.ok else result.retryable
                attempt.error = result.error
            if result.ok:
                row.status, row.sent_at, row.next_attempt_at, row.last_error = SENT, now, None, None
            elif retry_at is not None:
                row.status, row.next_attempt_at, row.last_error = PENDING_SEND, as_utc(retry_at), result.error
            else:
                row.status, row.next_attempt_at, row.last_error = FAILED, None, result.error
                target = s.get(AlertRow, row.alert_id) if row.alert_id is not None else None
                if target is not None:
                    self._event(s, target, now, SYSTEM, "notification_failed",
                                note=f"{row.recipient}: {result.error}", details={"notification": row.id})

    def due_notifications(self, now: datetime, stale_after: timedelta = timedelta(minutes=5)) -> list[Notification]:
        """Pending notifications whose attempt is due. An attempt that started
        but never finished (the service died mid-send) is retried: for a page,
        a rare duplicate is cheaper than a lost message."""
        now = as_utc(now)
        with self._tx() as s:
            for row in s.scalars(select(NotificationRow).where(NotificationRow.status == SENDING)).all():
                attempt = s.scalar(select(NotificationAttemptRow)
                                   .where(NotificationAttemptRow.notification_id == row.id)
                                   .order_by(NotificationAttemptRow.attempt.desc()).limit(1))
                if attempt is None or attempt.started_at <= now - stale_after:
                    if attempt is not None and attempt.finished_at is None:
                        attempt.finished_at, attempt.ok, attempt.retryable = now, False, True
                        attempt.error = "interrupted: the service stopped during the send"
                    row.status, row.next_attempt_at = PENDING_SEND, now
            rows = s.scalars(select(NotificationRow).where(NotificationRow.status == PENDING_SEND,
                                                           NotificationRow.next_attempt_at <= now)
                             .order_by(NotificationRow.id)).all()
            return self._intents(rows)

    def notifications(self, *, alert_id: int | None = None, work_order_id: int | None = None,
                      status: str | None = None) -> list[NotificationRecord]:
        """Outbox rows (what was or will be sent to whom), oldest first."""
        query = select(NotificationRow)
        if alert_id is not None:
            query = query.where(NotificationRow.alert_id == alert_id)
        if work_order_id is not None:
            query = query.where(NotificationRow.work_order_id == work_order_id)
        if status is not None:
            query = query.where(NotificationRow.status == status)
        with self._read() as s:
            return [notification_record(r) for r in s.scalars(query.order_by(NotificationRow.id)).all()]

    def delivery_attempts(self, notification_id: int | None = None) -> list[DeliveryAttempt]:
        """Every recorded delivery attempt (of one notification, or all)."""
        query = select(NotificationAttemptRow)
        if notification_id is not None:
            query = query.where(NotificationAttemptRow.notification_id == notification_id)
        with self._read() as s:
            return [DeliveryAttempt(id=a.id, notification_id=a.notification_id, attempt=a.attempt, channel=a.channel,
                                    started_at=a.started_at, finished_at=a.finished_at, ok=a.ok, retryable=a.retryable,
                                    error=a.error)
                    for a in s.scalars(query.order_by(NotificationAttemptRow.id)).all()]

