"""Silences and maintenance windows, matched against alerts. Pure.

A silence names any of asset, sensor, rule and building, a start and an end,
who created it and why. An alert it matches is still recorded (state
changes and audit trail) but pages nobody while the silence is active.
"""

from __future__ import annotations

from datetime import datetime

from alerts.store.views import Silence

SILENCE_KINDS = frozenset({"silence", "maintenance"})


def validate_silence(*, kind: str, asset: str | None, sensor: str | None, rule_id: str | None, building: str | None,
                     starts_at: datetime, ends_at: datetime, created_by: str, reason: str) -> None:
    """Raise ValueError for a silence that would match everything, run
    backwards, or not say who and why."""
    if kind not in SILENCE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(SILENCE_KINDS))}, not {kind!r}")
    if not any((asset, sensor, rule_id, building)):
        raise ValueError("a silence needs at least one of asset, sensor, rule or building (it would silence everything)")
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts")
    if not created_by.strip():
        raise ValueError("a silence needs the name of who created it")
    if not reason.strip():
        raise ValueError("a silence needs a reason")


def silence_matches(silence: Silence, *, asset: str | None, sensor: str, rule_id: str, building: str | None,
                    at: datetime) -> bool:
    """Whether `silence` is active at `at` and every matcher it sets matches."""
    if not silence.active(at):
        return False
    return all([
        silence.asset is None or silence.asset == asset,
        silence.sensor is None or silence.sensor == sensor,
        silence.rule_id is None or silence.rule_id == rule_id,
        silence.building is None or silence.building == building,
    ])
