"""Cold-chain excursion records."""

from __future__ import annotations

from fastapi import APIRouter

from alerts.store import Excursion
from api.deps import StoreDep, Viewer

router = APIRouter(prefix="/excursions", tags=["excursions"])


@router.get("")
def list_excursions(store: StoreDep, _: Viewer, sensor: str | None = None, asset: str | None = None) -> list[Excursion]:
    """Excursions, oldest first, of a sensor or asset (or all)."""
    return store.list_excursions(sensor=sensor, asset=asset)
