"""Alerts through the API: filters, one alert with its audit trail, and
acknowledge/resolve/comment recorded under the token's name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from alerts.model import AlertState
from alerts.store import AlertStore
from tests.api.apikit import SECRET_HOOK, firing


def test_acknowledging_through_the_api_updates_the_store_and_the_audit_names_the_token(
        api_store: AlertStore, oncall: TestClient, viewer: TestClient) -> None:
    api_store.apply(firing(rule="ack-test"))
    alert = api_store.list_alerts(rule_id="vac-fridge-1-temp/temperature/ack-test")[0]
    response = oncall.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={"note": "moving vaccines to fridge 2"})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "acknowledged" and response.json()["acknowledged_by"] == "test-oncall"
    stored = api_store.get_alert(alert.id)
    assert stored.state == AlertState.ACKNOWLEDGED and stored.acknowledged_by == "test-oncall"
    detail = viewer.get(f"/api/v1/alerts/{alert.id}").json()
    ack = [e for e in detail["events"] if e["action"] == "acknowledged"]
    assert ack and ack[0]["actor"] == "test-oncall" and ack[0]["note"] == "moving vaccines to fridge 2"
    again = oncall.post(f"/api/v1/alerts/{alert.id}/acknowledge")
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]


def test_comment_and_resolve_are_audited(api_store: AlertStore, oncall: TestClient) -> None:
    api_store.apply(firing(sensor="bb-fridge-1-temp", asset="bb-fridge-1", rule="resolve-test"))
    alert = api_store.list_alerts(rule_id="bb-fridge-1-temp/temperature/resolve-test")[0]
    comment = oncall.post(f"/api/v1/alerts/{alert.id}/comments", json={"note": "door seal replaced"})
    assert comment.status_code == 201 and comment.json()["actor"] == "test-oncall"
    resolved = oncall.post(f"/api/v1/alerts/{alert.id}/resolve", json={"note": "back in range"})
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == "test-oncall"
    actions = [(e.action, e.actor) for e in api_store.alert_events(alert.id)]
    assert ("comment", "test-oncall") in actions and any(a == "test-oncall" for _, a in actions[-2:])
    assert oncall.post(f"/api/v1/alerts/{alert.id}/resolve").status_code == 409


def test_alerts_filter_by_state_severity_building_and_family(api_store: AlertStore, viewer: TestClient) -> None:
    api_store.apply(firing(sensor="vac-fridge-1-temp", rule="filter-test"))
    listed = viewer.get("/api/v1/alerts", params={"state": ["firing", "pending"], "severity": "critical",
                                                   "building": "main", "family": "cold_chain"}).json()
    assert listed and all(a["state"] in ("firing", "pending") and a["severity"] == "critical" for a in listed)
    assert all(a["place"]["building"] == "main" and a["family"] == "cold_chain" for a in listed)
    assert viewer.get("/api/v1/alerts", params={"building": "elsewhere"}).json() == []
    assert len(viewer.get("/api/v1/alerts", params={"limit": 1}).json()) == 1


def test_unknown_alerts_are_404_and_bad_input_is_422_with_the_field(oncall: TestClient) -> None:
    assert oncall.get("/api/v1/alerts/424242").json() == {"detail": "no alert 424242"}
    assert oncall.post("/api/v1/alerts/424242/acknowledge").status_code == 404
    bad_state = oncall.get("/api/v1/alerts", params={"state": "on-fire"})
    assert bad_state.status_code == 422 and bad_state.json()["detail"][0]["loc"] == ["query", "state", 0]
    empty = oncall.post("/api/v1/alerts/1/comments", json={"note": ""})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "note"]
    not_int = oncall.get("/api/v1/alerts/abc")
    assert not_int.status_code == 422 and not_int.json()["detail"][0]["loc"] == ["path", "alert_id"]
    extra = oncall.post("/api/v1/alerts/1/acknowledge", json={"note": "x", "by": "someone else"})
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "by"]


def test_no_response_carries_a_contact_point_secret(api_store: AlertStore, viewer: TestClient) -> None:
    api_store.apply(firing(rule="secret-test"))
    for url in ("/api/v1/alerts", "/api/v1/oncall/schedules", "/api/v1/oncall/escalation-policies", "/openapi.json"):
        text = viewer.get(url).text
        assert SECRET_HOOK not in text and "s3cr3t" not in text and "pa55word" not in text
