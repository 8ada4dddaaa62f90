"""Silences: admins create and expire them, everyone can read them."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_an_admin_silences_an_asset_and_expires_it(admin: TestClient, viewer: TestClient) -> None:
    created = admin.post("/api/v1/silences", json={"asset": "uv-or-1", "reason": "lamp replacement", "kind": "maintenance",
                                                   "duration_minutes": 60})
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["created_by"] == "test-admin" and silence["asset"] == "uv-or-1"
    assert any(s["id"] == silence["id"] for s in viewer.get("/api/v1/silences", params={"active": True}).json())
    expired = admin.post(f"/api/v1/silences/{silence['id']}/expire")
    assert expired.status_code == 200 and expired.json()["expired_by"] == "test-admin"
    assert all(s["id"] != silence["id"] for s in viewer.get("/api/v1/silences", params={"active": True}).json())


def test_silence_errors_name_the_field(admin: TestClient) -> None:
    everything = admin.post("/api/v1/silences", json={"reason": "quiet please", "duration_minutes": 10})
    assert everything.status_code == 422 and "silence everything" in everything.json()["detail"][0]["msg"]
    no_end = admin.post("/api/v1/silences", json={"reason": "x", "asset": "uv-or-1"})
    assert no_end.status_code == 422 and no_end.json()["detail"][0]["loc"] == ["body", "ends_at"]
    negative = admin.post("/api/v1/silences", json={"reason": "x", "asset": "uv-or-1", "duration_minutes": -5})
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "duration_minutes"]
    assert admin.post("/api/v1/silences/424242/expire").status_code == 404
