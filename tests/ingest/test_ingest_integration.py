"""Ingest against the real Mosquitto and InfluxDB 2.7: N readings in, exactly
N points out, whatever happens to the worker, the broker or the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient

from tests.conftest import SMALL_FACILITY
from tests.ingest.conftest import RunningWorker, Window, count_points, wait_for_count
from tests.support.mqtt import MqttTestClient, publish_all
from vigil.contract import Reading, encode_readings, readings_topic
from vigil.infra.local import LocalServices
from vigil.registry import Registry

pytestmark = pytest.mark.integration

VALUES = {"temperature": 4.0, "intensity": 95.0, "burn_hours": 100.0, "pressure": 400.0, "vacuum": 60.0, "tank_level": 70.0,
          "energy": 1000.0, "power": 50.0, "voltage": 220.0, "current": 10.0, "power_factor": 0.9, "volume": 100.0, "flow": 2.0}


def value_for(metric: str, i: int) -> float | bool:
    if metric in ("door_open", "lamp_on"):
        return i % 2 == 0
    return VALUES[metric] + (i % 7) * 0.01


def messages_for(registry: Registry, window: Window, per_metric: int, batch: int, seq0: int = 0) -> tuple[dict[str, list[tuple[str, bytes]]], dict[str, int]]:
    """Contract messages for every sensor and metric of every gateway; and the
    number of readings per measurement."""
    out: dict[str, list[tuple[str, bytes]]] = {}
    expected: dict[str, int] = {}
    for gw in registry.gateways.values():
        readings = [
            Reading(s.id, m, value_for(m, i), window.ts(i, step_ms=10))
            for s in registry.sensors_of_gateway(gw.id) for m in s.metrics for i in range(per_metric)
        ]
        for s in registry.sensors_of_gateway(gw.id):
            expected[s.kind.value] = expected.get(s.kind.value, 0) + per_metric * len(s.metrics)
        out[gw.id] = [(gw.readings_topic, encode_readings(gw.id, seq0 + n, time.time_ns(), readings[k:k + batch]))
                      for n, k in enumerate(range(0, len(readings), batch))]
    return out, expected


def publish_as_gateways(services: LocalServices, messages: dict[str, list[tuple[str, bytes]]]) -> None:
    for gw, msgs in messages.items():
        client = MqttTestClient(services.settings.mqtt_endpoint(gw), client_id=f"test-{gw}-{uuid.uuid4().hex[:6]}")
        client.connect()
        publish_all(client, msgs)
        client.close()


def test_every_family_n_readings_in_exactly_n_points_out(services: LocalServices, small_registry: Registry, window: Window,
                                                         start_worker: Callable[..., RunningWorker]) -> None:
    messages, expected = messages_for(small_registry, window, per_metric=200, batch=50)
    assert set(expected) == {"uv_lamp", "cold_chain", "medical_gas", "electricity_meter", "water_meter"}
    start_worker()
    publish_as_gateways(services, messages)
    assert wait_for_count(services, window, sum(expected.values())) == sum(expected.values())
    assert count_points(services, window) == expected


def test_bad_readings_are_dead_lettered_and_their_neighbours_land(services: LocalServices, window: Window,
                                                                   start_worker: Callable[..., RunningWorker]) -> None:
    marker = f"no-such-sensor-{uuid.uuid4().hex[:8]}"
    good = [{"sensor": "bb-fridge-1-temp", "metric": "temperature", "value": 4.0 + i / 10, "ts": window.ts(i) // 10**6} for i in range(5)]
    bad = [
        {"sensor": marker, "metric": "temperature", "value": 4.0, "ts": window.ts(10) // 10**6},  # unknown sensor
        {"sensor": "bb-fridge-1-temp", "metric": "temperature", "value": "warm", "ts": window.ts(11) // 10**6},  # wrong type
        {"sensor": "bb-fridge-1-temp", "metric": "temperature", "value": 500.0, "ts": window.ts(12) // 10**6},  # impossible
        {"sensor": "o2-b1-p", "metric": "pressure", "value": 400.0, "ts": window.ts(13) // 10**6},  # gw-b's sensor
        {"sensor": "bb-fridge-1-temp", "metric": "temperature", "value": 4.0, "ts": (time.time_ns() + 3600 * 10**9) // 10**6},  # future
    ]
    topic = readings_topic("north", "gw-a")
    body = json.dumps({"gateway": "gw-a", "seq": 1, "sent_at": time.time_ns() // 10**6, "readings": good[:3] + bad + good[3:]}).encode()
    malformed = b'{"gateway": "gw-a", "seq": 2, "readings": [' + marker.encode()
    started = time.time_ns()
    worker = start_worker()
    publish_as_gateways(services, {"gw-a": [(topic, body), (topic, malformed)]})
    assert wait_for_count(services, window, 5) == 5

    ep = services.settings.influx_endpoint("reader")
    query = f'''from(bucket: "deadletter") |> range(start: time(v: {started}))
        |> filter(fn: (r) => r._measurement == "rejected" and r._field == "payload" and r.gateway == "gw-a")'''
    deadline = time.monotonic() + 20
    letters: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
            letters = [(r.values["reason"], str(r.get_value())) for t in client.query_api().query(query) for r in t.records]
        if len(letters) >= 6:
            break
        time.sleep(0.5)
    reasons = [reason for reason, _ in letters]
    assert ("unknown_sensor", True) in [(reason, marker in payload) for reason, payload in letters]  # the reading itself is kept
    assert {"unknown_sensor", "wrong_type", "impossible_value", "foreign_sensor", "future_time", "malformed_json"} <= set(reasons)
    metrics = worker.worker.metrics
    assert metrics.rejected.labels("foreign_sensor")._value.get() >= 1
    assert metrics.rejected.labels("malformed_json")._value.get() >= 1


@pytest.mark.parametrize("subscription", ["partitioned", "shared"])
def test_two_workers_share_the_load_and_together_write_exactly_n(services: LocalServices, small_registry: Registry, window: Window,
                                                                start_worker: Callable[..., RunningWorker], subscription: str) -> None:
    messages, expected = messages_for(small_registry, window, per_metric=100, batch=1)  # one reading per message
    first = start_worker(0, workers=2, subscription=subscription)
    second = start_worker(1, workers=2, subscription=subscription)
    time.sleep(0.5)
    publish_as_gateways(services, messages)
    total = sum(expected.values())
    assert wait_for_count(services, window, total) == total
    got = [w.worker.metrics.messages._value.get() for w in (first, second)]
    assert all(n > total * 0.2 for n in got), f"the load was not shared: {got}"


def test_influxdb_down_for_a_minute_loses_nothing_and_holds_a_bounded_inbox(services: LocalServices, small_registry: Registry,
                                                                          window: Window, start_worker: Callable[..., RunningWorker]) -> None:
    """While nothing can be written, the worker stops reading at its inbox
    bound and the broker keeps the rest; all of it lands afterwards."""
    messages, expected = messages_for(small_registry, window, per_metric=100, batch=20)
    bound = 10
    worker = start_worker(inbox_max_messages=bound, batch_max_readings=20)
    metrics = worker.worker.metrics.registry
    services.influxdb.stop()
    try:
        publish_as_gateways(services, messages)
        held = []
        for _ in range(60):
            time.sleep(1)
            held.append(metrics.get_sample_value("vigil_ingest_inbox_messages") or 0.0)
        assert worker.worker.metrics.retries._value.get() > 0
    finally:
        services.influxdb.start()
    published = sum(len(m) for m in messages.values())
    assert published > 5 * bound
    assert max(held) >= bound // 2, "the inbox never filled: the test did not exercise the bound"
    assert max(held) <= bound, f"the inbox held up to {max(held):.0f} messages, bound {bound}"
    total = sum(expected.values())
    assert wait_for_count(services, window, total, timeout=90) == total


def test_broker_restart_mid_stream_loses_nothing(services: LocalServices, small_registry: Registry, window: Window,
                                                start_worker: Callable[..., RunningWorker]) -> None:
    messages, expected = messages_for(small_registry, window, per_metric=100, batch=10)
    first_half = {gw: msgs[: len(msgs) // 2] for gw, msgs in messages.items()}
    second_half = {gw: msgs[len(msgs) // 2:] for gw, msgs in messages.items()}
    start_worker()
    publish_as_gateways(services, first_half)
    services.mosquitto.stop()
    services.mosquitto.start()
    publish_as_gateways(services, second_half)
    total = sum(expected.values())
    assert wait_for_count(services, window, total, timeout=90) == total


def test_worker_killed_with_sigkill_and_restarted_loses_nothing(services: LocalServices, small_registry: Registry, window: Window) -> None:
    """The real `vigil ingest run` process, killed mid-stream without warning."""
    env = {**os.environ, "VIGIL_STATE_DIR": str(services.state_dir), "VIGIL_FACILITY": str(SMALL_FACILITY), "VIGIL_LOG_LEVEL": "WARNING"}
    vigil = [sys.executable, "-m", "vigil.cli", "ingest", "run"]
    messages, expected = messages_for(small_registry, window, per_metric=300, batch=5)
    total = sum(expected.values())
    proc = subprocess.Popen(vigil, env=env, cwd=Path(__file__).parents[2])
    try:
        time.sleep(3)  # connect and subscribe (the persistent session outlives the kill)
        publish_as_gateways(services, {gw: msgs[: len(msgs) // 2] for gw, msgs in messages.items()})
        deadline = time.monotonic() + 30
        while sum(count_points(services, window).values()) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        publish_as_gateways(services, {gw: msgs[len(msgs) // 2:] for gw, msgs in messages.items()})  # while ingest is down
        partial = sum(count_points(services, window).values())
        assert partial < total
        proc = subprocess.Popen(vigil, env=env, cwd=Path(__file__).parents[2])
        assert wait_for_count(services, window, total, timeout=90) == total
    finally:
        proc.terminate()
        proc.wait(30)
