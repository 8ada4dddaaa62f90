"""alert store: alerts, audit, silences, escalation, notifications, work orders, excursions

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-23 19:25:01.439654
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade the schema."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=200), nullable=False),
        sa.Column("rule_kind", sa.String(length=40), nullable=False),
        sa.Column("sensor", sa.String(length=100), nullable=False),
        sa.Column("asset", sa.String(length=100), nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("limit_text", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("work_order_problem", sa.String(length=64), nullable=True),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("floor", sa.String(length=64), nullable=True),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column("place", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced", sa.String(length=16), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("resolve_notify_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flaps", sa.Integer(), nullable=False),
        sa.Column("suppressed_by", sa.String(length=100), nullable=True),
        sa.Column("caused_by", sa.Integer(), nullable=True),
        sa.Column("open_key", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["caused_by"], ["alerts.id"], name=op.f("fk_alerts_caused_by_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alerts_open_key")),
    )
    op.create_index(op.f("ix_alerts_asset"), "alerts", ["asset"], unique=False)
    op.create_index(op.f("ix_alerts_building"), "alerts", ["building"], unique=False)
    op.create_index(op.f("ix_alerts_caused_by"), "alerts", ["caused_by"], unique=False)
    op.create_index(op.f("ix_alerts_family"), "alerts", ["family"], unique=False)
    op.create_index(op.f("ix_alerts_resolve_notify_at"), "alerts", ["resolve_notify_at"], unique=False)
    op.create_index(op.f("ix_alerts_rule_id"), "alerts", ["rule_id"], unique=False)
    op.create_index(op.f("ix_alerts_sensor"), "alerts", ["sensor"], unique=False)
    op.create_index(op.f("ix_alerts_severity"), "alerts", ["severity"], unique=False)
    op.create_index(op.f("ix_alerts_state"), "alerts", ["state"], unique=False)

    op.create_table(
        "excursions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sensor", sa.String(length=100), nullable=False),
        sa.Column("asset", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("peak", sa.Float(), nullable=False),
        sa.Column("minutes_out_of_range", sa.Float(), nullable=False),
        sa.Column("mean_kinetic_temperature", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposition", sa.String(length=40), nullable=True),
        sa.Column("disposition_by", sa.String(length=100), nullable=True),
        sa.Column("disposition_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposition_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursions")),
        sa.UniqueConstraint("sensor", "started_at", name="uq_excursions_sensor_started"),
    )
    op.create_index(op.f("ix_excursions_asset"), "excursions", ["asset"], unique=False)
    op.create_index(op.f("ix_excursions_sensor"), "excursions", ["sensor"], unique=False)

    op.create_table(
        "key_values",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_key_values")),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("asset", sa.String(length=100), nullable=True),
        sa.Column("sensor", sa.String(length=100), nullable=True),
        sa.Column("rule_id", sa.String(length=200), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    op.create_index(op.f("ix_silences_ends_at"), "silences", ["ends_at"], unique=False)

    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_events_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_escalations_alert_id_alerts")),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_escalations")),
    )
    op.create_index(op.f("ix_escalations_next_at"), "escalations", ["next_at"], unique=False)

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("problem", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("asset", sa.String(length=100), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=64), nullable=True),
        sa.Column("floor", sa.String(length=64), nullable=True),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column("place", sa.JSON(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("response_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_to", sa.String(length=100), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_key", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_work_orders_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("open_key", name=op.f("uq_work_orders_open_key")),
    )
    op.create_index(op.f("ix_work_orders_asset"), "work_orders", ["asset"], unique=False)
    op.create_index(op.f("ix_work_orders_building"), "work_orders", ["building"], unique=False)
    op.create_index(op.f("ix_work_orders_priority"), "work_orders", ["priority"], unique=False)
    op.create_index(op.f("ix_work_orders_problem"), "work_orders", ["problem"], unique=False)
    op.create_index(op.f("ix_work_orders_response_due"), "work_orders", ["response_due"], unique=False)
    op.create_index(op.f("ix_work_orders_state"), "work_orders", ["state"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_notifications_alert_id_alerts")),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"], name=op.f("fk_notifications_work_order_id_work_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    op.create_index(op.f("ix_notifications_alert_id"), "notifications", ["alert_id"], unique=False)
    op.create_index(op.f("ix_notifications_next_attempt_at"), "notifications", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_notifications_status"), "notifications", ["status"], unique=False)
    op.create_index(op.f("ix_notifications_work_order_id"), "notifications", ["work_order_id"], unique=False)

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_work_order_events_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    op.create_index(op.f("ix_work_order_events_work_order_id"), "work_order_events", ["work_order_id"], unique=False)

    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"], name=op.f("fk_notification_attempts_notification_id_notifications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    op.create_index(op.f("ix_notification_attempts_notification_id"), "notification_attempts", ["notification_id"], unique=False)


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_index(op.f("ix_notification_attempts_notification_id"), table_name="notification_attempts")

    op.drop_table("notification_attempts")
    op.drop_index(op.f("ix_work_order_events_work_order_id"), table_name="work_order_events")

    op.drop_table("work_order_events")
    op.drop_index(op.f("ix_notifications_work_order_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_status"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_next_attempt_at"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_alert_id"), table_name="notifications")

    op.drop_table("notifications")
    op.drop_index(op.f("ix_work_orders_state"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_response_due"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_problem"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_priority"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_building"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_asset"), table_name="work_orders")

    op.drop_table("work_orders")
    op.drop_index(op.f("ix_escalations_next_at"), table_name="escalations")

    op.drop_table("escalations")
    op.drop_index(op.f("ix_alert_events_alert_id"), table_name="alert_events")

    op.drop_table("alert_events")
    op.drop_index(op.f("ix_silences_ends_at"), table_name="silences")

    op.drop_table("silences")
    op.drop_table("key_values")
    op.drop_index(op.f("ix_excursions_sensor"), table_name="excursions")
    op.drop_index(op.f("ix_excursions_asset"), table_name="excursions")

    op.drop_table("excursions")
    op.drop_index(op.f("ix_alerts_state"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_severity"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_sensor"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_rule_id"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_resolve_notify_at"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_family"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_caused_by"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_building"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_asset"), table_name="alerts")

    op.drop_table("alerts")
