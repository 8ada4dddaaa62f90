"""`vigil alerts run` end to end: readings published by a gateway to the real
broker, judged by the rules engine, recorded in the alert store (SQLite), and
the on-call person emailed through a real local SMTP server."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from alerts.model import AlertState
from alerts.notify import Dispatcher
from alerts.notify.contact_points import notifiers_for
from alerts.oncall import parse_oncall_config
from alerts.service import AlertsMetrics, AlertsService
from alerts.sink import StoreSink
from alerts.store import AlertStore, open_store
from tests.alerts.notify.notify_kit import SmtpSink
from tests.support.mqtt import MqttTestClient, publish_all
from vigil.contract import Reading, encode_readings, readings_topic
from vigil.infra.local import LocalServices
from vigil.mqtt import persistent_session
from vigil.registry import Registry

pytestmark = pytest.mark.integration

RULE = "vac-fridge-1-temp/temperature/threshold"  # vaccine fridge 1: high limit 7.5 °C (override), alarm delay 15 min
MIN = 60 * 10**9


@dataclass
class Running:
    service: AlertsService
    stop: threading.Event
    thread: threading.Thread
    sink: StoreSink

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.sink.join()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def store(tmp_path: Path, small_registry: Registry, smtp: SmtpSink) -> Iterator[AlertStore]:
    oncall = parse_oncall_config({
        "contact_points": {"duty-mail": smtp.url("duty@hospital.test")},
        "people": {"duty": {"name": "Duty Engineer", "contact_points": ["duty-mail"]}},
        "escalation_policies": {"page": {"tiers": [{"notify": [{"person": "duty"}], "escalate_after_minutes": 15}], "repeat": 0}},
        "default_policy": "page",
    })
    store = open_store(f"sqlite:///{tmp_path / 'alerts.db'}", registry=small_registry, oncall=oncall, console_url="http://console.test")
    yield store
    store.close()


def forget_retained_statuses(services: LocalServices, registry: Registry) -> None:
    """Other tests' gateways leave their retained status behind (a stopped
    gateway's `offline`); a service started here must not inherit it."""
    for gw in registry.gateways.values():
        client = MqttTestClient(services.settings.mqtt_endpoint(gw.id), client_id=f"test-forget-{gw.id}-{uuid.uuid4().hex[:6]}")
        client.connect()
        client.client.publish(gw.status_topic, b"", qos=1, retain=True).wait_for_publish(10)  # empty: no retained message
        client.close()


@pytest.fixture
def start_service(services: LocalServices, small_registry: Registry, store: AlertStore) -> Iterator[Callable[..., Running]]:
    client_id = f"test-alerts-{uuid.uuid4().hex[:8]}"
    running: list[Running] = []
    forget_retained_statuses(services, small_registry)

    def start(**options: Any) -> Running:
        sink = StoreSink(store, Dispatcher(store, notifiers_for(store.oncall.contact_points)), deliver_every_s=0.5)
        service = AlertsService(small_registry, services.settings.mqtt_endpoint("alerts"), sink, client_id=client_id,
                                **{"checkpoint_every_s": 0.5, **options})
        stop = threading.Event()
        sink.start(stop)
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        assert service.subscribed.wait(10)
        r = Running(service, stop, thread, sink)
        running.append(r)
        return r

    yield start
    for r in running:
        r.halt()
    # End the persistent session so the broker stops keeping messages for it.
    ep = services.settings.mqtt_endpoint("alerts")
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True)
    c.username_pw_set(ep.username, ep.password.get_secret_value() if ep.password else None)
    c.connect(ep.host, ep.port)
    c.loop_start()
    c.disconnect()
    c.loop_stop()


def publish_temperatures(services: LocalServices, start_ns: int, values: list[float], seq0: int, sent_ago_s: float = 0.0) -> None:
    """One reading a minute from vaccine fridge 1, as gateway gw-a, sent
    `sent_ago_s` ago (what a message long queued in the broker says)."""
    client = MqttTestClient(services.settings.mqtt_endpoint("gw-a"), client_id=f"test-gw-a-{uuid.uuid4().hex[:6]}")
    client.connect()
    msgs = [(readings_topic("north", "gw-a"),
             encode_readings("gw-a", seq0 + i, time.time_ns() - int(sent_ago_s * 1e9),
                             [Reading("vac-fridge-1-temp", "temperature", v, start_ns + i * MIN)]))
            for i, v in enumerate(values)]
    publish_all(client, msgs)
    client.close()


def wait_until(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def alert_state(store: AlertStore) -> str | None:
    alerts = [a for a in store.list_alerts() if a.rule_id == RULE]
    return str(alerts[0].state) if alerts else None


def finish_the_delay(services: LocalServices, store: AlertStore, smtp: SmtpSink, t0: int, seq0: int, unless: str) -> None:
    """After 10 minutes at 12 °C from `t0` (and a restart): 4 more keep the
    15-minute delay pending, 3 more fire it, and on-call is paged once."""
    publish_temperatures(services, t0 + 10 * MIN, [12.0] * 4, seq0=seq0)  # 14 minutes: still pending
    time.sleep(2)
    assert alert_state(store) == "pending", unless
    publish_temperatures(services, t0 + 14 * MIN, [12.0] * 3, seq0=seq0 + 100)  # 16 minutes: fires
    assert wait_until(lambda: alert_state(store) == "firing")
    assert wait_until(lambda: len(smtp.to("duty@hospital.test")) == 1)


def test_warm_vaccine_fridge_fires_after_its_delay_and_pages_on_call_by_email(
        services: LocalServices, store: AlertStore, smtp: SmtpSink, start_service: Callable[[], Running]) -> None:
    start_service()
    t0 = time.time_ns() - 40 * MIN
    publish_temperatures(services, t0, [4.0, 4.2] + [12.0] * 10, seq0=1000)  # 10 minutes out: pending only
    assert wait_until(lambda: alert_state(store) == "pending")
    publish_temperatures(services, t0 + 12 * MIN, [12.0] * 8, seq0=1100)  # past the 15-minute delay
    assert wait_until(lambda: alert_state(store) == "firing")
    assert wait_until(lambda: len(smtp.to("duty@hospital.test")) >= 1)
    mail = smtp.to("duty@hospital.test")[0].message
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Vaccine fridge 1" in text and "7.5" in text and "12" in text
    assert "ack" in text.lower()


def test_restart_in_the_middle_of_the_alarm_delay_fires_on_time_and_pages_once(
        services: LocalServices, store: AlertStore, smtp: SmtpSink, start_service: Callable[[], Running]) -> None:
    first = start_service()
    t0 = time.time_ns() - 50 * MIN
    publish_temperatures(services, t0, [12.0] * 10, seq0=2000)  # 10 of the 15 minutes
    assert wait_until(lambda: alert_state(store) == "pending")
    first.halt()
    second = start_service()  # the same session and store: continues where it was
    finish_the_delay(services, store, smtp, t0, seq0=2100, unless="the delay restarted from zero or fired early")
    second.halt()
    start_service()  # another restart while firing: nobody is paged again
    time.sleep(3)
    assert len(smtp.to("duty@hospital.test")) == 1
    assert len([a for a in store.list_alerts() if a.rule_id == RULE]) == 1


def test_a_crash_between_checkpoints_loses_nothing_the_broker_redelivers_it(
        services: LocalServices, store: AlertStore, smtp: SmtpSink, start_service: Callable[..., Running]) -> None:
    first = start_service(checkpoint_every_s=600, quiet_s=600)  # no round after the first: nothing is acknowledged
    t0 = time.time_ns() - 50 * MIN
    publish_temperatures(services, t0, [12.0] * 10, seq0=3000)  # 10 of the 15 minutes
    assert wait_until(lambda: alert_state(store) == "pending")
    first.service._checkpoint_now = lambda: None  # type: ignore[method-assign]  # dies without saving
    first.halt()
    second = start_service()
    assert wait_until(lambda: second.service.engine.stats()["observed"] >= 10)  # the broker sent them again
    finish_the_delay(services, store, smtp, t0, seq0=3100, unless="the redelivered minutes were lost or counted twice")


def test_messages_beyond_a_small_receive_window_keep_flowing_between_rounds(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running]) -> None:
    """The broker stops at `receive_maximum` unacknowledged messages; rounds
    begin early enough that it never waits for the 10-minute period."""
    running = start_service(checkpoint_every_s=600, quiet_s=600, receive_maximum=8)
    publish_temperatures(services, time.time_ns() - 60 * MIN, [4.0] * 40, seq0=4000)
    assert wait_until(lambda: running.service.engine.stats()["observed"] == 40, timeout=20)


def test_after_a_lull_what_waits_is_acknowledged_so_a_crash_has_nothing_to_redeliver(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running]) -> None:
    first = start_service(checkpoint_every_s=600, quiet_s=1.0)
    publish_temperatures(services, time.time_ns() - 60 * MIN, [12.0] * 10, seq0=5000)
    assert wait_until(lambda: alert_state(store) == "pending")
    time.sleep(3)  # the lull: a round saves the state and acknowledges the ten
    first.service._checkpoint_now = lambda: None  # type: ignore[method-assign]  # dies without saving
    first.halt()
    saved = store.load_engine_state()
    assert saved is not None and saved["stats"]["observed"] == 10  # the round after the lull
    second = start_service(checkpoint_every_s=600, quiet_s=600)
    time.sleep(3)
    assert second.service.engine.stats()["observed"] == 10  # redelivered readings would count again, as duplicates
    assert second.service.engine.active_alerts() == {RULE: AlertState.PENDING}


def test_while_judging_is_held_up_the_service_reads_no_more_than_its_inbox_bound(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running]) -> None:
    """Received but not yet judged is bounded in bytes; the broker keeps the
    rest, and all of it is judged once the service catches up."""
    bound = 2000
    running = start_service(inbox_max_bytes=bound)
    service = running.service
    release = threading.Event()
    handle = service._handle

    def slow_handle(item: Any) -> None:
        release.wait(30)
        handle(item)

    service._handle = slow_handle  # type: ignore[method-assign]
    publish_temperatures(services, time.time_ns() - 60 * MIN, [4.0] * 60, seq0=6000)
    time.sleep(3)
    held = service.client.held_bytes
    assert service._inbox.qsize() < 30, f"{service._inbox.qsize()} of 60 messages read while judging was held up"
    assert held <= bound + 400
    release.set()
    assert wait_until(lambda: service.engine.stats()["observed"] == 60, timeout=20)


def test_lag_gauge_is_nan_before_the_first_message_and_grows_while_the_engine_stalls() -> None:
    now = [1_000 * 10**9]
    metrics = AlertsMetrics(clock_ns=lambda: now[0])
    assert math.isnan(metrics.registry.get_sample_value("vigil_alerts_lag_seconds") or 0.0)
    metrics.judged(now[0] - 2 * 10**9)
    assert metrics.registry.get_sample_value("vigil_alerts_lag_seconds") == 2.0
    now[0] += 60 * 10**9  # nothing judged for a minute
    assert metrics.registry.get_sample_value("vigil_alerts_lag_seconds") == 62.0


def test_lag_gauge_says_how_long_ago_the_last_message_judged_was_sent(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running]) -> None:
    running = start_service()
    lag = running.service.metrics.registry

    def gauge() -> float:
        value = lag.get_sample_value("vigil_alerts_lag_seconds")
        assert value is not None
        return value

    publish_temperatures(services, time.time_ns() - 60 * MIN, [4.0] * 3, seq0=7000, sent_ago_s=300)
    assert wait_until(lambda: running.service.engine.stats()["observed"] == 3)
    assert 300 <= gauge() < 330  # queued five minutes in the broker: judged five minutes late
    publish_temperatures(services, time.time_ns() - 50 * MIN, [4.0] * 3, seq0=7100)
    assert wait_until(lambda: running.service.engine.stats()["observed"] == 6)
    assert gauge() < 10  # caught up


def test_readings_delivered_twice_are_counted_as_late_not_judged_again(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running]) -> None:
    running = start_service()
    t0 = time.time_ns() - 60 * MIN
    publish_temperatures(services, t0, [4.0] * 5, seq0=8000)
    publish_temperatures(services, t0, [4.0] * 5, seq0=8000)  # a gateway sending again what it had no PUBACK for
    assert wait_until(lambda: running.service.engine.stats()["observed"] == 10)
    metrics = running.service.metrics.registry
    assert metrics.get_sample_value("vigil_alerts_readings_total") == 10  # evaluated, duplicates included
    assert metrics.get_sample_value("vigil_alerts_readings_late") == 5


def test_losing_the_broker_connection_is_logged_as_a_warning_and_the_service_comes_back(
        services: LocalServices, store: AlertStore, start_service: Callable[..., Running],
        caplog: pytest.LogCaptureFixture) -> None:
    running = start_service()
    ep = services.settings.mqtt_endpoint("alerts")
    # Another client with the service's id takes its session over (keeping it), so the broker drops the service.
    intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=running.service.client_id, protocol=mqtt.MQTTv5)
    intruder.username_pw_set(ep.username, ep.password.get_secret_value() if ep.password else None)
    with caplog.at_level("WARNING", logger="vigil.alerts"):
        intruder.connect(ep.host, ep.port, clean_start=False, properties=persistent_session(3600, 100))
        deadline = time.monotonic() + 10
        while not any("disconnected from the broker" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            intruder.loop(0.1)  # no loop thread: it must not reconnect when the service takes the session back
        intruder.disconnect()
    assert any(r.levelname == "WARNING" and "disconnected from the broker" in r.getMessage() for r in caplog.records)
    gauge = running.service.metrics.registry
    assert wait_until(lambda: gauge.get_sample_value("vigil_alerts_connected") == 1, timeout=40)
    publish_temperatures(services, time.time_ns() - 60 * MIN, [4.0] * 3, seq0=9000)
    assert wait_until(lambda: running.service.engine.stats()["observed"] == 3, timeout=20)
