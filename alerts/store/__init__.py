"""The stateful half of the alerts service: alerts with a lifecycle and an
audit trail, silences, inhibition, escalation, the notification outbox,
maintenance work orders and excursions, in a database (SQLite by default,
PostgreSQL too) migrated by Alembic.

    store = open_store(settings.database, registry=registry, oncall=oncall, console_url=...)
    intents = store.apply(transition)          # for every rules-engine transition
    intents += store.process_due()             # every few seconds
    dispatcher.deliver(intents)                # alerts.notify.Dispatcher
"""

from alerts.store.core import AlertNotFound, FlapDamping, InvalidAlertTransition, WorkOrderNotFound
from alerts.store.db import migrate, utc_now
from alerts.store.store import AlertStore, open_key, open_store
from alerts.store.views import (
    FAMILY_GATEWAY,
    FAMILY_NOTIFICATION,
    NOTIFICATION_FAILED,
    Alert,
    AlertEvent,
    DeliveryAttempt,
    Escalation,
    Excursion,
    NotificationRecord,
    Place,
    Silence,
)

__all__ = [
    "FAMILY_GATEWAY", "FAMILY_NOTIFICATION", "NOTIFICATION_FAILED", "Alert", "AlertEvent",
    "AlertNotFound", "AlertStore", "DeliveryAttempt", "Escalation", "Excursion", "FlapDamping",
    "InvalidAlertTransition", "NotificationRecord", "Place", "Silence", "WorkOrderNotFound", "migrate", "open_key",
    "open_store", "utc_now",
]
