"""Newest readings and downsampled history against the real InfluxDB."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.readings import window_for
from tests.api.apikit import write_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry


def test_latest_reading_of_one_sensor(services: LocalServices, small_registry: Registry, fresh_client: TestClient) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    write_readings(services, small_registry, [("o2-b1-p", "pressure", 401.75, at)])
    body = fresh_client.get("/api/v1/readings/o2-b1-p/latest").json()
    assert body["sensor"] == "o2-b1-p" and body["status"] == "online"
    assert body["metrics"]["pressure"] == {"time": at.isoformat().replace("+00:00", "Z"), "value": 401.75}
    assert fresh_client.get("/api/v1/readings/nope/latest").status_code == 404


def test_a_month_of_history_comes_back_as_at_most_1000_points_in_well_under_a_second(
        services: LocalServices, small_registry: Registry, viewer: TestClient) -> None:
    # A reading a minute for (almost) 30 days, the raw bucket's retention.
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(days=29, hours=23)
    series = [("water-main-m", "flow", 5.0 + (i % 12), start + timedelta(minutes=i))
              for i in range(int((end - start) / timedelta(minutes=1)))]
    write_readings(services, small_registry, series)
    stop = datetime.now(UTC)
    began = time.perf_counter()
    response = viewer.get("/api/v1/readings/water-main-m/flow/history",
                          params={"start": (stop - timedelta(days=30)).isoformat(), "stop": stop.isoformat()})
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(series) > 43_000
    assert 500 < len(body["points"]) <= 1000
    assert body["aggregate"] == "mean" and body["unit"] == "m3/h" and body["window_seconds"] == window_for(
        stop - timedelta(days=30), stop)
    assert all(5.0 <= p["value"] <= 16.0 for p in body["points"])
    assert elapsed < 1.0, f"a month of history took {elapsed:.2f} s"


def test_boolean_history_takes_the_last_value_of_each_window(
        services: LocalServices, small_registry: Registry, viewer: TestClient) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    write_readings(services, small_registry, [("vac-fridge-1-door", "door_open", i % 2 == 0, at + timedelta(seconds=10 * i))
                                              for i in range(30)])
    body = viewer.get("/api/v1/readings/vac-fridge-1-door/door_open/history",
                      params={"start": (at - timedelta(minutes=1)).isoformat(),
                              "stop": (at + timedelta(minutes=10)).isoformat()}).json()
    assert body["aggregate"] == "last"
    assert {p["value"] for p in body["points"]} <= {True, False} and body["points"]


def test_window_keeps_any_range_under_1000_points() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for span in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=31)):
        every = window_for(start, start + span)
        assert span.total_seconds() / every + 1 <= 1000


def test_history_validation_errors_name_the_field(viewer: TestClient) -> None:
    url = "/api/v1/readings/water-main-m/flow/history"
    bad_time = viewer.get(url, params={"start": "yesterday"})
    assert bad_time.status_code == 422 and bad_time.json()["detail"][0]["loc"] == ["query", "start"]
    backwards = viewer.get(url, params={"start": "2026-11-02T00:00:00Z", "stop": "2026-11-01T00:00:00Z"})
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["query", "start"]
    too_long = viewer.get(url, params={"start": "2026-01-01T00:00:00Z", "stop": "2026-11-01T00:00:00Z"})
    assert too_long.status_code == 422 and "31 days" in too_long.json()["detail"][0]["msg"]
    assert viewer.get("/api/v1/readings/water-main-m/temperature/history").status_code == 404
