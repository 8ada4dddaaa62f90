"""Sensor to InfluxDB, none lost and none doubled: the real gateway on the
real simulators publishes to the real broker; the ingest worker writes to the
real InfluxDB. The broker goes away for two minutes, and the gateway is
restarted while it is away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway import Gateway
from gateway.settings import GatewaySettings
from simulators import SimulatedSource
from tests.ingest.conftest import RunningWorker, Window, count_points, wait_for_count
from vigil.contract import Reading
from vigil.infra.local import LocalServices
from vigil.registry import Registry

pytestmark = pytest.mark.integration

OUTAGE_S = int(__import__("os").environ.get("E2E_OUTAGE_S", "120"))


class CountingSource:
    """The simulated sensors of a gateway, counting every reading handed over."""

    def __init__(self, source: SimulatedSource):
        self.source = source
        self.readings: list[Reading] = []
        self.frozen = False  # the sensors fall silent, so the backlog can drain to the end

    def poll(self) -> list[Reading]:
        if self.frozen:
            return []
        got = self.source.poll()
        self.readings += got
        return got


def run_gateway(registry: Registry, services: LocalServices, source: CountingSource, state_dir: Path) -> tuple[Gateway, threading.Event, threading.Thread]:
    tuning = GatewaySettings(batch_max_age_s=0.2, reconnect_min_s=0.5, reconnect_max_s=5, drain_rate=200, heartbeat_s=5)
    gateway = Gateway(registry.gateways["gw-a"], services.settings.mqtt_endpoint("gw-a"), source, state_dir, tuning)
    stop = threading.Event()
    thread = threading.Thread(target=gateway.run, args=(stop,), daemon=True)
    thread.start()
    return gateway, stop, thread


def test_broker_gone_for_minutes_and_gateway_restarted_meanwhile_loses_nothing(
        services: LocalServices, small_registry: Registry, start_worker: Callable[..., RunningWorker], tmp_path: Path) -> None:
    # Ten days ago, at 600x: a stretch of time no other test writes into.
    start_ns = ((time.time_ns() - 10 * 86_400 * 10**9) // 10**9) * 10**9
    source = CountingSource(SimulatedSource(small_registry, "gw-a", seed=7, speed=600, start_ns=start_ns))
    start_worker()
    gateway, stop, thread = run_gateway(small_registry, services, source, tmp_path)
    time.sleep(3)
    services.mosquitto.stop()
    try:
        time.sleep(OUTAGE_S / 2)
        stop.set()  # the gateway restarts while the broker is away
        thread.join(30)
        assert gateway.stats().backlog > 0
        gateway, stop, thread = run_gateway(small_registry, services, source, tmp_path)
        time.sleep(OUTAGE_S / 2)
    finally:
        services.mosquitto.start()
    time.sleep(5)
    source.frozen = True
    time.sleep(2)  # the open batch comes due (0.2 s) and joins the backlog
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (gateway.stats().backlog or gateway.stats().in_flight):
        time.sleep(0.5)
    stop.set()
    thread.join(30)
    assert gateway.stats().backlog == 0
    produced = len(source.readings)
    assert produced > 40 * OUTAGE_S  # many simulated hours went through the outage
    window = Window(start_ns, max(r.ts_ns for r in source.readings) + 1)
    assert wait_for_count(services, window, produced, timeout=180) == produced
    by_kind = count_points(services, window)
    assert set(by_kind) == {"cold_chain", "uv_lamp"}  # gw-a's sensors
