"""The alert store's tables, as typed SQLAlchemy 2 ORM classes.

Enums are stored as short strings and JSON as `sqlalchemy.JSON`, so the same
schema works on SQLite and PostgreSQL. "One open X per key" is a unique,
NULL-able `open_key` column: set while open, NULL once closed (NULLs never
clash on either backend), instead of a backend-specific partial index.

The Alembic migrations in alerts/migrations/versions create these tables;
a test checks that the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from alerts.store.db import UTCDateTime

# Named constraints: SQLite's batch migrations can only drop what has a name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(200), index=True)
    rule_kind: Mapped[str] = mapped_column(String(40))
    sensor: Mapped[str] = mapped_column(String(100), index=True)
    asset: Mapped[str | None] = mapped_column(String(100), index=True)
    metric: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    summary: Mapped[str] = mapped_column(Text)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # float, bool or None
    limit_text: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    work_order_problem: Mapped[str | None] = mapped_column(String(64))
    # Where and what, copied from the registry when the alert opens, so that
    # listing by building or family needs no registry and survives its edits.
    family: Mapped[str | None] = mapped_column(String(32), index=True)
    profile: Mapped[str | None] = mapped_column(String(64))
    site: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(64), index=True)
    floor: Mapped[str | None] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[dict[str, Any]] = mapped_column(default=dict)  # names for people: building_name, room_name, ...
    since: Mapped[datetime | None]  # when the condition became true (event time)
    event_at: Mapped[datetime | None]  # event time of the last transition
    opened_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    # What people were last told: None (nothing), "firing" or "resolved".
    announced: Mapped[str | None] = mapped_column(String(16))
    announced_at: Mapped[datetime | None]  # the last firing announcement (cooldown)
    episode: Mapped[int] = mapped_column(Integer, default=0)  # firing announcements so far
    resolve_notify_at: Mapped[datetime | None] = mapped_column(index=True)  # a held "resolved" notice
    flaps: Mapped[int] = mapped_column(Integer, default=0)  # times reopened after resolving
    suppressed_by: Mapped[str | None] = mapped_column(String(100))  # "silence 3", "alert 7 (outage)"
    caused_by: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    open_key: Mapped[str | None] = mapped_column(String(320), unique=True)  # rule_id|sensor while open


class AlertEventRow(Base):
    """The audit trail: every state change and every human action."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime]  # wall clock when recorded
    event_time: Mapped[datetime | None]  # the engine's event time, for engine transitions
    actor: Mapped[str] = mapped_column(String(100))  # a person, "engine" or "vigil"
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SilenceRow(Base):
    """A silence or maintenance window: matching alerts are recorded, not paged."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "silence" or "maintenance"
    asset: Mapped[str | None] = mapped_column(String(100))
    sensor: Mapped[str | None] = mapped_column(String(100))
    rule_id: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    expired_at: Mapped[datetime | None]
    expired_by: Mapped[str | None] = mapped_column(String(100))


class EscalationRow(Base):
    """Where an alert's escalation stands. Timestamps, not timers: a restarted
    service continues from `next_at`."""

    __tablename__ = "escalations"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    policy: Mapped[str] = mapped_column(String(64))
    episode: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(Integer)  # 0-based index of the tier last notified
    round: Mapped[int] = mapped_column(Integer)  # 0 for the first pass through the tiers
    started_at: Mapped[datetime]
    next_at: Mapped[datetime | None] = mapped_column(index=True)
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # silenced or inhibited meanwhile
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(200))


class NotificationRow(Base):
    """The outbox: one row per (alert or work order, step, recipient). The
    unique key is what makes "notify nobody twice" hold across restarts."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(100))  # a contact point name, never its URL
    person: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, sending, sent, failed
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted


class NotificationAttemptRow(Base):
    """Every delivery attempt: written before the send, completed after it."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(40))  # the URL scheme, e.g. "mailto"
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None] = mapped_column(Boolean)
    retryable: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)  # redacted: never a password or token


class WorkOrderRow(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    problem: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(80))  # "alert", "preventive:<plan>", "manual"
    asset: Mapped[str | None] = mapped_column(String(100), index=True)
    site: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(64), index=True)
    floor: Mapped[str | None] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[dict[str, Any]] = mapped_column(default=dict)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(100))
    response_due: Mapped[datetime] = mapped_column(index=True)
    resolution_due: Mapped[datetime]
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    assigned_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    responded_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    escalated_at: Mapped[datetime | None]  # half the response window passed unanswered
    response_breached_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    open_key: Mapped[str | None] = mapped_column(String(320), unique=True)  # subject|problem while open


class WorkOrderEventRow(Base):
    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ExcursionRow(Base):
    """A cold-chain excursion as a record of its own (start, end, peak, MKT)."""

    __tablename__ = "excursions"
    __table_args__ = (UniqueConstraint("sensor", "started_at", name="uq_excursions_sensor_started"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sensor: Mapped[str] = mapped_column(String(100), index=True)
    asset: Mapped[str] = mapped_column(String(100), index=True)
    product: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    peak: Mapped[float] = mapped_column(Float)
    minutes_out_of_range: Mapped[float] = mapped_column(Float)
    mean_kinetic_temperature: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime]
    disposition: Mapped[str | None] = mapped_column(String(40))  # e.g. "usable", "quarantine", "discard"
    disposition_by: Mapped[str | None] = mapped_column(String(100))
    disposition_at: Mapped[datetime | None]
    disposition_note: Mapped[str | None] = mapped_column(Text)


class KeyValueRow(Base):
    """Small JSON documents by key (the rules engine's snapshot was one,
    before `EngineStateRow`; a store from then is read once and converted)."""

    __tablename__ = "key_values"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime]


class EngineStateRow(Base):
    """The rules engine's snapshot in parts, one row per sensor with its rules
    (and per gateway), so a checkpoint rewrites only the parts that changed:
    at 100,000 sensors the whole snapshot is tens of megabytes."""

    __tablename__ = "engine_state"

    part: Mapped[str] = mapped_column(String(400), primary_key=True)  # "engine" or "group/<sensor or gateway id>"
    value: Mapped[str] = mapped_column(Text)  # JSON, encoded by alerts.store.engine_state (orjson: 10x faster)
