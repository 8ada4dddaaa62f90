"""`vigil alerts run`: readings and gateway statuses from MQTT through the
rules engine into the alert store, and notifications out.

Restart safety: the engine's state is saved in the store in checkpoint
rounds, and an MQTT message is acknowledged only after a round that began
after it has been saved. After a crash the broker redelivers what was not
acknowledged; the restored engine judges it again (readings a saved group
has already seen are ignored as late), so durations continue where they
were and nothing firing is announced twice.

Checkpoint cost. Saving a state group costs tens of microseconds, and at
100,000 sensors every reading changes one. So a round gathers the changes
of `checkpoint_every_s` (a sensor reporting every 10 s is saved once per
30 s round, not three times) and writes them in slices between messages,
at a pace that ends it within the period: no pause holds up an alert. The
broker may have up to `receive_maximum` messages unacknowledged (MQTT 5);
a round begins early, and is written at once, when a quarter of that waits,
or when no message has come for a second while some wait for their
acknowledgement (a broker that holds back for lack of them, or just a lull).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerts.intake import Intake
from alerts.model import ExcursionEvent, Transition
from alerts.rules import RulesEngine
from vigil.contract import TOPIC_PREFIX, ContractError, GatewayState, decode_envelope, decode_status, parse_topic
from vigil.mqtt import HoldingClient, authenticate, persistent_session
from vigil.registry import Registry
from vigil.settings import MqttEndpoint

log = logging.getLogger("vigil.alerts")


@dataclass
class AlertsMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    clock_ns: Callable[[], int] = time.time_ns

    def __post_init__(self) -> None:
        r = self.registry
        self.readings = Counter("vigil_alerts_readings", "readings evaluated", registry=r)
        self.ignored = Counter("vigil_alerts_readings_ignored", "readings not evaluated (unusable)", ["reason"], registry=r)
        self.transitions = Counter("vigil_alerts_transitions", "rule transitions", ["state"], registry=r)
        self.notifications = Counter("vigil_alerts_notifications", "notifications queued", registry=r)
        self.latency = Histogram("vigil_alerts_publish_to_recorded_seconds", "from the gateway's sent_at to the alert recorded",
                                 registry=r, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.connected = Gauge("vigil_alerts_connected", "1 while connected to the broker", registry=r)
        # How far behind the gateways the rules engine is: under overload the
        # broker queues for this service, and alerts come that much later.
        # Worked out when read, so a stalled engine shows a growing lag.
        self.last_sent_ns: int | None = None
        self.lag = Gauge("vigil_alerts_lag_seconds", "now minus sent_at of the last readings message judged "
                         "(NaN before the first)", registry=r)
        self.lag.set_function(self.lag_s)
        # Set aside by the engine as no newer than their series' newest: the
        # duplicates the broker sends again after a reconnect or a restart.
        self.late = Gauge("vigil_alerts_readings_late", "readings no newer than their series' newest (duplicates "
                          "redelivered after a reconnect or restart), since the engine's saved state began", registry=r)

    def judged(self, sent_at_ns: int) -> None:
        self.last_sent_ns = sent_at_ns

    def lag_s(self) -> float:
        last = self.last_sent_ns
        return math.nan if last is None else max(0.0, (self.clock_ns() - last) / 1e9)


class Sink(Protocol):
    """Where transitions go: the alert store and the notifier (alerts.sink)."""

    def transition(self, t: Transition) -> None: ...
    def excursion(self, e: ExcursionEvent) -> None: ...
    def periodic(self, now_ns: int) -> None: ...
    def save_engine_state(self, state: dict[str, object]) -> None: ...
    def prune_engine_state(self, keep: set[str]) -> None: ...
    def load_engine_state(self) -> dict[str, object] | None: ...


class Telemetry(Protocol):
    """Something that reports on its own thread while the service runs (alerts.telemetry.AlertsTelemetry)."""

    def start(self, stop: threading.Event) -> None: ...
    def join(self, timeout: float = 10.0) -> None: ...


@dataclass
class _Inbound:
    generation: int
    message: mqtt.MQTTMessage


_Ack = tuple[int, int, int]  # connection generation, message id, QoS


@dataclass
class _Round:
    """A checkpoint being written: the linked state groups still to save, and
    the messages to acknowledge once they are (those handled before it began)."""

    started: float
    pending: deque[tuple[str, ...]]
    total: int
    complete: bool
    acks: list[_Ack]
    written: int = 0

    def behind(self, now: float, period: float, waiting: int, window: int) -> bool:
        """Whether the writing lags the pace that ends the round in 80% of its
        period, or before the messages waiting for the next fill the window."""
        due = max((now - self.started) / (0.8 * period), waiting / (window / 4))
        return self.written < self.total * min(1.0, due)


class AlertsService:
    CLIENT_ID = "vigil-alerts"
    SESSION_EXPIRY_S = 14 * 24 * 3600  # the broker keeps the session (and queues for it) while the service is down
    SLICE_GROUPS = 200  # state groups per slice: ~10 ms of writing between messages
    BATCH_MESSAGES = 100  # messages handled before the checkpoint's pace is looked at

    def __init__(self, registry: Registry, endpoint: MqttEndpoint, sink: Sink, *,
                 checkpoint_every_s: float = 30.0, receive_maximum: int = 65535, quiet_s: float = 1.0,
                 tick_every_s: float = 1.0, inbox_max_bytes: int = 64 * 2**20,
                 metrics: AlertsMetrics | None = None, clock_ns: Callable[[], int] = time.time_ns,
                 client_id: str = CLIENT_ID, telemetry: Telemetry | None = None):
        self.registry = registry
        self.endpoint = endpoint
        self.sink = sink
        self.checkpoint_every_s = checkpoint_every_s
        self.receive_maximum = receive_maximum  # MQTT 5's largest by default
        self.quiet_s = quiet_s  # no message for this long: acknowledge what waits (begin a round)
        # Payload bytes received and not yet judged, at most (reads resume at
        # half): Receive Maximum bounds messages, not their size.
        self.inbox_max_bytes = inbox_max_bytes
        self.tick_every_s = tick_every_s
        self.metrics = metrics or AlertsMetrics(clock_ns=clock_ns)
        self.clock_ns = clock_ns
        self.client_id = client_id
        self.telemetry = telemetry
        state = sink.load_engine_state()
        self.engine = RulesEngine.restore(registry, state, clock=clock_ns) if state else RulesEngine(registry, clock=clock_ns)
        self.intake = Intake(registry)
        self.metrics.late.set_function(lambda: self.engine.stats()["late"])
        self._inbox: queue.Queue[_Inbound] = queue.Queue()
        self._generation = 0
        self._unacked: list[_Ack] = []
        self._round = self._new_round(time.monotonic())  # the first is complete: every group
        self.subscribed = threading.Event()
        self.client = self._make_client()

    def _make_client(self) -> HoldingClient:
        client = HoldingClient(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True,
                               max_bytes=self.inbox_max_bytes)
        authenticate(client, self.endpoint)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(_Inbound(self._generation, message))
        self.client.received(len(message.payload))

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
        # Worth a warning: until paho reconnects, nothing is judged, and what was
        # not acknowledged comes again (counted in vigil_alerts_readings_late).
        (log.info if rc == 0 else log.warning)("disconnected from the broker: %s", rc)

    # -- the loop ----------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=30, clean_start=False,
                                  properties=persistent_session(self.SESSION_EXPIRY_S, self.receive_maximum))
        self.client.loop_start()
        if self.telemetry is not None:  # off the evaluation loop: its own thread
            self.telemetry.start(stop)
        next_tick = last_message = time.monotonic()
        try:
            while not stop.is_set():
                handled = self._handle_waiting(timeout=0.0 if self._round.pending else 0.1)
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + self.tick_every_s
                    for t in self.engine.tick(self.clock_ns()):
                        self._emit(t, None)
                    self.sink.periodic(self.clock_ns())
                if handled:
                    last_message = now
                self._advance_checkpoint(now, idle=handled == 0, quiet=now - last_message >= self.quiet_s)
        finally:
            self._checkpoint_now()
            self.client.disconnect()
            self.client.loop_stop()
            if self.telemetry is not None:
                self.telemetry.join()

    def _handle_waiting(self, timeout: float) -> int:
        """Handle up to BATCH_MESSAGES waiting messages, waiting up to
        `timeout` for the first; how many were handled."""
        handled = 0
        try:
            item = self._inbox.get(timeout=timeout) if timeout > 0 else self._inbox.get_nowait()
            while True:
                self.client.taken(len(item.message.payload))
                self._handle(item)
                handled += 1
                if handled == self.BATCH_MESSAGES:
                    break
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass
        self.client.make_room()
        return handled

    # -- checkpoints ------------------------------------------------------

    def _new_round(self, now: float) -> _Round:
        """A round of the groups changed since the last, acknowledging what was handled before it."""
        linked, complete = self.engine.take_changed()
        acks, self._unacked = self._unacked, []
        return _Round(now, deque(linked), sum(map(len, linked)), complete, acks)

    def _advance_checkpoint(self, now: float, idle: bool, quiet: bool) -> None:
        """Write a slice of the round if the loop is idle or the round is
        behind its pace; once it is written, acknowledge its messages and
        begin the next round when it is due, or when the messages waiting
        for one fill a quarter of the window or have been quiet a while."""
        r = self._round
        if r.pending:
            if idle or r.behind(now, self.checkpoint_every_s, len(self._unacked), self.receive_maximum):
                self._write_slice(r)
            if r.pending:
                return
        if r.acks:
            self._ack(r.acks)
            r.acks = []
        waiting = len(self._unacked)
        if now >= r.started + self.checkpoint_every_s or waiting >= self.receive_maximum // 4 or (quiet and waiting):
            self._round = self._new_round(now)

    def _write_slice(self, r: _Round) -> None:
        groups: list[str] = []
        while r.pending and len(groups) < self.SLICE_GROUPS:
            groups.extend(r.pending.popleft())
        self.sink.save_engine_state(self.engine.state_of(groups))
        r.written += len(groups)
        if not r.pending and r.complete:
            self.sink.prune_engine_state(self.engine.groups())

    def _checkpoint_now(self) -> None:
        """Save every change and acknowledge every message handled (stopping)."""
        for _ in range(2):  # the round under way, then one with what came since
            r = self._round
            while r.pending:
                self._write_slice(r)
            self._ack(r.acks)
            self._round = self._new_round(time.monotonic())

    def _ack(self, acks: list[_Ack]) -> None:
        generation = self._generation
        for gen, mid, qos in acks:
            if gen == generation:  # after a reconnect the broker sends the older ones again
                self.client.ack(mid, qos)

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
            envelope = decode_envelope(msg.payload)
        except ContractError as exc:
            self.metrics.ignored.labels(exc.reason.value).inc()
            return
        if envelope.gateway != topic.gateway:
            return
        readings, refused = self.intake.judge(envelope, topic.gateway, self.clock_ns())
        for reason in refused:
            self.metrics.ignored.labels(reason.value).inc()
        self.metrics.readings.inc(len(readings))  # once a message: the counter takes a lock
        for event in self.engine.observe_many(readings):
            if isinstance(event, ExcursionEvent):
                self.sink.excursion(event)
            else:
                self._emit(event, envelope.sent_at_ns)
        self.metrics.judged(envelope.sent_at_ns)

    def _emit(self, t: Transition, sent_at_ns: int | None) -> None:
        self.metrics.transitions.labels(t.state.value).inc()
        self.sink.transition(t)
        if sent_at_ns is not None:
            self.metrics.latency.observe(max(0.0, (self.clock_ns() - sent_at_ns) / 1e9))
