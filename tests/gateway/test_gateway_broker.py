"""The gateway against the real Mosquitto: delivery, status and last will,
broker outages and gateway restarts lose nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from gateway.backlog import Backlog
from gateway.gateway import backlog_path
from tests.gateway.conftest import FAST, StartGateway
from tests.gateway.harness import (
    CountingSource,
    Observer,
    RunningGateway,
    assert_complete,
    distinct_readings,
    retained_status,
    wait_for,
)
from vigil.contract import GatewayState, GatewayStatus, Reading, encode_readings
from vigil.infra.local import LocalServices
from vigil.infra.mosquitto import Mosquitto
from vigil.registry import Gateway as GatewayConfig
from vigil.settings import MqttEndpoint

pytestmark = pytest.mark.integration


def drained(running: RunningGateway) -> bool:
    stats = running.gateway.stats()
    return stats.backlog == 0 and stats.published > 0 and stats.connected


def one_reading_message(i: int) -> Callable[[int], bytes]:
    readings = [Reading("vac-fridge-1-temp", "temperature", float(i), time.time_ns())]
    return lambda seq: encode_readings("gw-a", seq, time.time_ns(), readings)


def test_every_reading_is_published_once_in_order_with_increasing_seq(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer) -> None:
    source = CountingSource()
    running = start_gateway(gw_a, gw_a_endpoint, source)
    for _ in range(10):
        source.emit(37)
        time.sleep(0.03)
    assert observer.wait_until(lambda: sum(len(m.readings) for m in observer.readings("gw-a")) >= 370)
    assert_complete(observer, "gw-a", produced=370)
    messages = observer.readings("gw-a")
    assert messages[0].seq == 1 and all(m.gateway == "gw-a" and len(m.readings) <= 20 for m in messages)
    assert wait_for(lambda: running.gateway.stats().backlog == 0)
    stats = running.gateway.stats()
    assert stats.published == stats.seq == len(messages)


def test_retained_online_status_then_last_will_offline_when_killed(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer,
        services: LocalServices) -> None:
    operator = services.settings.mqtt_endpoint("operator")
    running = start_gateway(gw_a, gw_a_endpoint, CountingSource())
    assert observer.wait_until(lambda: any(s.state is GatewayState.ONLINE for s in observer.statuses("gw-a")))
    online = retained_status(operator, gw_a.status_topic, "test-gw-probe-online")
    assert online is not None and online.state is GatewayState.ONLINE
    assert online.extra == {"backlog": 0, "dropped": 0}

    since = observer.mark()
    running.kill()  # socket closed, no DISCONNECT: only the broker can tell
    assert observer.wait_until(lambda: any(s.state is GatewayState.OFFLINE for s in observer.statuses("gw-a", since)), 10)
    offline = retained_status(operator, gw_a.status_topic, "test-gw-probe-offline")
    assert offline is not None and offline.state is GatewayState.OFFLINE


def test_clean_stop_publishes_offline_status(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer) -> None:
    running = start_gateway(gw_a, gw_a_endpoint, CountingSource())
    assert observer.wait_until(lambda: any(s.state is GatewayState.ONLINE for s in observer.statuses("gw-a")))
    since = observer.mark()
    running.stop()
    assert observer.wait_until(lambda: bool(observer.statuses("gw-a", since)), 5)
    assert [s.state for s in observer.statuses("gw-a", since)] == [GatewayState.OFFLINE]


def test_heartbeat_reports_backlog_and_dropped(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer) -> None:
    # Draining at one message a second while ten are made a second: the
    # backlog fills and drops, and the heartbeat says so.
    settings = FAST.model_copy(update={"batch_max_readings": 1, "backlog_max_messages": 5, "drain_rate": 1,
                                       "max_in_flight": 1, "heartbeat_s": 0.3})
    source = CountingSource()
    running = start_gateway(gw_a, gw_a_endpoint, source, settings)
    source.start_flow(rate=10)

    def beats() -> list[GatewayStatus]:
        return [s for s in observer.statuses("gw-a") if s.state is GatewayState.ONLINE]

    assert observer.wait_until(
        lambda: len(beats()) >= 3 and any(b.extra["dropped"] > 0 and b.extra["backlog"] > 0 for b in beats()), 10), beats()
    source.stop_flow()
    assert all(set(b.extra) == {"backlog", "dropped"} for b in beats())
    assert running.gateway.stats().dropped > 0


def test_broker_outage_loses_nothing_and_backlog_drains_in_order(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer,
        broker: Mosquitto) -> None:
    source = CountingSource()
    running = start_gateway(gw_a, gw_a_endpoint, source)
    source.start_flow(rate=400)
    assert observer.wait_until(lambda: len(observer.readings("gw-a")) >= 5)

    broker.stop()  # the gateway keeps producing meanwhile
    assert wait_for(lambda: not running.gateway.stats().connected, 5)
    assert wait_for(lambda: running.gateway.stats().backlog >= 20, 10), "no backlog built up while the broker was down"
    backlog_at_restart = running.gateway.stats().backlog
    broker.start()
    time.sleep(0.5)  # it keeps producing after the restart too
    produced = source.stop_flow()

    assert wait_for(lambda: drained(running), 20), running.gateway.stats()
    assert observer.wait_until(lambda: distinct_readings(observer, "gw-a") >= produced, 20)
    # Only messages in flight when the broker stopped may arrive twice.
    assert_complete(observer, "gw-a", produced, max_duplicates=2 * FAST.max_in_flight)
    assert running.gateway.stats().dropped == 0
    assert backlog_at_restart >= 20


def test_backlog_survives_gateway_restart_and_drains_in_order(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer,
        broker: Mosquitto, tmp_path: Path) -> None:
    source = CountingSource()
    first = start_gateway(gw_a, gw_a_endpoint, source)
    source.emit(100)
    assert observer.wait_until(lambda: sum(len(m.readings) for m in observer.readings("gw-a")) >= 100)

    broker.stop()
    source.emit(300)  # unsent: the broker is down
    assert wait_for(lambda: source.delivered == 400)
    first.stop()
    assert first.gateway.stats().backlog == 15  # 300 readings in batches of 20, on disk

    second = start_gateway(gw_a, gw_a_endpoint, source)  # same state directory
    assert second.gateway.stats().backlog == 15
    source.emit(50)
    broker.start()
    assert wait_for(lambda: drained(second), 20), second.gateway.stats()
    assert observer.wait_until(lambda: distinct_readings(observer, "gw-a") >= 450, 20)
    assert_complete(observer, "gw-a", 450, max_duplicates=FAST.max_in_flight)
    assert second.gateway.stats().seq == first.gateway.stats().seq + 3  # 50 readings -> 3 more messages


def test_backlog_drains_at_the_configured_rate_within_the_in_flight_window(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint, observer: Observer,
        tmp_path: Path) -> None:
    # 40 messages already waiting on disk, as after a long outage.
    with Backlog(backlog_path(tmp_path, gw_a.id), 1000, 10**8) as backlog:
        for i in range(40):
            backlog.append(one_reading_message(i))
    settings = FAST.model_copy(update={"drain_rate": 20, "max_in_flight": 5})
    running = start_gateway(gw_a, gw_a_endpoint, CountingSource(), settings)
    peak = 0
    deadline = time.monotonic() + 15
    while running.gateway.stats().backlog and time.monotonic() < deadline:
        peak = max(peak, running.gateway.stats().in_flight)
        time.sleep(0.005)
    assert observer.wait_until(lambda: len(observer.readings("gw-a")) >= 40)
    arrivals = [s.at for s in observer.raw_readings("gw-a")]
    # A burst of one second's worth (20), then 20 per second: about 1 s for 40.
    assert arrivals[-1] - arrivals[0] >= 0.8
    assert 1 <= peak <= 5
    assert_complete(observer, "gw-a", 40)


def test_refused_publish_is_kept_counted_and_retried_with_backoff(
        start_gateway: StartGateway, gw_a_endpoint: MqttEndpoint, observer: Observer) -> None:
    # gw-a's credentials on another site's topic: the broker's ACL refuses
    # every publish with a failing PUBACK (not authorized).
    misplaced = GatewayConfig("gw-a", "south", "gw-a")
    settings = FAST.model_copy(update={"reconnect_min_s": 0.2, "reconnect_max_s": 1.0})
    source = CountingSource()
    running = start_gateway(misplaced, gw_a_endpoint, source, settings)
    source.emit(60)  # 3 messages
    assert wait_for(lambda: running.gateway.stats().refused >= 3, 10)
    time.sleep(2)
    stats = running.gateway.stats()
    assert (stats.backlog, stats.published, stats.connected) == (3, 0, True)
    # Retried after pauses of 0.2, 0.4, 0.8, 1.0 s: a handful of tries, not a spin.
    assert stats.refused <= 8 * 4
    refused = REGISTRY.get_sample_value("vigil_gateway_publish_refused_total", {"gateway": "gw-a", "reason": "Not authorized"})
    assert refused is not None and refused >= 3
    assert observer.readings("gw-a") == []
    running.stop()
    assert running.gateway.stats().backlog == 3  # kept for when the configuration is fixed


def test_gateway_with_wrong_password_keeps_retrying_with_backoff(
        start_gateway: StartGateway, gw_a: GatewayConfig, gw_a_endpoint: MqttEndpoint) -> None:
    wrong = MqttEndpoint(gw_a_endpoint.host, gw_a_endpoint.port, "gw-a", None)
    source = CountingSource()
    running = start_gateway(gw_a, wrong, source, FAST.model_copy(update={"reconnect_max_s": 0.4}))
    source.emit(20)
    assert wait_for(lambda: running.gateway.stats().seq == 1)
    time.sleep(1)
    stats = running.gateway.stats()
    assert (stats.connected, stats.backlog, stats.published) == (False, 1, 0)
