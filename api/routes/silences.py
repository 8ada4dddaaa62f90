"""Silences and maintenance windows: matching alerts are recorded, not paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException

from alerts.store import Silence
from api import schemas
from api.deps import Admin, RecordId, StoreDep, Viewer

router = APIRouter(prefix="/silences", tags=["silences"])


@router.get("")
def list_silences(store: StoreDep, _: Viewer, active: bool = False) -> list[Silence]:
    """All silences, or only those active now."""
    return store.list_silences(active_at=datetime.now(UTC) if active else None)


@router.post("", status_code=201)
def create_silence(body: schemas.SilenceIn, store: StoreDep, who: Admin) -> Silence:
    """Silence alerts matching every given matcher (at least one) until
    `ends_at` or for `duration_minutes`."""
    if (body.ends_at is None) == (body.duration_minutes is None):
        raise HTTPException(422, [{"loc": ["body", "ends_at"], "msg": "give exactly one of ends_at and duration_minutes",
                                   "type": "value_error"}])
    try:
        return store.add_silence(
            created_by=who.name, reason=body.reason, kind=body.kind, starts_at=body.starts_at, ends_at=body.ends_at,
            duration=timedelta(minutes=body.duration_minutes) if body.duration_minutes else None, asset=body.asset,
            sensor=body.sensor, rule_id=body.rule_id, building=body.building)
    except ValueError as exc:
        raise HTTPException(422, [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]) from None


@router.post("/{silence_id}/expire")
def expire_silence(silence_id: RecordId, store: StoreDep, who: Admin) -> Silence:
    """End a silence now; alerts it held back are announced."""
    try:
        return store.expire_silence(silence_id, by=who.name)
    except LookupError:
        raise HTTPException(404, f"no silence {silence_id}") from None
