"""Maintenance work orders: list, read with history, open, assign, move
through respond/resolve/close, comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query

from alerts.store import Place
from alerts.workorders import Priority, WorkOrder, WorkOrderEvent, WorkOrderState
from api import schemas
from api.deps import RecordId, RegistryDep, StoreDep, Technician, Viewer

router = APIRouter(prefix="/work-orders", tags=["work orders"])

NoteBody = Annotated[schemas.NoteIn | None, Body()]


@router.get("")
def list_work_orders(
    store: StoreDep,
    _: Viewer,
    state: Annotated[list[WorkOrderState] | None, Query()] = None,
    priority: Priority | None = None,
    building: str | None = None,
    asset: str | None = None,
    open_only: bool = False,
) -> list[WorkOrder]:
    """Work orders, newest first."""
    return store.list_work_orders(state=state, priority=priority, building=building, asset=asset, open_only=open_only)


@router.get("/{work_order_id}")
def get_work_order(work_order_id: RecordId, store: StoreDep, _: Viewer) -> schemas.WorkOrderDetail:
    """One work order with its history."""
    return schemas.WorkOrderDetail(work_order=store.get_work_order(work_order_id),
                                   events=store.work_order_events(work_order_id))


@router.post("", status_code=201)
def create_work_order(body: schemas.WorkOrderIn, store: StoreDep, registry: RegistryDep, who: Technician) -> WorkOrder:
    """Open a work order on an asset or a room (or get the one already open
    for the same subject and problem)."""
    place: Place | None = None
    if body.asset is not None:
        if not any(s.asset == body.asset for s in registry.sensors.values()):
            raise HTTPException(422, [{"loc": ["body", "asset"], "msg": f"no asset {body.asset!r}", "type": "value_error"}])
    elif body.room is not None:
        place = next((Place(site=s.id, site_name=s.name, building=b.id, building_name=b.name, floor=f.id, floor_name=f.name,
                            room=r.id, room_name=r.name, department=r.department, timezone=s.timezone)
                      for s in registry.config.sites for b in s.buildings for f in b.floors for r in f.rooms
                      if r.id == body.room), None)
        if place is None:
            raise HTTPException(422, [{"loc": ["body", "room"], "msg": f"no room {body.room!r}", "type": "value_error"}])
    else:
        raise HTTPException(422, [{"loc": ["body", "asset"], "msg": "give an asset or a room", "type": "value_error"}])
    return store.open_work_order(body.problem, asset=body.asset, place=place, priority=body.priority, title=body.title,
                                 description=body.description, source="api", by=who.name)


@router.post("/{work_order_id}/assign")
def assign_work_order(work_order_id: RecordId, body: schemas.AssignIn, store: StoreDep, who: Technician) -> WorkOrder:
    """Assign the order to a person or team."""
    return store.assign_work_order(work_order_id, to=body.to, by=who.name, note=body.note)


@router.post("/{work_order_id}/respond")
def respond_work_order(work_order_id: RecordId, store: StoreDep, who: Technician, body: NoteBody = None) -> WorkOrder:
    """Someone answered or is on site."""
    return store.respond_work_order(work_order_id, by=who.name, note=body.note if body else None)


@router.post("/{work_order_id}/resolve")
def resolve_work_order(work_order_id: RecordId, store: StoreDep, who: Technician, body: NoteBody = None) -> WorkOrder:
    """The fault is fixed (the note says how)."""
    return store.resolve_work_order(work_order_id, by=who.name, note=body.note if body else None)


@router.post("/{work_order_id}/close")
def close_work_order(work_order_id: RecordId, store: StoreDep, who: Technician, body: NoteBody = None) -> WorkOrder:
    """Verified and closed."""
    return store.close_work_order(work_order_id, by=who.name, note=body.note if body else None)


@router.post("/{work_order_id}/comments", status_code=201)
def comment_work_order(work_order_id: RecordId, body: schemas.CommentIn, store: StoreDep, who: Technician) -> WorkOrderEvent:
    """Add a note to the order's history."""
    return store.comment_work_order(work_order_id, by=who.name, note=body.note)
