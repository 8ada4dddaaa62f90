"""Fixtures for the gateway tests: fast settings, a gateway in a thread, an
observer on the real broker, and the broker restarted after tests that stop it."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway import Gateway, GatewaySettings, ReadingSource
from tests.gateway.harness import Observer, RunningGateway
from vigil.infra.local import LocalServices
from vigil.infra.mosquitto import Mosquitto
from vigil.registry import Gateway as GatewayConfig
from vigil.registry import Registry
from vigil.settings import MqttEndpoint

# Short timings so that reconnects, heartbeats and batches happen within a test.
FAST = GatewaySettings(
    batch_max_readings=20, batch_max_age_s=0.1, drain_rate=500, max_in_flight=50, heartbeat_s=30,
    reconnect_min_s=0.1, reconnect_max_s=0.5, connect_timeout_s=3, poll_interval_s=0.02, shutdown_grace_s=1,
)

_ids = itertools.count()


@pytest.fixture
def fast_settings() -> GatewaySettings:
    return FAST


@pytest.fixture
def gw_a(small_registry: Registry) -> GatewayConfig:
    return small_registry.gateways["gw-a"]


@pytest.fixture
def gw_a_endpoint(services: LocalServices) -> MqttEndpoint:
    return services.settings.mqtt_endpoint("gw-a")


@pytest.fixture
def broker(services: LocalServices) -> Iterator[Mosquitto]:
    """The test broker; running again after the test whatever the test did."""
    yield services.mosquitto
    services.mosquitto.start()


@pytest.fixture
def observer(services: LocalServices) -> Iterator[Observer]:
    obs = Observer(services.settings.mqtt_endpoint("operator"), f"test-gw-observer-{uuid.uuid4().hex[:8]}").start()
    yield obs
    obs.close()


StartGateway = Callable[..., RunningGateway]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """Start a Gateway in a thread: start(config, endpoint, source, settings=FAST, state_dir=tmp_path)."""
    running: list[RunningGateway] = []

    def start(config: GatewayConfig, endpoint: MqttEndpoint, source: ReadingSource,
              settings: GatewaySettings = FAST, state_dir: Path = tmp_path) -> RunningGateway:
        gw = Gateway(config, endpoint, source, state_dir, settings)
        stop = threading.Event()
        thread = threading.Thread(target=gw.run, args=(stop,), name=f"gateway-{config.id}-{next(_ids)}", daemon=True)
        thread.start()
        rg = RunningGateway(gw, stop, thread)
        running.append(rg)
        return rg

    yield start
    for rg in running:
        if rg.thread.is_alive():
            rg.stop()
