"""Delivering notifications: the outbox drained through each recipient's
notifier, with retries and backoff, every attempt recorded, and a
"notification failed" alert when a channel keeps failing.

Retries are scheduled in the database (`next_attempt_at`), not slept on:
`deliver_due(now)`, called periodically, sends whatever is due, so a retry
survives a restart and one slow channel does not hold up the others for
minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.notify.base import DeliveryLedger, DeliveryResult, Notification, Notifier

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the dispatcher needs timezone-aware times")
    return value.astimezone(UTC)


# Notifications about failing channels can fail too; this bounds the chain.
_MAX_FOLLOW_UPS = 3


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed, retryable delivery is tried again."""

    max_attempts: int = 5
    first_backoff: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    max_backoff: timedelta = timedelta(minutes=5)

    def backoff(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th (1-based) failed attempt."""
        wait = self.first_backoff * (self.factor ** max(0, attempt - 1))
        return min(wait, self.max_backoff)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    notification_id: int
    recipient: str
    attempt: int
    result: DeliveryResult
    retry_at: datetime | None  # when it will be tried again; None when final


class Dispatcher:
    """Sends outbox notifications through the contact points' notifiers."""

    def __init__(self, ledger: DeliveryLedger, notifiers: Mapping[str, Notifier], *, retry: RetryPolicy | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._ledger = ledger
        self._notifiers = dict(notifiers)
        self._retry = retry or RetryPolicy()
        self._clock = clock

    def deliver(self, notifications: Iterable[Notification], now: datetime | None = None) -> list[DeliveryOutcome]:
        """Attempt each notification once now (those already sent or being
        sent elsewhere are skipped: the claim is atomic in the store)."""
        at = _as_utc(now) if now is not None else _as_utc(self._clock())
        outcomes: list[DeliveryOutcome] = []
        queue = list(notifications)
        for _round in range(_MAX_FOLLOW_UPS + 1):
            follow_ups: list[Notification] = []
            for notification in queue:
                outcome, more = self._deliver_one(notification, at)
                if outcome is not None:
                    outcomes.append(outcome)
                follow_ups.extend(more)
            if not follow_ups:
                break
            queue = follow_ups
        return outcomes

    def deliver_due(self, now: datetime | None = None) -> list[DeliveryOutcome]:
        """Deliver everything in the outbox that is due: new notifications
        recorded by other code paths, retries whose backoff has passed, and
        attempts a crash interrupted."""
        at = _as_utc(now) if now is not None else _as_utc(self._clock())
        return self.deliver(self._ledger.due_notifications(at), at)

    def _deliver_one(self, notification: Notification, now: datetime) -> tuple[DeliveryOutcome | None, list[Notification]]:
        notifier = self._notifiers.get(notification.recipient)
        claimed = self._ledger.claim_notification(notification.id, notifier.channel if notifier else None, now)
        if claimed is None:
            return None, []
        if notifier is None:
            result = DeliveryResult.failed(f"no contact point named {notification.recipient!r} in the on-call config",
                                           retryable=False)
        else:
            try:
                result = notifier.send(claimed.message())
            except Exception as exc:  # a notifier must not raise; if one does, its text may hold a secret
                result = DeliveryResult.failed(f"{type(exc).__name__} in the {notifier.channel} notifier", retryable=True)
        retry_at = None
        if not result.ok and result.retryable and claimed.attempts < self._retry.max_attempts:
            retry_at = now + self._retry.backoff(claimed.attempts)
        self._ledger.finish_attempt(claimed.id, result, now, retry_at)
        follow_ups: list[Notification] = []
        if result.ok:
            follow_ups = self._ledger.clear_notification_failed(claimed.recipient, now)
        elif retry_at is None:
            log.warning("notification %s to %s failed for good after %d attempt(s): %s", claimed.key, claimed.recipient,
                        claimed.attempts, result.error)
            follow_ups = self._ledger.raise_notification_failed(claimed.recipient, result.error or "delivery failed", now)
        else:
            log.info("notification %s to %s failed (attempt %d), retrying at %s: %s", claimed.key, claimed.recipient,
                     claimed.attempts, retry_at.isoformat(), result.error)
        return DeliveryOutcome(claimed.id, claimed.recipient, claimed.attempts, result, retry_at), follow_ups
