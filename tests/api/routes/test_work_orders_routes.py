"""Work orders through the API, each step recorded under the token's name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from alerts.store import AlertStore


def test_a_work_order_goes_from_open_to_closed_with_its_history(api_store: AlertStore, technician: TestClient,
                                                                viewer: TestClient) -> None:
    created = technician.post("/api/v1/work-orders", json={"problem": "service_fridge", "asset": "bb-fridge-1",
                                                           "description": "compressor noisy"})
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["state"] == "open" and order["opened_by"] == "test-technician" and order["source"] == "api"
    oid = order["id"]
    assert technician.post(f"/api/v1/work-orders/{oid}/assign", json={"to": "biomed team"}).json()["assigned_to"] == "biomed team"
    assert technician.post(f"/api/v1/work-orders/{oid}/respond").json()["responded_by"] == "test-technician"
    assert technician.post(f"/api/v1/work-orders/{oid}/comments", json={"note": "fan replaced"}).status_code == 201
    assert technician.post(f"/api/v1/work-orders/{oid}/resolve", json={"note": "fan replaced"}).json()["state"] == "resolved"
    assert technician.post(f"/api/v1/work-orders/{oid}/close").json()["closed_by"] == "test-technician"
    detail = viewer.get(f"/api/v1/work-orders/{oid}").json()
    assert [e["action"] for e in detail["events"]][-5:] == ["assigned", "responded", "comment", "resolved", "closed"]
    assert {e["actor"] for e in detail["events"][1:]} == {"test-technician"}
    assert api_store.get_work_order(oid).closed_by == "test-technician"
    refused = technician.post(f"/api/v1/work-orders/{oid}/respond")
    assert refused.status_code == 409 and "closed" in refused.json()["detail"]
    assert any(o["id"] == oid for o in viewer.get("/api/v1/work-orders", params={"state": "closed"}).json())


def test_a_work_order_on_a_room(technician: TestClient) -> None:
    created = technician.post("/api/v1/work-orders", json={"problem": "inspect_leak", "room": "plant"})
    assert created.status_code == 201, created.text
    assert created.json()["room"] == "plant" and created.json()["asset"] is None


def test_work_order_errors(technician: TestClient) -> None:
    assert technician.get("/api/v1/work-orders/424242").status_code == 404
    assert technician.post("/api/v1/work-orders/424242/close").status_code == 404
    unknown = technician.post("/api/v1/work-orders", json={"problem": "service_fridge", "asset": "no-such-fridge"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "asset"]
    missing = technician.post("/api/v1/work-orders", json={"asset": "bb-fridge-1"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "problem"]
    bad_priority = technician.post("/api/v1/work-orders", json={"problem": "x", "asset": "bb-fridge-1", "priority": "asap"})
    assert bad_priority.status_code == 422 and bad_priority.json()["detail"][0]["loc"] == ["body", "priority"]
