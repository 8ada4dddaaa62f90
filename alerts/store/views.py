"""What the alert store hands out: plain frozen records, never ORM rows, so
the CLI and the API cannot change state behind the store's back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from alerts.model import AlertState
from alerts.notify.base import NotificationKind
from vigil.profiles import Severity

# Alert "families" beyond the sensor kinds (vigil.kinds.SensorKind values).
FAMILY_GATEWAY = "gateway"
FAMILY_NOTIFICATION = "notification"
NOTIFICATION_FAILED = "notification_failed"  # the rule kind of "a channel keeps failing"

OPEN_ALERT_STATES = frozenset({AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED})


@dataclass(frozen=True)
class Place:
    """Where something is, with the names people use."""

    site: str | None = None
    site_name: str | None = None
    building: str | None = None
    building_name: str | None = None
    floor: str | None = None
    floor_name: str | None = None
    room: str | None = None
    room_name: str | None = None
    department: str | None = None
    asset: str | None = None
    asset_name: str | None = None
    timezone: str = "UTC"

    def describe(self) -> str:
        """"Main Building, Basement, Blood Bank (Transfusion), Vaccine fridge 1 (vac-fridge-1)"."""
        parts = [
            self.building_name or self.building,
            self.floor_name or self.floor,
            (self.room_name or self.room or "") + (f" ({self.department})" if self.department else ""),
        ]
        if self.asset or self.asset_name:
            parts.append(f"{self.asset_name} ({self.asset})" if self.asset_name and self.asset else self.asset_name or self.asset)
        text = ", ".join(p for p in parts if p)
        if self.site_name and text:
            text = f"{self.site_name}: {text}"
        return text or "unknown location"

    def to_json(self) -> dict[str, Any]:
        """The place as stored (names that are unknown are left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Place:
        """A place from what `to_json` stored."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True)
class Alert:
    """An alert: one per (rule_id, sensor) while open."""

    id: int
    rule_id: str
    rule_kind: str
    sensor: str
    asset: str | None
    metric: str | None
    state: AlertState
    severity: Severity
    summary: str
    value: float | bool | None
    limit: str | None
    details: dict[str, Any]
    work_order_problem: str | None
    family: str | None
    profile: str | None
    place: Place
    since: datetime | None
    event_at: datetime | None
    opened_at: datetime
    fired_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    updated_at: datetime
    announced: str | None  # what people were last told: None, "firing", "resolved"
    episode: int
    flaps: int
    suppressed_by: str | None
    caused_by: int | None

    @property
    def building(self) -> str | None:
        """The building id, if known."""
        return self.place.building

    @property
    def is_open(self) -> bool:
        """Pending, firing or acknowledged."""
        return self.state in OPEN_ALERT_STATES


@dataclass(frozen=True)
class AlertEvent:
    """One line of an alert's audit trail."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    event_time: datetime | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Silence:
    """A silence or maintenance window. Every matcher given must match."""

    id: int
    kind: str
    asset: str | None
    sensor: str | None
    rule_id: str | None
    building: str | None
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    reason: str
    expired_at: datetime | None
    expired_by: str | None

    def active(self, at: datetime) -> bool:
        """Whether the silence holds at `at`."""
        end = min(self.ends_at, self.expired_at) if self.expired_at else self.ends_at
        return self.starts_at <= at < end

    def describe(self) -> str:
        """One line for people: what it matches, who, why."""
        matchers = [f"{k}={v}" for k, v in (("asset", self.asset), ("sensor", self.sensor), ("rule", self.rule_id),
                                               ("building", self.building)) if v]
        return f"{self.kind} {self.id} ({', '.join(matchers)}) by {self.created_by}: {self.reason}"


@dataclass(frozen=True)
class Escalation:
    """Where an alert's escalation stands."""

    alert_id: int
    policy: str
    episode: int
    tier: int  # 0-based
    round: int  # 0-based
    started_at: datetime
    next_at: datetime | None
    held: bool
    stopped_at: datetime | None
    stop_reason: str | None


@dataclass(frozen=True)
class NotificationRecord:
    """One outbox row: a notification to one recipient, and how it went."""

    id: int
    key: str
    kind: NotificationKind
    step: str
    recipient: str
    person: str | None
    alert_id: int | None
    work_order_id: int | None
    title: str
    body: str
    status: str
    created_at: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class DeliveryAttempt:
    id: int
    notification_id: int
    attempt: int
    channel: str | None
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    retryable: bool | None
    error: str | None


@dataclass(frozen=True)
class Excursion:
    id: int
    sensor: str
    asset: str
    product: str | None
    started_at: datetime
    ended_at: datetime | None
    peak: float
    minutes_out_of_range: float
    mean_kinetic_temperature: float | None
    low: float | None
    high: float | None
    disposition: str | None
    disposition_by: str | None
    disposition_at: datetime | None
    disposition_note: str | None
