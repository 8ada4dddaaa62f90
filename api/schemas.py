"""What the API sends and accepts beyond the store's own records (which it
returns as they are: frozen dataclasses with no secrets in them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.store import Alert, AlertEvent
from alerts.workorders import Priority, WorkOrder, WorkOrderEvent
from api.roles import Role


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------
# Registry and readings


class Site(BaseModel):
    id: str
    name: str
    timezone: str
    buildings: list[str]
    gateways: list[str]


class Building(BaseModel):
    id: str
    site: str
    name: str
    floors: list[str]


class Room(BaseModel):
    id: str
    site: str
    building: str
    floor: str
    floor_name: str
    name: str
    department: str | None


class Asset(BaseModel):
    id: str
    name: str
    profile: str
    site: str
    building: str
    floor: str
    room: str
    model: str | None
    serial: str | None
    sensors: list[str]


class Gateway(BaseModel):
    id: str
    site: str
    name: str
    sensors: list[str]


class MetricReading(BaseModel):
    """The newest value of one metric."""

    time: datetime
    value: float | bool


SensorState = Literal["online", "stale", "no_data"]


class SensorStatus(BaseModel):
    """Live status: online while its newest reading is younger than the
    staleness limit; stale after; no_data when nothing is stored."""

    sensor: str
    status: SensorState
    last_seen: datetime | None
    metrics: dict[str, MetricReading]


class MetricInfo(BaseModel):
    name: str
    unit: str
    type: str


class Sensor(BaseModel):
    id: str
    gateway: str
    site: str
    building: str
    floor: str
    room: str
    asset: str
    asset_name: str
    profile: str
    kind: str
    metrics: list[MetricInfo]
    thresholds: dict[str, dict[str, Any]]
    calibration_due: date | None
    live: SensorStatus


HistoryTier = Literal["raw", "1m", "1h"]


class HistoryPoint(BaseModel):
    time: datetime = Field(description="start of the point's window")
    value: float | bool | None
    min: float | None = Field(default=None, description="the window's minimum (roll-up tiers only)")
    max: float | None = Field(default=None, description="the window's maximum (roll-up tiers only)")


class History(BaseModel):
    sensor: str
    metric: str
    unit: str
    start: datetime
    stop: datetime
    source: HistoryTier = Field(description="raw readings (30 days), or the 1-minute or 1-hour roll-ups (2 years)")
    window_seconds: int | None = Field(description="aggregation window; null when raw points are returned")
    aggregate: str | None = Field(description="mean, last (booleans and counters on raw readings) or increase "
                                              "(counters on roll-ups: the rise within the window)")
    points: list[HistoryPoint]


# --------------------------------------------------------------------------
# Alerts, silences, work orders


class AlertDetail(BaseModel):
    alert: Alert
    events: list[AlertEvent]


class AlertAction(_In):
    note: str | None = Field(default=None, max_length=2000, description="what is being done about it")


class CommentIn(_In):
    note: str = Field(min_length=1, max_length=2000)


class SilenceIn(_In):
    reason: str = Field(min_length=1, max_length=500)
    kind: Literal["silence", "maintenance"] = "silence"
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime | None = None
    duration_minutes: float | None = Field(default=None, gt=0, le=60 * 24 * 366)
    asset: str | None = None
    sensor: str | None = None
    rule_id: str | None = None
    building: str | None = None


class WorkOrderDetail(BaseModel):
    work_order: WorkOrder
    events: list[WorkOrderEvent]


class WorkOrderIn(_In):
    problem: str = Field(min_length=1, max_length=100, description="a problem code (alerts.workorders.PROBLEMS) or free text")
    asset: str | None = None
    room: str | None = Field(default=None, description="for work on a room rather than an asset")
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    priority: Priority | None = None


class AssignIn(_In):
    to: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class NoteIn(_In):
    note: str | None = Field(default=None, max_length=2000)


class DispositionIn(_In):
    disposition: Literal["usable", "quarantine", "discard"] = Field(
        description="usable: no effect on the product; quarantine: held pending review; discard: destroyed")
    note: str | None = Field(default=None, max_length=2000, description="the evidence, e.g. the manufacturer's stability data")


# --------------------------------------------------------------------------
# On call (names only: contact points' URLs and secrets never leave the server)


class TargetOut(BaseModel):
    schedule: str | None = None
    person: str | None = None
    contact_point: str | None = None


class OverrideOut(BaseModel):
    person: str
    start: datetime
    end: datetime


class ScheduleOut(BaseModel):
    name: str
    timezone: str
    # A wall-clock time in `timezone`, so not JSON Schema's "time" format (which demands an offset).
    handover: Annotated[str, Field(pattern=r"^\d{2}:\d{2}(:\d{2})?$", description="local time (HH:MM) the shift changes",
                                   examples=["08:00"])]
    shift_days: int
    start: date
    rotation: list[str]
    overrides: list[OverrideOut]
    on_call_now: str


class TierOut(BaseModel):
    notify: list[TargetOut]
    escalate_after_minutes: float


class EscalationPolicyOut(BaseModel):
    name: str
    tiers: list[TierOut]
    repeat: int
    is_default: bool


# --------------------------------------------------------------------------
# Tokens and health


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class TokenIn(_In):
    name: str = Field(min_length=1, max_length=100)
    role: Role


class TokenCreated(BaseModel):
    token: TokenOut
    secret: str = Field(description="shown once; only its hash is stored")


class Check(BaseModel):
    ok: bool
    detail: str
    seconds: float | None = None


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


class Alive(BaseModel):
    status: Literal["alive"] = "alive"
