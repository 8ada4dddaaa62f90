"""On-call schedules and escalation policies, by name only."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_schedules_say_who_is_on_call_now(viewer: TestClient) -> None:
    [schedule] = viewer.get("/api/v1/oncall/schedules").json()
    assert schedule["name"] == "facilities" and schedule["on_call_now"] == "wang" and schedule["timezone"] == "Asia/Shanghai"


def test_policies_name_contact_points_without_their_urls(viewer: TestClient) -> None:
    [policy] = viewer.get("/api/v1/oncall/escalation-policies").json()
    assert policy["name"] == "critical" and policy["is_default"]
    assert policy["tiers"][0]["notify"] == [{"schedule": "facilities", "person": None, "contact_point": None}]
    assert policy["tiers"][1]["notify"][0]["contact_point"] == "ops-hook"
