"""The registry as the API shows it, with each sensor's live status read
from the real InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.readings import ReadingsSource, sensor_status
from api.schemas import MetricReading
from tests.api.apikit import write_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry


def test_sites_buildings_rooms_assets_and_gateways_come_from_the_registry(viewer: TestClient) -> None:
    sites = viewer.get("/api/v1/sites").json()
    assert [(s["id"], s["timezone"], s["gateways"]) for s in sites] == [("north", "Asia/Shanghai", ["gw-a", "gw-b"])]
    assert [b["id"] for b in viewer.get("/api/v1/buildings").json()] == ["main"]
    rooms = {r["id"]: r for r in viewer.get("/api/v1/rooms", params={"building": "main"}).json()}
    assert rooms["blood-bank"]["department"] == "Transfusion" and rooms["blood-bank"]["floor"] == "b1"
    assert viewer.get("/api/v1/rooms", params={"building": "elsewhere"}).json() == []
    fridge = viewer.get("/api/v1/assets/vac-fridge-1").json()
    assert fridge["sensors"] == ["vac-fridge-1-temp", "vac-fridge-1-door"] and fridge["room"] == "blood-bank"
    gateways = {g["id"]: g["sensors"] for g in viewer.get("/api/v1/gateways").json()}
    assert "o2-b1-p" in gateways["gw-b"] and "uv-or-1-s" in gateways["gw-a"]


def test_unknown_asset_and_sensor_are_404(viewer: TestClient) -> None:
    assert viewer.get("/api/v1/assets/no-such-asset").status_code == 404
    response = viewer.get("/api/v1/sensors/no-such-sensor")
    assert response.status_code == 404 and response.json() == {"detail": "no sensor 'no-such-sensor'"}


def test_sensors_show_their_newest_reading_per_metric_and_are_online(
        services: LocalServices, small_registry: Registry, fresh_client: TestClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    write_readings(services, small_registry, [
        ("elec-main-m", "power", 411.5, now - timedelta(seconds=40)),
        ("elec-main-m", "power", 412.25, now - timedelta(seconds=20)),
        ("elec-main-m", "voltage", 230.5, now - timedelta(seconds=20)),
    ])
    sensors = {s["id"]: s for s in fresh_client.get("/api/v1/sensors").json()}
    assert set(sensors) == set(small_registry.sensors)
    live = sensors["elec-main-m"]["live"]
    assert live["status"] == "online"
    assert live["metrics"]["power"]["value"] == 412.25
    assert datetime.fromisoformat(live["metrics"]["power"]["time"]) == now - timedelta(seconds=20)
    assert live["metrics"]["voltage"]["value"] == 230.5
    one = fresh_client.get("/api/v1/sensors/elec-main-m").json()
    assert one["kind"] == "electricity_meter" and one["live"]["metrics"]["power"]["value"] == 412.25
    assert fresh_client.get("/api/v1/sensors", params={"asset": "elec-main"}).json()[0]["id"] == "elec-main-m"


def test_live_status_is_one_cached_query_for_all_sensors(fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    readings: ReadingsSource = fresh_client.app.state.vigil.readings  # type: ignore[attr-defined]
    queries: list[str] = []
    real = readings._query

    def counting(flux: str) -> list[Any]:
        queries.append(flux)
        return real(flux)

    monkeypatch.setattr(readings, "_query", counting)
    for _ in range(3):
        assert fresh_client.get("/api/v1/sensors").status_code == 200
    assert fresh_client.get("/api/v1/readings/latest").status_code == 200
    assert len(queries) == 1 and "last()" in queries[0]


def test_a_sensor_is_stale_after_its_limit_and_no_data_without_readings() -> None:
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    recent = {"temperature": MetricReading(time=now - timedelta(minutes=2), value=4.1)}
    old = {"temperature": MetricReading(time=now - timedelta(minutes=11), value=4.1)}
    assert sensor_status("s", recent, now, timedelta(minutes=10)).status == "online"
    assert sensor_status("s", old, now, timedelta(minutes=10)).status == "stale"
    nothing = sensor_status("s", {}, now, timedelta(minutes=10))
    assert nothing.status == "no_data" and nothing.last_seen is None
