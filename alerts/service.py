"""`vigil alerts run`: readings and gateway statuses from MQTT through the
rules engine into the alert store, and notifications out.

Restart safety: the engine's state is saved in the store every few seconds,
and an MQTT message is acknowledged only after a snapshot that includes it
has been saved. After a crash the broker redelivers what came after the
last snapshot; the restored engine judges it again (readings it has already
seen are ignored as late), so durations continue where they were and
nothing firing is announced twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerts.model import ExcursionEvent, Transition
from alerts.rules import RulesEngine
from vigil.contract import TOPIC_PREFIX, ContractError, GatewayState, Reading, decode_readings, decode_status, parse_topic
from vigil.mqtt import authenticate
from vigil.registry import Registry
from vigil.settings import MqttEndpoint
from vigil.validation import canonical_reading

log = logging.getLogger("vigil.alerts")


@dataclass
class AlertsMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.readings = Counter("vigil_alerts_readings", "readings evaluated", registry=r)
        self.ignored = Counter("vigil_alerts_readings_ignored", "readings not evaluated (unusable)", ["reason"], registry=r)
        self.transitions = Counter("vigil_alerts_transitions", "rule transitions", ["state"], registry=r)
        self.notifications = Counter("vigil_alerts_notifications", "notifications queued", registry=r)
        self.latency = Histogram("vigil_alerts_publish_to_recorded_seconds", "from the gateway's sent_at to the alert recorded",
                                 registry=r, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.connected = Gauge("vigil_alerts_connected", "1 while connected to the broker", registry=r)


class Sink(Protocol):
    """Where transitions go: the alert store and the notifier (alerts.sink)."""

    def transition(self, t: Transition) -> None: ...
    def excursion(self, e: ExcursionEvent) -> None: ...
    def periodic(self, now_ns: int) -> None: ...
    def save_engine_state(self, state: dict[str, object]) -> None: ...
    def load_engine_state(self) -> dict[str, object] | None: ...


class Telemetry(Protocol):
    """Something that reports on its own thread while the service runs (alerts.telemetry.AlertsTelemetry)."""

    def start(self, stop: threading.Event) -> None: ...
    def join(self, timeout: float = 10.0) -> None: ...


@dataclass
class _Inbound:
    generation: int
    message: mqtt.MQTTMessage


class AlertsService:
    CLIENT_ID = "vigil-alerts"

    def __init__(self, registry: Registry, endpoint: MqttEndpoint, sink: Sink, *,
                 snapshot_every_s: float = 2.0, tick_every_s: float = 1.0,
                 metrics: AlertsMetrics | None = None, clock_ns: Callable[[], int] = time.time_ns,
                 client_id: str = CLIENT_ID, telemetry: Telemetry | None = None):
        self.registry = registry
        self.endpoint = endpoint
        self.sink = sink
        self.snapshot_every_s = snapshot_every_s
        self.tick_every_s = tick_every_s
        self.metrics = metrics or AlertsMetrics()
        self.clock_ns = clock_ns
        self.client_id = client_id
        self.telemetry = telemetry
        state = sink.load_engine_state()
        self.engine = RulesEngine.restore(registry, state, clock=clock_ns) if state else RulesEngine(registry, clock=clock_ns)
        self._inbox: queue.Queue[_Inbound] = queue.Queue()
        self._generation = 0
        self._unacked: list[tuple[int, int, int]] = []
        self.subscribed = threading.Event()
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311,
                             clean_session=False, manual_ack=True)
        authenticate(client, self.endpoint)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = lambda c, u, m: self._inbox.put(_Inbound(self._generation, m))
        return client

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode,
                    props: Properties | None) -> None:
        if rc.is_failure:
            log.error("the broker refused the alerts service: %s", rc)
            return
        self._generation += 1
        self.metrics.connected.set(1)
        client.subscribe([(f"{TOPIC_PREFIX}/+/+/readings", 1), (f"{TOPIC_PREFIX}/+/+/status", 1)])

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, rcs: list[ReasonCode], props: Properties | None) -> None:
        if all(not rc.is_failure for rc in rcs):
            self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags, rc: ReasonCode,
                       props: Properties | None) -> None:
        self._generation += 1  # unacknowledged messages will be redelivered
        self.metrics.connected.set(0)

    # -- the loop ----------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=30)
        self.client.loop_start()
        if self.telemetry is not None:  # off the evaluation loop: its own thread
            self.telemetry.start(stop)
        next_tick = next_snapshot = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    item = self._inbox.get(timeout=0.1)
                    self._handle(item)
                    while True:  # drain what is waiting before the timers
                        self._handle(self._inbox.get_nowait())
                except queue.Empty:
                    pass
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + self.tick_every_s
                    for t in self.engine.tick(self.clock_ns()):
                        self._emit(t, None)
                    self.sink.periodic(self.clock_ns())
                if now >= next_snapshot:
                    next_snapshot = now + self.snapshot_every_s
                    self._checkpoint()
        finally:
            self._checkpoint()
            self.client.disconnect()
            self.client.loop_stop()
            if self.telemetry is not None:
                self.telemetry.join()

    def _checkpoint(self) -> None:
        """Save the engine, then acknowledge what the saved state includes."""
        self.sink.save_engine_state(self.engine.take_changes())
        generation = self._generation
        for gen, mid, qos in self._unacked:
            if gen == generation:
                self.client.ack(mid, qos)
        self._unacked.clear()

    def _handle(self, item: _Inbound) -> None:
        msg = item.message
        self._unacked.append((item.generation, msg.mid, msg.qos))
        topic = parse_topic(msg.topic)
        if topic is None:
            return
        if topic.channel == "status":
            try:
                status = decode_status(msg.payload)
            except ContractError:
                return
            for t in self.engine.observe_status(topic.gateway, status.state is GatewayState.ONLINE, status.ts_ns):
                self._emit(t, None)
            return
        try:
            decoded = decode_readings(msg.payload)
        except ContractError as exc:
            self.metrics.ignored.labels(exc.reason.value).inc()
            return
        if decoded.gateway != topic.gateway:
            return
        now = self.clock_ns()
        for reading in decoded.readings:
            try:
                _, value = canonical_reading(self.registry, reading, topic.gateway, now)
            except ContractError as exc:
                self.metrics.ignored.labels(exc.reason.value).inc()
                continue
            self.metrics.readings.inc()
            for event in self.engine.observe(Reading(reading.sensor, reading.metric, value, reading.ts_ns)):
                if isinstance(event, ExcursionEvent):
                    self.sink.excursion(event)
                else:
                    self._emit(event, decoded.sent_at_ns)

    def _emit(self, t: Transition, sent_at_ns: int | None) -> None:
        self.metrics.transitions.labels(t.state.value).inc()
        self.sink.transition(t)
        if sent_at_ns is not None:
            self.metrics.latency.observe(max(0.0, (self.clock_ns() - sent_at_ns) / 1e9))
