"""The alert store's plumbing, shared by its parts (alerts, the outbox,
work orders): configuration, transactions, the audit-trail writers and the
outbox writer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.notify.base import Notification, NotificationKind
from alerts.oncall import OnCallConfig, Recipient, Target
from alerts.store.db import as_utc, utc_now
from alerts.store.places import Places
from alerts.store.records import notification_intent
from alerts.store.schema import AlertEventRow, AlertRow, NotificationRow, WorkOrderEventRow, WorkOrderRow
from alerts.workorders import WorkOrderPolicy
from vigil.registry import Registry

ENGINE = "engine"  # the actor of the rules engine's transitions
SYSTEM = "vigil"  # the actor of escalation, notifications, scheduled work
# Outbox statuses
PENDING_SEND, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class AlertNotFound(LookupError):
    """No alert with that id."""


class WorkOrderNotFound(LookupError):
    """No work order with that id."""


class InvalidAlertTransition(ValueError):
    """A human action the alert's state does not allow (acknowledging a resolved alert)."""


@dataclass(frozen=True)
class FlapDamping:
    """How the store damps flapping, on top of the rules engine's hysteresis."""

    # A resolved alert that fires again within this reopens (same id, same audit trail).
    reopen_window: timedelta = timedelta(minutes=30)
    # "Resolved" is told only after the condition stayed clear this long; a
    # re-fire in between continues the same incident silently.
    resolved_hold: timedelta = timedelta(minutes=5)
    # After "resolved" was told, a re-fire is announced again no sooner than
    # this after the previous firing announcement.
    renotify_cooldown: timedelta = timedelta(minutes=15)


def json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as plain JSON (dates and enums become strings)."""
    # Engine details may hold dates or enums; the column must hold JSON.
    safe: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return safe


class StoreCore:
    """Configuration and transactions; the parts of the store build on it.

    Thread-safe within a process (one lock around each transaction); other
    processes (the CLI acknowledging an alert) share it through the database.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        registry: Registry | None = None,
        oncall: OnCallConfig | None = None,
        damping: FlapDamping | None = None,
        work_order_policy: WorkOrderPolicy | None = None,
        console_url: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = threading.RLock()
        self._places = Places(registry)
        self.registry = registry
        self.oncall = oncall or OnCallConfig()
        self.damping = damping or FlapDamping()
        self.work_order_policy = work_order_policy or WorkOrderPolicy()
        self.console_url = console_url
        self._clock = clock

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (tests, migrations)."""
        return self._engine

    @property
    def places(self) -> Places:
        """Location lookups over the facility registry."""
        return self._places

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def _now(self, now: datetime | None) -> datetime:
        return as_utc(now if now is not None else self._clock())

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._lock, self._sessions.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def _event(self, s: Session, row: AlertRow, now: datetime, actor: str, action: str, *, note: str | None = None,
               from_state: str | None = None, to_state: str | None = None, event_time: datetime | None = None,
               details: dict[str, Any] | None = None) -> None:
        s.add(AlertEventRow(alert_id=row.id, at=now, actor=actor, action=action, note=note, from_state=from_state,
                            to_state=to_state, event_time=event_time, details=json_safe(details or {})))

    def _wo_event(self, s: Session, row: WorkOrderRow, now: datetime, actor: str, action: str, *, note: str | None = None,
                  from_state: str | None = None, to_state: str | None = None, details: dict[str, Any] | None = None) -> None:
        s.add(WorkOrderEventRow(work_order_id=row.id, at=now, actor=actor, action=action, note=note,
                                from_state=from_state, to_state=to_state, details=json_safe(details or {})))

    @staticmethod
    def _intents(rows: Sequence[NotificationRow]) -> list[Notification]:
        return [notification_intent(r) for r in rows]

    @staticmethod
    def _who(by: str) -> str:
        if not by or not by.strip():
            raise ValueError("say who you are (--by NAME)")
        return by.strip()

    def _recipients(self, targets: Sequence[Target], at: datetime, exclude: Iterable[str] = ()) -> list[Recipient]:
        return self.oncall.recipients(targets, at, exclude)

    def _enqueue(self, s: Session, out: list[NotificationRow], *, key: str, kind: NotificationKind, step: str,
                 recipient: Recipient, title: str, body: str, severity: str | None, now: datetime,
                 alert_id: int | None = None, work_order_id: int | None = None) -> None:
        """One outbox row per idempotency key; a key seen before is a no-op."""
        if s.scalar(select(NotificationRow.id).where(NotificationRow.key == key)) is not None:
            return
        row = NotificationRow(key=key, alert_id=alert_id, work_order_id=work_order_id, kind=kind.value, step=step,
                              recipient=recipient.contact_point, person=recipient.person, severity=severity, title=title,
                              body=body, status=PENDING_SEND, created_at=now, next_attempt_at=now, attempts=0)
        s.add(row)
        out.append(row)

