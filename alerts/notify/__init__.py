"""Notifications: Vigil's notifier interface over apprise contact points
(e-mail, JSON webhooks, WeCom, DingTalk, Slack, Teams, SMS gateways), one
package per integration, and the dispatcher that drains the alert store's
outbox with retries, backoff and an audit of every attempt."""

from alerts.notify.apprise_channel import AppriseNotifier, ContactPointError, http_status_retryable
from alerts.notify.base import DeliveryLedger, DeliveryResult, Message, Notification, NotificationKind, Notifier
from alerts.notify.contact_points import notifier_for, notifiers_for
from alerts.notify.dispatch import DeliveryOutcome, Dispatcher, RetryPolicy
from alerts.notify.redact import describe_url, redact, secret_fragments

__all__ = [
    "AppriseNotifier", "ContactPointError", "DeliveryLedger", "DeliveryOutcome", "DeliveryResult", "Dispatcher",
    "Message", "Notification", "NotificationKind", "Notifier", "RetryPolicy", "describe_url", "http_status_retryable",
    "notifier_for", "notifiers_for", "redact", "secret_fragments",
]
