"""Cold-chain excursion records and their sign-off (what happens to the product)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from alerts.store import Excursion
from api import schemas
from api.deps import OnCall, RecordId, StoreDep, Viewer

router = APIRouter(prefix="/excursions", tags=["excursions"])


@router.get("")
def list_excursions(store: StoreDep, _: Viewer, sensor: str | None = None, asset: str | None = None) -> list[Excursion]:
    """Excursions, oldest first, of a sensor or asset (or all)."""
    return store.list_excursions(sensor=sensor, asset=asset)


@router.post("/{excursion_id}/disposition")
def sign_off_excursion(excursion_id: RecordId, body: schemas.DispositionIn, store: StoreDep, who: OnCall) -> Excursion:
    """Record what happens to the product exposed by an excursion (usable,
    quarantine, discard), by whom and when; signing again replaces the
    decision (the excursion report shows the latest)."""
    try:
        return store.set_excursion_disposition(excursion_id, body.disposition, who.name, body.note)
    except LookupError as missing:
        raise HTTPException(404, str(missing)) from None
