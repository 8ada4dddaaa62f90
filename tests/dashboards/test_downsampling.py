"""The downsampling tasks: created once and then left alone, accepted and run
by InfluxDB's task engine, and what their Flux writes into the 1-minute and
1-hour buckets agrees with the raw readings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException

from tests.dashboards.conftest import HOUR_NS, FacilityData, influx
from vigil.infra.downsampling import TASKS, ensure_downsampling_tasks
from vigil.infra.local import LocalServices

pytestmark = pytest.mark.integration


@pytest.fixture
def operator(services: LocalServices) -> Iterator[tuple[str, str, str]]:
    ep = services.settings.influx_endpoint("operator")
    yield ep.url, ep.token.get_secret_value(), ep.org
    # The tasks would otherwise go on running every minute for the rest of the session.
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
        for task in client.tasks_api().find_tasks():
            if task.name in {t.name for t in TASKS}:
                client.tasks_api().delete_task(task.id)


def rows(client: InfluxDBClient, query: str) -> list[dict[str, Any]]:
    return [dict(r.values) for table in client.query_api().query(query) for r in table.records]


def test_services_up_creates_the_tasks_once_then_they_are_left_alone_and_repaired(
        services: LocalServices, operator: tuple[str, str, str]) -> None:
    url, token, org = operator
    recorded = services.settings.services_state()["influx"]["downsampling"]  # by onboarding (again on a later up)
    assert [line.split(": ")[0] for line in recorded] == ["vigil-downsample-1m", "vigil-downsample-1h"]
    assert all(line.split(": ")[1] in ("created", "unchanged") for line in recorded)
    assert ensure_downsampling_tasks(url, token, org) == ["vigil-downsample-1m: unchanged", "vigil-downsample-1h: unchanged"]
    with InfluxDBClient(url=url, token=token, org=org) as client:
        (hourly,) = client.tasks_api().find_tasks(name="vigil-downsample-1h")
        assert hourly.every == "1h" and hourly.status == "active"
        client.tasks_api().update_task_request(hourly.id, {"status": "inactive"})  # someone paused it
    assert ensure_downsampling_tasks(url, token, org) == ["vigil-downsample-1m: unchanged", "vigil-downsample-1h: updated"]


def test_the_task_engine_runs_the_minute_task(operator: tuple[str, str, str], facility_data: FacilityData) -> None:
    url, token, org = operator
    ensure_downsampling_tasks(url, token, org)
    with InfluxDBClient(url=url, token=token, org=org) as client:
        tasks = client.tasks_api()
        (minute,) = tasks.find_tasks(name="vigil-downsample-1m")
        scheduled = datetime.fromtimestamp((facility_data.day.stop_ns - HOUR_NS) / 1e9, UTC)
        run = tasks.run_manually(minute.id, scheduled_for=scheduled)
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status not in ("success", "failed"):
            time.sleep(0.2)
            # A run moves from InfluxDB's in-flight store to its finished log; for a
            # moment (more often while the scheduled run also works) neither finds it.
            try:
                status = tasks.get_run(minute.id, run.id).status
            except ApiException as exc:
                if exc.status != 404:
                    raise
                status = next((r.status for r in tasks.get_runs(minute.id) if r.id == run.id), None)
        logs = [e.message for e in tasks.get_run_logs(minute.id, run.id)]
        assert status == "success", logs


def test_minute_bucket_holds_min_mean_max_and_counter_increases(services: LocalServices, facility_data: FacilityData) -> None:
    day = facility_data.day
    with influx(services, "reader") as client:
        fridge = rows(client, f'''from(bucket: "readings_1m") |> range(start: time(v: {day.start_ns}), stop: time(v: {day.stop_ns + 60 * 10**9}))
            |> filter(fn: (r) => r.asset == "bb-fridge-1" and r._field == "temperature")
            |> pivot(rowKey: ["_time"], columnKey: ["stat"], valueColumn: "_value")''')
        assert 1430 <= len(fridge) <= 1441  # one per minute the sensor reported in
        assert all(r["min"] <= r["mean"] <= r["max"] for r in fridge)
        door = rows(client, f'''from(bucket: "readings_1m") |> range(start: time(v: {day.start_ns}), stop: time(v: {day.stop_ns + 60 * 10**9}))
            |> filter(fn: (r) => r.asset == "bb-fridge-1" and r._field == "door_open") |> distinct(column: "stat")''')
        assert {r["_value"] for r in door} == {"min", "mean", "max"}
        energy = rows(client, f'''
            raw = from(bucket: "readings") |> range(start: time(v: {day.start_ns}), stop: time(v: {day.stop_ns}))
              |> filter(fn: (r) => r.asset == "elec-main" and r._field == "energy")
            first = raw |> first() |> findRecord(fn: (key) => true, idx: 0)
            last = raw |> last() |> findRecord(fn: (key) => true, idx: 0)
            from(bucket: "readings_1m") |> range(start: time(v: {day.start_ns}), stop: time(v: {day.stop_ns + 60 * 10**9}))
              |> filter(fn: (r) => r.asset == "elec-main" and r._field == "energy" and r.stat == "increase")
              |> sum() |> map(fn: (r) => ({{r with raw_delta: last._value - first._value}}))''')
        (total,) = energy
        assert total["_value"] == pytest.approx(total["raw_delta"], rel=1e-9)


def test_hour_bucket_agrees_with_the_raw_readings(services: LocalServices, facility_data: FacilityData) -> None:
    day = facility_data.day
    hour = (day.start_ns + 5 * HOUR_NS, day.start_ns + 6 * HOUR_NS)
    with influx(services, "reader") as client:
        raw = rows(client, f'''from(bucket: "readings") |> range(start: time(v: {hour[0]}), stop: time(v: {hour[1]}))
            |> filter(fn: (r) => r.asset == "o2-or-2" and r._field == "pressure")''')
        hourly = rows(client, f'''from(bucket: "readings_1h") |> range(start: time(v: {hour[0] + 1}), stop: time(v: {hour[1] + 1}))
            |> filter(fn: (r) => r.asset == "o2-or-2" and r._field == "pressure")''')
        stats = {r["stat"]: r["_value"] for r in hourly}
        values = [r["_value"] for r in raw]
        assert stats["min"] == min(values) and stats["max"] == max(values)
        assert stats["mean"] == pytest.approx(sum(values) / len(values), rel=1e-6)  # equal samples per minute
        assert {r["_time"].timestamp() * 1e9 for r in hourly} == {float(hour[1])}, "stamped at the end of its hour"
