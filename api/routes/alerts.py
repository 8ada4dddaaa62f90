"""Alerts: list and read with the audit trail; acknowledge, resolve and
comment as the token's name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from alerts.model import AlertState
from alerts.store import Alert, AlertEvent
from api import schemas
from api.deps import OnCall, RecordId, StoreDep, Viewer
from vigil.profiles import Severity

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    store: StoreDep,
    _: Viewer,
    state: Annotated[list[AlertState] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    building: str | None = None,
    family: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Alert]:
    """Alerts, newest first; `state` and `severity` may repeat."""
    return store.list_alerts(state=state, severity=[str(s) for s in severity] if severity else None, building=building,
                             family=family, limit=limit)


@router.get("/{alert_id}")
def get_alert(alert_id: RecordId, store: StoreDep, _: Viewer) -> schemas.AlertDetail:
    """One alert with its audit trail, oldest event first."""
    return schemas.AlertDetail(alert=store.get_alert(alert_id), events=store.alert_events(alert_id))


@router.post("/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: RecordId, store: StoreDep, who: OnCall,
                      body: Annotated[schemas.AlertAction | None, Body()] = None) -> Alert:
    """Take the alert on: escalation stops. 409 if it is acknowledged or resolved already."""
    return store.acknowledge(alert_id, by=who.name, note=body.note if body else None)


@router.post("/{alert_id}/resolve")
def resolve_alert(alert_id: RecordId, store: StoreDep, who: OnCall,
                  body: Annotated[schemas.AlertAction | None, Body()] = None) -> Alert:
    """Resolve the alert by hand. 409 if it is resolved already."""
    return store.resolve(alert_id, by=who.name, note=body.note if body else None)


@router.post("/{alert_id}/comments", status_code=201)
def comment_alert(alert_id: RecordId, body: schemas.CommentIn, store: StoreDep, who: OnCall) -> AlertEvent:
    """Add a note to the alert's audit trail."""
    return store.comment(alert_id, by=who.name, note=body.note)
