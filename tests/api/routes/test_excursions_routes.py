"""Cold-chain excursion records, filtered by sensor or asset."""

from __future__ import annotations

from fastapi.testclient import TestClient

from alerts.model import ExcursionEvent
from alerts.store import AlertStore


def test_excursions_are_listed_by_asset(api_store: AlertStore, viewer: TestClient) -> None:
    api_store.record_excursion(ExcursionEvent(sensor="bb-fridge-1-temp", asset="bb-fridge-1", product="whole blood",
                                              started_ns=1_795_392_000_000_000_000, ended_ns=None, peak=7.4,
                                              minutes_out_of_range=25.0, mean_kinetic_temperature=6.9, low=2.0, high=6.0))
    [excursion] = viewer.get("/api/v1/excursions", params={"asset": "bb-fridge-1"}).json()
    assert excursion["product"] == "whole blood" and excursion["peak"] == 7.4 and excursion["ended_at"] is None
    assert viewer.get("/api/v1/excursions", params={"sensor": "vac-fridge-1-temp"}).json() == []
