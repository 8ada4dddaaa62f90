"""Liveness, readiness with a result per check, and Prometheus metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr

from alerts.store import AlertStore
from api.app import create_app
from api.readings import ReadingsSource
from tests.api.apikit import api_influx, write_readings
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry


def test_healthz_needs_no_token(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "alive"}


def test_readyz_checks_database_broker_influxdb_and_the_newest_reading(
        services: LocalServices, small_registry: Registry, api_store: AlertStore) -> None:
    write_readings(services, small_registry, [("uv-or-1-s", "intensity", 120.0, datetime.now(UTC) - timedelta(seconds=3))])
    readings = ReadingsSource(api_influx(services), small_registry)
    with TestClient(create_app(services.settings, small_registry, api_store, readings=readings)) as client:
        response = client.get("/readyz")
    readings.close()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] and set(body["checks"]) == {"database", "broker", "influxdb", "newest_reading"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_is_503_naming_the_failed_check_without_secrets(
        services: LocalServices, small_registry: Registry, api_store: AlertStore) -> None:
    settings = services.settings.model_copy(update={"mqtt_url": SecretStr(f"mqtt://api:hunter2@127.0.0.1:{free_port()}")})
    readings = ReadingsSource(api_influx(services), small_registry)
    with TestClient(create_app(settings, small_registry, api_store, readings=readings)) as client:
        response = client.get("/readyz")
    readings.close()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert not checks["broker"]["ok"] and checks["database"]["ok"] and checks["influxdb"]["ok"]
    assert "hunter2" not in response.text


def test_influxdb_down_is_a_503_without_details(small_registry: Registry, api_store: AlertStore,
                                                      services: LocalServices, viewer: TestClient) -> None:
    settings = services.settings.model_copy(update={"influx_url": f"http://127.0.0.1:{free_port()}",
                                                    "influx_token": SecretStr("t0ken-secret")})
    headers = dict(viewer.headers)
    with TestClient(create_app(settings, small_registry, api_store), raise_server_exceptions=False, headers=headers) as client:
        response = client.get("/api/v1/sensors")
        # Unavailable, not a bug: a 503 callers may retry, naming neither the address nor the token.
        assert response.status_code == 503 and "InfluxDB) is unavailable" in response.json()["detail"]
        assert "127.0.0.1" not in response.text
        ready = client.get("/readyz")
    assert ready.status_code == 503 and not ready.json()["checks"]["influxdb"]["ok"]
    assert "t0ken-secret" not in ready.text and "Traceback" not in response.text


def test_metrics_count_requests_by_operation(viewer: TestClient) -> None:
    viewer.get("/api/v1/alerts/424242")
    viewer.get("/no/such/path")
    text = viewer.get("/metrics").text
    assert 'vigil_api_requests_total{method="GET",operation="get_alert",status="404"}' in text
    assert 'operation="unmatched"' in text and "424242" not in text

