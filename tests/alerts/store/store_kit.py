"""Test kit for the alert store: a controllable clock, transitions as the
rules engine would send them, and an on-call config with two tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.model import AlertState, RuleKind, Transition
from alerts.notify import DeliveryResult, Message
from alerts.oncall import OnCallConfig
from vigil.profiles import Severity

TESTDATA = Path(__file__).parent / "testdata"
TWO_BUILDINGS = TESTDATA / "two-buildings.yaml"
CONSOLE = "https://vigil.hospital.test/console"

# 10:00 in Shanghai, a Monday: wang is on call (rotation starts that morning).
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

SENSOR_ASSET = {
    "vac-fridge-1-temp": "vac-fridge-1",
    "bb-fridge-1-temp": "bb-fridge-1",
    "elec-main-m": "elec-main",
    "elec-annex-m": "elec-annex",
    "o2-b1-p": "o2-zone-b1",
    "water-main-m": "water-main",
    "uv-or-1-s": "uv-or-1",
    "uv-ward-2-s": "uv-ward-2",
}
METRIC = {"elec": "voltage", "o2": "pressure", "water": "flow", "uv": "intensity"}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)


def transition(sensor: str = "vac-fridge-1-temp", state: AlertState = AlertState.FIRING, *, at: datetime = T0,
               value: float | bool | None = 9.2, severity: Severity = Severity.CRITICAL, kind: RuleKind = RuleKind.THRESHOLD,
               metric: str | None = None, limit: str | None = None, summary: str | None = None,
               since: datetime | None = None, work_order: str | None = None, rule_id: str | None = None,
               details: dict[str, Any] | None = None) -> Transition:
    """A transition for `sensor`, with plausible defaults for its family."""
    if metric is None:
        metric = next((m for prefix, m in METRIC.items() if sensor.startswith(prefix)), "temperature")
    asset = SENSOR_ASSET.get(sensor, sensor)
    return Transition(
        rule_id=rule_id or f"{sensor}/{metric}/{kind.value}", rule_kind=kind, sensor=sensor, asset=asset, metric=metric,
        state=state, at_ns=_ns(at), severity=severity,
        summary=summary or f"{asset} {metric} out of range", value=value, limit=limit or "> 8.0 °C for 15 min",
        since_ns=_ns(since or at - timedelta(minutes=15)), details=details or {}, work_order=work_order,
    )


def oncall_config(contact_points: dict[str, str] | None = None, **overrides: Any) -> OnCallConfig:
    """Wang and Zhang rotate daily at 08:00 Shanghai time; Chen leads.
    Critical: tier 1 on call (15 min), tier 2 Chen (15 min), one repeat.
    Warning and below: tier 1 on call (60 min), tier 2 Chen (60 min), no repeat."""
    urls = contact_points or {
        "wang-mail": "mailto://127.0.0.1:1?mode=insecure&from=vigil@hospital.test&to=wang@hospital.test",
        "zhang-mail": "mailto://127.0.0.1:1?mode=insecure&from=vigil@hospital.test&to=zhang@hospital.test",
        "chen-mail": "mailto://127.0.0.1:1?mode=insecure&from=vigil@hospital.test&to=chen@hospital.test",
        "ops-hook": "json://127.0.0.1:1/hook",
    }
    data: dict[str, Any] = {
        "contact_points": urls,
        "people": {
            "wang": {"name": "Wang Li", "contact_points": ["wang-mail"]},
            "zhang": {"name": "Zhang Wei", "contact_points": ["zhang-mail"]},
            "chen": {"name": "Chen Jing", "contact_points": ["chen-mail"]},
        },
        "schedules": {
            "facilities": {"timezone": "Asia/Shanghai", "handover": "08:00", "shift_days": 1, "start": "2026-11-23",
                           "rotation": ["wang", "zhang"]},
        },
        "escalation_policies": {
            "critical": {"tiers": [{"notify": [{"schedule": "facilities"}], "escalate_after_minutes": 15},
                                   {"notify": [{"person": "chen"}], "escalate_after_minutes": 15}], "repeat": 1},
            "standard": {"tiers": [{"notify": [{"schedule": "facilities"}], "escalate_after_minutes": 60},
                                   {"notify": [{"person": "chen"}], "escalate_after_minutes": 60}], "repeat": 0},
        },
        "routes": [{"match": {"severity": ["critical"]}, "policy": "critical"}],
        "default_policy": "standard",
        "work_orders": {"notify": [{"schedule": "facilities"}], "escalate_to": [{"person": "chen"}]},
    }
    data.update(overrides)
    return OnCallConfig.model_validate(data)


def keys(notifications: Any) -> list[str]:
    """The idempotency keys of notification intents, for readable asserts."""
    return [n.key for n in notifications]


def recipients(notifications: Any) -> list[str]:
    return [n.recipient for n in notifications]


class RecordingNotifier:
    """A notifier that records what it was asked to send: (contact point, title)."""

    def __init__(self, name: str, sent: list[tuple[str, str]]) -> None:
        self._name, self.sent = name, sent

    @property
    def name(self) -> str:
        return self._name

    @property
    def channel(self) -> str:
        return "test"

    def send(self, message: Message) -> DeliveryResult:
        self.sent.append((self._name, message.title))
        return DeliveryResult.delivered()
