"""Newest readings and downsampled history against the real InfluxDB."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.readings import history_plan, window_for
from tests.api.apikit import roll_up, write_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry


def test_latest_reading_of_one_sensor(services: LocalServices, small_registry: Registry, fresh_client: TestClient) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    write_readings(services, small_registry, [("o2-b1-p", "pressure", 401.75, at)])
    body = fresh_client.get("/api/v1/readings/o2-b1-p/latest").json()
    assert body["sensor"] == "o2-b1-p" and body["status"] == "online"
    assert body["metrics"]["pressure"] == {"time": at.isoformat().replace("+00:00", "Z"), "value": 401.75}
    assert fresh_client.get("/api/v1/readings/nope/latest").status_code == 404


def test_a_month_of_history_comes_back_as_at_most_1000_points(
        services: LocalServices, small_registry: Registry, viewer: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
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
    # Speed is a figure to read, not a pass mark (a shared machine's load would decide it).
    with capsys.disabled():
        print(f"\n[api] a month of one sensor ({len(series)} readings) as {len(body['points'])} points: {elapsed * 1000:.0f} ms")


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
    too_long = viewer.get(url, params={"start": "2024-01-01T00:00:00Z", "stop": "2026-11-01T00:00:00Z"})
    assert too_long.status_code == 422 and "730 days" in too_long.json()["detail"][0]["msg"]
    assert viewer.get("/api/v1/readings/water-main-m/temperature/history").status_code == 404


def test_history_plan_reads_raw_readings_while_they_hold_the_range_then_the_roll_ups() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert history_plan(now - timedelta(days=1), now, now) == ("raw", window_for(now - timedelta(days=1), now))
    assert history_plan(now - timedelta(days=29), now, now)[0] == "raw"
    # 35 days: windows under an hour, from the minute roll-up, in whole minutes.
    assert history_plan(now - timedelta(days=35), now, now) == ("1m", 3060)
    # A short range older than the raw bucket's 30 days: minute windows at the finest.
    assert history_plan(now - timedelta(days=45), now - timedelta(days=45) + timedelta(hours=1), now) == ("1m", 60)
    tier, every = history_plan(now - timedelta(days=365), now, now)
    assert tier == "1h" and every % 3600 == 0 and 365 * 86400 / every <= 999


def test_two_months_of_history_come_from_the_hourly_roll_up_with_each_window_min_mean_max(
        services: LocalServices, small_registry: Registry, viewer: TestClient) -> None:
    # Four hours of a reading a minute, 20 days ago, starting on a 2-hour boundary
    # (the 60-day range's windows are 2 hours long, aligned to the epoch).
    start = datetime.fromtimestamp((int(time.time()) // 7200) * 7200, UTC) - timedelta(days=20)
    values = [4.0 + ((i * 7) % 23) / 10 for i in range(240)]
    write_readings(services, small_registry, [("bb-fridge-1-temp", "temperature", v, start + timedelta(minutes=i))
                                              for i, v in enumerate(values)])
    roll_up(services, start, start + timedelta(hours=4))
    stop = datetime.now(UTC)
    body = viewer.get("/api/v1/readings/bb-fridge-1-temp/temperature/history",
                      params={"start": (stop - timedelta(days=60)).isoformat(), "stop": stop.isoformat()}).json()
    assert body["source"] == "1h" and body["window_seconds"] == 7200 and body["aggregate"] == "mean"
    points = [p for p in body["points"] if start <= datetime.fromisoformat(p["time"]) < start + timedelta(hours=4)]
    assert [datetime.fromisoformat(p["time"]) for p in points] == [start, start + timedelta(hours=2)]
    for point, window in zip(points, (values[:120], values[120:]), strict=True):
        assert point["min"] == min(window) and point["max"] == max(window)
        assert abs(point["value"] - sum(window) / len(window)) < 1e-9


def test_counter_history_from_the_roll_ups_is_the_increase_in_each_window(
        services: LocalServices, small_registry: Registry, viewer: TestClient) -> None:
    # An energy meter rising 2 kWh a minute for two hours, 25 days ago, with a reset (meter swap) in between.
    start = datetime.fromtimestamp((int(time.time()) // 3600) * 3600, UTC) - timedelta(days=25)
    counts = [1000.0 + 2 * i if i < 90 else 2.0 * (i - 89) for i in range(120)]
    write_readings(services, small_registry, [("elec-main-m", "energy", v, start + timedelta(minutes=i))
                                              for i, v in enumerate(counts)])
    roll_up(services, start, start + timedelta(hours=2))
    body = viewer.get("/api/v1/readings/elec-main-m/energy/history",
                      params={"start": (start - timedelta(days=40)).isoformat(),
                              "stop": (start + timedelta(days=20)).isoformat()}).json()
    assert body["source"] == "1h" and body["aggregate"] == "increase"
    # Two-hour windows on the epoch: the readings' two hours may straddle three.
    total = sum(p["value"] for p in body["points"]
                if start - timedelta(hours=2) <= datetime.fromisoformat(p["time"]) < start + timedelta(hours=2))
    # 89 rises of 2 before the swap, none counted at the reset, 29 rises of 2 after.
    assert total == 2 * 89 + 2 * 29


def test_a_week_older_than_the_raw_retention_comes_from_the_minute_roll_up(
        services: LocalServices, small_registry: Registry, viewer: TestClient) -> None:
    # Nothing raw is older than 30 days, so the 1-minute tier must answer; its
    # points exist only where the roll-up wrote them.
    start = datetime.fromtimestamp((int(time.time()) // 3600) * 3600, UTC) - timedelta(days=22)
    values = [3.0 + (i % 5) for i in range(60)]
    write_readings(services, small_registry, [("vac-fridge-1-temp", "temperature", v, start + timedelta(minutes=i))
                                              for i, v in enumerate(values)])
    roll_up(services, start, start + timedelta(hours=1))
    body = viewer.get("/api/v1/readings/vac-fridge-1-temp/temperature/history",
                      params={"start": (start - timedelta(days=10)).isoformat(),
                              "stop": (start + timedelta(hours=2)).isoformat()}).json()
    assert body["source"] == "1m" and body["window_seconds"] % 60 == 0
    assert min(p["min"] for p in body["points"]) == 3.0 and max(p["max"] for p in body["points"]) == 7.0
