"""What every notification channel shares: the message, the delivery result,
the `Notifier` protocol, and the notification intent the alert store hands
to the dispatcher.

A notifier answers two questions separately (the Alertmanager habit): did
the delivery fail (`ok`), and is it worth trying again (`retryable`). Its
`error` text is safe to store and log: it never carries a password, token
or a URL's secret parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from vigil.profiles import Severity


class NotificationKind(StrEnum):
    FIRING = "firing"  # an alert is firing: tier 1 of its escalation policy
    ESCALATION = "escalation"  # nobody acknowledged: the next tier, or the policy again
    RESOLVED = "resolved"
    WORK_ORDER_OPENED = "work_order_opened"
    WORK_ORDER_ESCALATED = "work_order_escalated"  # half the response window passed unanswered
    WORK_ORDER_OVERDUE = "work_order_overdue"  # the response window passed unanswered


@dataclass(frozen=True, slots=True)
class Message:
    """One message for one contact point: a subject line and a plain-text body."""

    title: str
    body: str
    severity: Severity | None = None
    kind: NotificationKind | None = None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one delivery attempt."""

    ok: bool
    retryable: bool = False  # meaningless when ok
    error: str | None = None  # redacted, safe to store

    @classmethod
    def delivered(cls) -> DeliveryResult:
        """A successful delivery."""
        return cls(ok=True)

    @classmethod
    def failed(cls, error: str, *, retryable: bool) -> DeliveryResult:
        """A failed delivery; `error` must already be redacted."""
        return cls(ok=False, retryable=retryable, error=error)


class Notifier(Protocol):
    """A contact point that can be sent a message (an e-mail address, a
    webhook, a WeCom group, an SMS gateway)."""

    @property
    def name(self) -> str:
        """The contact point's name in the on-call config."""
        ...

    @property
    def channel(self) -> str:
        """The kind of channel, e.g. "mailto" or "json": safe to store."""
        ...

    def send(self, message: Message) -> DeliveryResult:
        """Deliver `message` once; never raise for a delivery failure."""
        ...


@dataclass(frozen=True, slots=True)
class Notification:
    """A notification intent: one message for one recipient, recorded in the
    store's outbox under an idempotency key before anything is sent."""

    id: int  # the outbox row
    key: str  # unique per (alert or work order, step, recipient)
    kind: NotificationKind
    recipient: str  # contact point name
    title: str
    body: str
    severity: Severity | None
    alert_id: int | None
    work_order_id: int | None
    person: str | None
    created_at: datetime
    attempts: int = 0  # delivery attempts made so far

    def message(self) -> Message:
        """The message to hand to the recipient's notifier."""
        return Message(title=self.title, body=self.body, severity=self.severity, kind=self.kind)


class DeliveryLedger(Protocol):
    """Where the dispatcher records deliveries (the alert store implements it)."""

    def claim_notification(self, notification_id: int, channel: str | None, now: datetime) -> Notification | None:
        """Mark a pending notification as being sent and record the attempt's
        start; None when it is not pending (already sent, failed or claimed)."""
        ...

    def finish_attempt(self, notification_id: int, result: DeliveryResult, now: datetime,
                       retry_at: datetime | None) -> None:
        """Record how the attempt ended; `retry_at` schedules another one."""
        ...

    def due_notifications(self, now: datetime) -> list[Notification]:
        """Pending notifications whose (next) attempt is due."""
        ...

    def raise_notification_failed(self, contact_point: str, error: str, now: datetime) -> list[Notification]:
        """Open (or update) the alert that says a contact point keeps failing."""
        ...

    def clear_notification_failed(self, contact_point: str, now: datetime) -> list[Notification]:
        """Resolve that alert after a delivery to the contact point succeeded."""
        ...
