"""Cold-chain excursion records, filtered by sensor or asset, and their sign-off."""

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


def test_on_call_signs_off_an_excursion_with_who_and_when(api_store: AlertStore, oncall: TestClient,
                                                          technician: TestClient) -> None:
    excursion = api_store.record_excursion(ExcursionEvent(
        sensor="vac-fridge-1-temp", asset="vac-fridge-1", product="MMR vaccine", started_ns=1_795_400_000_000_000_000,
        ended_ns=1_795_401_800_000_000_000, peak=9.1, minutes_out_of_range=30.0, mean_kinetic_temperature=8.4, low=2.0, high=8.0))
    url = f"/api/v1/excursions/{excursion.id}/disposition"
    assert technician.post(url, json={"disposition": "usable"}).status_code == 403
    signed = oncall.post(url, json={"disposition": "quarantine", "note": "awaiting manufacturer stability data"})
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["disposition"] == "quarantine" and body["disposition_by"] == "test-oncall"
    assert body["disposition_note"] == "awaiting manufacturer stability data" and body["disposition_at"]
    [listed] = oncall.get("/api/v1/excursions", params={"sensor": "vac-fridge-1-temp"}).json()
    assert listed["disposition"] == "quarantine"


def test_disposition_errors(oncall: TestClient) -> None:
    bad = oncall.post("/api/v1/excursions/1/disposition", json={"disposition": "probably fine"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "disposition"]
    assert oncall.post("/api/v1/excursions/999999/disposition", json={"disposition": "discard"}).status_code == 404
