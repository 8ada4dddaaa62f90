"""Ingest's telemetry against the real Mosquitto and InfluxDB: a gateway's
retained status becomes a `gateway` point, a worker's own counters an
`ingest` point, in the `platform` bucket."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from ingest.telemetry import GatewayReport, IngestTelemetry, gateway_buildings, parse_status, status_point
from ingest.worker import IngestMetrics
from tests.conftest import SMALL_FACILITY
from tests.dashboards.conftest import EVERY_PROFILE
from tests.ingest.conftest import RunningWorker, Window, wait_for_count
from tests.ingest.test_ingest_integration import messages_for, publish_as_gateways
from tests.support.mqtt import MqttTestClient
from vigil.contract import GatewayState, encode_status
from vigil.infra.local import LocalServices
from vigil.registry import Registry, load_registry


def test_a_status_becomes_a_report_and_anything_else_is_ignored() -> None:
    topic = "vigil/v1/north/gw-a/status"
    report = parse_status(topic, encode_status(GatewayState.ONLINE, 1_795_392_000_000_000_000, backlog=12, dropped=3))
    assert report == GatewayReport("gw-a", "north", True, 1_795_392_000_000_000_000, 12, 3)
    assert parse_status("vigil/v1/north/gw-a/readings", b'{"state": "online", "ts": 1}') is None
    assert parse_status(topic, b"not json") is None
    assert parse_status(topic, b'{"state": "asleep", "ts": 1}') is None
    # Extra fields are informative: a wrong one is left out, never written as a number.
    odd = parse_status(topic, b'{"state": "offline", "ts": "2026-11-23T08:00:00+08:00", "backlog": -4, "dropped": "many"}')
    assert odd is not None and not odd.online and (odd.backlog, odd.dropped) == (None, None)


def test_a_gateway_point_carries_its_place_and_the_age_of_its_status() -> None:
    report = GatewayReport("gw-plant", "east", False, 1_000_000_000_000, 5, None)
    point = status_point(report, gateway_buildings(load_registry(EVERY_PROFILE)), 1_000_000_000_000 + 30 * 10**9)
    assert point.to_line_protocol() == ("gateway,building=plant,gateway=gw-plant,site=east "
                                        "backlog=5i,online=0i,status_age_s=30 1030000000000")  # a float: no "i"


def test_a_gateway_of_several_buildings_belongs_to_the_one_with_most_of_its_sensors(small_registry: Registry) -> None:
    assert gateway_buildings(small_registry) == {"gw-a": "main", "gw-b": "main"}
    assert gateway_buildings(load_registry(EVERY_PROFILE)) == {"gw-lab": "lab", "gw-plant": "plant"}


def platform_rows(services: LocalServices, measurement: str, since_ns: int) -> list[dict[str, Any]]:
    ep = services.settings.influx_endpoint("reader")
    query = f'''from(bucket: "platform") |> range(start: time(v: {since_ns}), stop: 1m)
  |> filter(fn: (r) => r._measurement == "{measurement}")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'''
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
        return [dict(r.values) for t in client.query_api().query(query) for r in t.records]


def wait_for(fetch: Callable[[], list[dict[str, Any]]], done: Callable[[list[dict[str, Any]]], bool],
             timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows = fetch()
    while not done(rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = fetch()
    return rows


@pytest.fixture
def telemetry(services: LocalServices, small_registry: Registry) -> Iterator[Callable[..., IngestTelemetry]]:
    stop = threading.Event()
    started: list[IngestTelemetry] = []

    def start(metrics: IngestMetrics, **options: Any) -> IngestTelemetry:
        t = IngestTelemetry(small_registry, services.settings.mqtt_endpoint("ingest"), services.settings.influx_endpoint("ingest"),
                            metrics.registry, every_s=0.2, client_id=f"test-telemetry-{uuid.uuid4().hex[:6]}", **options)
        t.start(stop)
        started.append(t)
        return t

    yield start
    stop.set()
    for t in started:
        t.join()


@pytest.mark.integration
def test_a_gateway_status_on_the_broker_becomes_a_gateway_point(services: LocalServices,
                                                                telemetry: Callable[..., IngestTelemetry]) -> None:
    gateway = MqttTestClient(services.settings.mqtt_endpoint("gw-b"), client_id=f"test-gw-b-{uuid.uuid4().hex[:6]}")
    gateway.connect()
    topic = "vigil/v1/north/gw-b/status"
    since = time.time_ns()
    try:
        # Retained and published before the telemetry starts: it arrives on subscribe, as after a restart.
        gateway.publish(topic, encode_status(GatewayState.ONLINE, time.time_ns(), backlog=250, dropped=7), retain=True)
        watcher = telemetry(IngestMetrics())
        assert watcher.subscribed.wait(10), "the ingest account may read the gateways' status topics"
        rows = wait_for(lambda: platform_rows(services, "gateway", since),
                        lambda rows: any(r["gateway"] == "gw-b" for r in rows))
        first = next(r for r in rows if r["gateway"] == "gw-b")
        assert (first["site"], first["building"], first["online"], first["backlog"], first["dropped"]) == ("north", "main", 1, 250, 7)
        assert 0 <= first["status_age_s"] < 10

        # The backlog drains, the gateway goes offline: the next points say so.
        gateway.publish(topic, encode_status(GatewayState.OFFLINE, time.time_ns(), backlog=0, dropped=7), retain=True)
        rows = wait_for(lambda: platform_rows(services, "gateway", since),
                        lambda rows: any(r["gateway"] == "gw-b" and r["online"] == 0 for r in rows))
        last = [r for r in rows if r["gateway"] == "gw-b"][-1]
        assert (last["online"], last["backlog"], last["dropped"]) == (0, 0, 7)
    finally:
        gateway.publish(topic, b"", retain=True)  # clear the retained status for the other tests
        gateway.close()


@pytest.mark.integration
def test_a_workers_own_counters_become_an_ingest_point(services: LocalServices, small_registry: Registry, window: Window,
                                                      start_worker: Callable[..., RunningWorker],
                                                      telemetry: Callable[..., IngestTelemetry]) -> None:
    messages, expected = messages_for(small_registry, window, per_metric=10, batch=50)
    total = sum(expected.values())
    running = start_worker(index=0)
    since = time.time_ns()
    telemetry(running.worker.metrics, worker=7, watch_gateways=False)  # a worker tag no other test writes
    publish_as_gateways(services, messages)
    assert wait_for_count(services, window, total) == total
    rows = wait_for(lambda: [r for r in platform_rows(services, "ingest", since) if r["worker"] == "7"],
                    lambda rows: bool(rows) and rows[-1]["readings_written"] == total)
    assert rows and rows[-1]["readings_written"] == total and rows[-1]["readings_rejected"] == 0
    assert rows[-1]["connected"] == 1 and 0 < rows[-1]["lag_s"] < 60


@pytest.mark.integration
def test_vigil_ingest_run_writes_its_telemetry(services: LocalServices) -> None:
    """The real `vigil ingest run` process starts the telemetry writer next to its worker."""
    env = {**os.environ, "VIGIL_STATE_DIR": str(services.state_dir), "VIGIL_FACILITY": str(SMALL_FACILITY), "VIGIL_LOG_LEVEL": "WARNING"}
    since = time.time_ns()
    proc = subprocess.Popen([sys.executable, "-m", "vigil.cli", "ingest", "run", "--telemetry-every", "0.5"], env=env,
                            cwd=Path(__file__).parents[2])
    try:
        rows = wait_for(lambda: [r for r in platform_rows(services, "ingest", since) if r["worker"] == "0"],
                        lambda rows: any(r["connected"] == 1 for r in rows), timeout=30)
    finally:
        proc.terminate()
        proc.wait(30)
    assert any(r["connected"] == 1 for r in rows), "an ingest point from the running worker"
    assert {"readings_written", "readings_rejected", "lag_s"} <= set(rows[-1])
