"""The ingest worker: readings from MQTT into InfluxDB, at least once, with
every rejected message or reading dead-lettered and counted.

- Several workers split the load. By default each worker holds plain
  subscriptions to the gateways assigned to it (`partition`): Mosquitto 2.0 restores plain subscriptions of
  persistent sessions after a broker restart but not shared ones, so a shared
  subscription loses what is published between the restart and the
  re-subscribe. `subscription="shared"` uses one MQTT shared subscription
  (`$share/<group>/...`) instead, for brokers that persist those (EMQX, HiveMQ).
- A persistent session (fixed client id, clean start off, long session
  expiry), so what is published while a worker is down waits for it.
- A message is acknowledged only after InfluxDB has accepted its readings.
  While InfluxDB is down the worker retries with backoff and acknowledges
  nothing; the broker stops sending once `receive_maximum` messages are
  unacknowledged, and holds the rest (back-pressure, not loss).
- A redelivered message renders to the same points, so it overwrites them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pydantic import BaseModel, Field

from ingest.catchup import LateLedger, catch_up
from ingest.deadletter import DeadLetter
from ingest.influx import InfluxWriter, WriteError
from ingest.mqtt_client import IngestClient
from ingest.points import PointWriter
from ingest.sequence import SequenceLedger
from ingest.triage import triage
from vigil.contract import TOPIC_PREFIX
from vigil.mqtt import authenticate, persistent_session
from vigil.registry import Registry
from vigil.settings import InfluxEndpoint, MqttEndpoint
from vigil.validation import TimeWindow

log = logging.getLogger("vigil.ingest")

SHARE_GROUP = "vigil-ingest"
READINGS_FILTER = f"{TOPIC_PREFIX}/+/+/readings"


class IngestOptions(BaseModel):
    """Every tunable of a worker, with its default, in one place."""

    batch_max_readings: int = Field(default=10_000, ge=1)
    batch_max_wait_s: float = Field(default=0.1, gt=0)
    receive_maximum: int = Field(default=2000, ge=1, le=65535)
    # What a worker holds received but not yet triaged; beyond it the client
    # stops reading and the broker keeps the rest (reading resumes at half).
    inbox_max_messages: int = Field(default=10_000, ge=1)
    inbox_max_bytes: int = Field(default=32 * 2**20, ge=1)
    share_group: str = SHARE_GROUP  # client ids are <share_group>-<index>, stable across restarts
    subscription: Literal["partitioned", "shared"] = "partitioned"
    workers: int = Field(default=1, ge=1)  # how many workers split the gateways (partitioned)
    handover_s: float = 10.0  # keep a gateway given up to another worker this long, so it subscribes first
    # MQTT 3.1.1 costs paho markedly less CPU per message than 5 (no property
    # parsing); persistence comes from clean_session=False and the broker's
    # persistent_client_expiration, flow control from its max_inflight_messages.
    mqtt_protocol: Literal["3.1.1", "5"] = "3.1.1"
    session_expiry_s: int = Field(default=7 * 86_400, ge=0)
    gzip: bool = False
    # Batches written to InfluxDB at once: InfluxDB takes concurrent writes on
    # several cores; each message is still acknowledged only after its own.
    writes_in_flight: int = Field(default=2, ge=1, le=8)
    catchup_every_s: float = Field(default=60.0, ge=0)  # worker 0 redoes late readings' roll-ups; 0: never
    retry_initial_s: float = 0.5
    retry_max_s: float = 30.0
    max_future_s: float = 300.0
    max_past_s: float = 30 * 86_400.0


@dataclass
class IngestMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages = Counter("vigil_ingest_messages_received", "MQTT messages received", registry=r)
        self.received = Counter("vigil_ingest_readings_received", "readings received", registry=r)
        self.written = Counter("vigil_ingest_readings_written", "readings written to InfluxDB", registry=r)
        self.rejected = Counter("vigil_ingest_readings_rejected", "readings or messages dead-lettered", ["reason"], registry=r)
        self.retries = Counter("vigil_ingest_write_retries", "InfluxDB writes retried", registry=r)
        self.server_rejected = Counter("vigil_ingest_server_rejected_batches", "batches InfluxDB refused in part (HTTP 400)", registry=r)
        self.replays = Counter("vigil_ingest_replayed_messages", "messages seen before (same gateway and seq)", ["gateway"], registry=r)
        self.gaps = Gauge("vigil_ingest_seq_gap_messages", "messages missing in a gateway's seq within the last day", ["gateway"], registry=r)
        self.write_latency = Histogram("vigil_ingest_write_seconds", "InfluxDB write latency", registry=r,
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.lag = Gauge("vigil_ingest_lag_seconds", "now minus sent_at of the newest message written", registry=r)
        self.connected = Gauge("vigil_ingest_connected", "1 while connected to the broker", registry=r)
        self.inbox = Gauge("vigil_ingest_inbox_messages", "messages received and waiting to be triaged", registry=r)
        self.late_rolled_up = Counter("vigil_ingest_late_minutes_rolled_up", "late (gateway, minute) windows rolled up again", registry=r)
        self.catchup_failures = Counter("vigil_ingest_catchup_failures", "catch-up runs that failed (retried)", registry=r)


def partition(registry: Registry, workers: int) -> dict[str, int]:
    """Which worker reads which gateway: the busiest gateways first, each to
    the least-loaded worker (by sensor count); deterministic for a registry."""
    load = [0] * workers
    owner: dict[str, int] = {}
    sizes = {gw: len(registry.sensors_of_gateway(gw)) for gw in registry.gateways}
    for gw in sorted(sizes, key=lambda g: (-sizes[g], g)):
        index = min(range(workers), key=lambda i: (load[i], i))
        owner[gw] = index
        load[index] += max(1, sizes[gw])
    return owner


def topic_filters(registry: Registry, index: int, options: IngestOptions) -> list[str]:
    """What worker `index` subscribes to."""
    if options.subscription == "shared":
        return [f"$share/{options.share_group}/{READINGS_FILTER}"]
    if options.workers == 1:
        return [READINGS_FILTER]  # also sees unknown gateways, to dead-letter them
    owner = partition(registry, options.workers)
    return sorted(gw.readings_topic for gw in registry.gateways.values() if owner[gw.id] == index)


@dataclass
class _Prepared:
    """A triaged batch on its way to InfluxDB, with the acks it owes."""

    acks: list[tuple[int, int, int]]  # (connection generation, packet id, qos)
    lines: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    dead_lines: list[str] = field(default_factory=list)
    seqs: list[tuple[str, int]] = field(default_factory=list)
    late: set[tuple[str, int]] = field(default_factory=set)  # (gateway, epoch minute) of late readings
    readings: int = 0
    newest_sent: int = 0


_Inbound = tuple[int, mqtt.MQTTMessage]  # (connection generation, message)


class IngestWorker:
    """One worker process's ingest loop. `run(stop)` returns when `stop` is set."""

    def __init__(self, registry: Registry, mqtt_endpoint: MqttEndpoint, influx: InfluxEndpoint, *,
                 index: int = 0, state_dir: Path, options: IngestOptions | None = None,
                 metrics: IngestMetrics | None = None, deadletter_bucket: str = "deadletter"):
        self.options = options or IngestOptions()
        self.index = index
        self.metrics = metrics or IngestMetrics()
        self.points = PointWriter(registry, TimeWindow(self.options.max_future_s, self.options.max_past_s))
        self.writer = InfluxWriter(influx, gzip_body=self.options.gzip)
        self.influx = influx
        self.deadletter_bucket = deadletter_bucket
        self.ledger = SequenceLedger(state_dir / "ingest" / "sequence.db")
        self.late = LateLedger(state_dir / "ingest" / "late.db")
        self.filters = topic_filters(registry, index, self.options)
        self._subscriptions_file = state_dir / "ingest" / f"{self.options.share_group}-{index}.subscriptions.json"
        self.mqtt_endpoint = mqtt_endpoint
        self.client_id = f"{self.options.share_group}-{index}"
        # paho's thread appends, the triage thread pops: a deque needs no lock
        # per message; `_arrived` wakes the triage thread when it waits.
        self._inbox: deque[_Inbound] = deque()
        self._arrived = threading.Event()
        self.subscribed = threading.Event()  # set once the broker confirmed the subscription
        self._generation = 0
        self._dead_seq = 0
        self._last_gap_check = 0.0
        self._end_session = False
        self._last_message = time.monotonic()
        self._newest_written = 0
        self._bookkeeping = threading.Lock()  # writers share the ledger, the metrics and the ack path
        self.client = self._make_client()
        self.metrics.inbox.set_function(lambda: len(self._inbox))

    # -- MQTT --------------------------------------------------------------

    def _make_client(self) -> IngestClient:
        v5 = self.options.mqtt_protocol == "5"
        client = IngestClient(CallbackAPIVersion.VERSION2, client_id=self.client_id, manual_ack=True,
                             protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, clean_session=None if v5 else False,
                             max_messages=self.options.inbox_max_messages, max_bytes=self.options.inbox_max_bytes)
        authenticate(client, self.mqtt_endpoint)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode,
                    props: Properties | None) -> None:
        if rc.is_failure:
            log.error("worker %d: broker refused the connection: %s", self.index, rc)
            return
        self._generation += 1
        self.metrics.connected.set(1)
        if self.filters:
            client.subscribe([(f, 1) for f in self.filters])
        else:
            self.subscribed.set()  # more workers than gateways: this one idles
        stale = sorted(set(self._previous_filters()) - set(self.filters))
        if stale:
            # Give the new owners time to subscribe before letting go.
            timer = threading.Timer(self.options.handover_s, self._let_go, args=(client, stale))
            timer.daemon = True
            timer.start()
        else:
            self._save_filters()
        log.info("worker %d connected (session present: %s), %d topic filter(s)", self.index, flags.session_present, len(self.filters))

    def _previous_filters(self) -> list[str]:
        try:
            previous: list[str] = json.loads(self._subscriptions_file.read_text())
        except (OSError, ValueError):
            return []
        return previous

    def _save_filters(self) -> None:
        self._subscriptions_file.parent.mkdir(parents=True, exist_ok=True)
        self._subscriptions_file.write_text(json.dumps(self.filters))

    def _let_go(self, client: mqtt.Client, stale: list[str]) -> None:
        client.unsubscribe(stale)
        self._save_filters()
        log.info("worker %d handed over %d topic filter(s)", self.index, len(stale))

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags, rc: ReasonCode,
                       props: Properties | None) -> None:
        # Messages of the old connection that are not yet acknowledged will be
        # redelivered on the next one; their acks must not be sent (the packet
        # ids now mean something else).
        self._generation += 1
        self.metrics.connected.set(0)
        (log.info if rc == 0 else log.warning)("worker %d disconnected: %s", self.index, rc)  # 0: our own clean stop

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: list[ReasonCode],
                      props: Properties | None) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            log.error("worker %d: subscription refused: %s", self.index, reason_codes)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._last_message = time.monotonic()
        self._inbox.append((self._generation, message))
        self.client.received(len(message.payload))
        if not self._arrived.is_set():  # set() takes a lock; skip it while the flag is up
            self._arrived.set()

    def retire(self, idle_s: float = 3.0) -> None:
        """End the session of a worker that is no longer wanted (fewer
        `--workers` than before): take what the broker still holds for it,
        write it, then end the session so nothing more queues up for it."""
        self.filters = []
        self.options = self.options.model_copy(update={"handover_s": 0.0})
        self._end_session = True
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                idle = time.monotonic() - self._last_message > idle_s
                if self.subscribed.is_set() and idle and not self._inbox:
                    stop.set()

        threading.Thread(target=watch, daemon=True).start()
        self.run(stop)

    def connect(self) -> None:
        if self.options.mqtt_protocol == "5":
            props = persistent_session(self.options.session_expiry_s, self.options.receive_maximum)
            self.client.connect_async(self.mqtt_endpoint.host, self.mqtt_endpoint.port, keepalive=30,
                                      clean_start=False, properties=props)
        else:
            self.client.connect_async(self.mqtt_endpoint.host, self.mqtt_endpoint.port, keepalive=30)
        self.client.loop_start()

    # -- the loop ----------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Triage batches on this thread while writer threads write the
        previous ones and acknowledge them: CPU work and InfluxDB I/O overlap."""
        self.connect()
        prepared: queue.Queue[_Prepared | None] = queue.Queue(maxsize=2)  # bounded: back-pressure
        writers = [threading.Thread(target=self._write_loop, args=(prepared, stop), name=f"ingest-writer-{self.index}.{w}", daemon=True)
                   for w in range(self.options.writes_in_flight)]
        for writer in writers:
            writer.start()
        catchup = threading.Thread(target=self._catch_up_loop, args=(stop,), name="ingest-catchup", daemon=True)
        if self.index == 0 and self.options.catchup_every_s > 0:
            catchup.start()
        try:
            while not stop.is_set():
                batch = self._collect(stop)
                if batch:
                    item = self._prepare(batch)
                    while not stop.is_set():
                        try:
                            prepared.put(item, timeout=0.2)
                            break
                        except queue.Full:
                            continue
        finally:
            for _ in writers:
                with contextlib.suppress(queue.Full):
                    prepared.put_nowait(None)
            for writer in writers:
                writer.join(10)
            if catchup.is_alive():
                catchup.join(60)  # a run under way finishes, or puts its minutes back, before the ledger closes
            self.client.disconnect(properties=self._disconnect_properties())
            self.client.loop_stop()
            if self._end_session and self.options.mqtt_protocol != "5":
                self._discard_v311_session()
            self.writer.close()
            self.ledger.close()
            self.late.close()

    def _catch_up_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.options.catchup_every_s):
            try:
                done = catch_up(self.influx, self.late)
            except Exception as exc:  # InfluxDB down or overloaded: the minutes were put back
                self.metrics.catchup_failures.inc()
                log.warning("late readings' roll-ups not redone yet (%s); retrying in %.0f s", type(exc).__name__,
                            self.options.catchup_every_s)
                continue
            self.metrics.late_rolled_up.inc(sum(s.stop - s.start for s in done))

    def _disconnect_properties(self) -> Properties | None:
        if not (self._end_session and self.options.mqtt_protocol == "5"):
            return None
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0
        return props

    def _discard_v311_session(self) -> None:
        """MQTT 3.1.1 ends a persistent session by connecting once with a clean session."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311, clean_session=True)
        ep = self.mqtt_endpoint
        authenticate(client, ep)
        client.connect(ep.host, ep.port, keepalive=10)
        client.loop_start()
        client.disconnect()
        client.loop_stop()

    def _wait_inbox(self, timeout: float) -> bool:
        """Whether a message is waiting, after waiting up to `timeout`."""
        self._arrived.clear()
        if self._inbox:  # appended before the clear: its set() may have been skipped
            return True
        return self._arrived.wait(timeout)

    def _collect(self, stop: threading.Event) -> list[_Inbound]:
        """Messages until the batch is full or `batch_max_wait_s` has passed."""
        try:
            return self._fill(stop)
        finally:
            self.client.make_room()

    def _fill(self, stop: threading.Event) -> list[_Inbound]:
        inbox = self._inbox
        if not inbox and not self._wait_inbox(0.2):
            return []
        batch: list[_Inbound] = []
        readings = 0
        limit = self.options.batch_max_readings
        deadline = time.monotonic() + self.options.batch_max_wait_s
        while True:
            while inbox and readings < limit:
                item = inbox.popleft()
                batch.append(item)
                payload = item[1].payload
                self.client.taken(len(payload))
                readings += max(1, payload.count(b'"sensor"'))  # cheap estimate, good enough to bound a batch
            if readings >= limit or stop.is_set():
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return batch
            self.client.make_room()  # about to wait for more: the client must be reading
            if not self._wait_inbox(remaining):
                return batch

    def _prepare(self, batch: list[_Inbound]) -> _Prepared:
        now_ns = time.time_ns()
        out = _Prepared(acks=[(generation, message.mid, message.qos) for generation, message in batch])
        for _, message in batch:
            t = triage(message.topic, message.payload, self.points, now_ns)
            out.readings += t.readings
            out.lines += t.lines
            out.dead += t.dead
            if t.seq is not None:
                out.seqs.append(t.seq)
                if t.late_minutes:
                    out.late.update((t.seq[0], minute) for minute in t.late_minutes)
            out.newest_sent = max(out.newest_sent, t.sent_at_ns)
        for d in out.dead:
            self._dead_seq += 1
            out.dead_lines.append(d.line(now_ns + self._dead_seq % 1_000_000))
        return out

    def _write_loop(self, prepared: queue.Queue[_Prepared | None], stop: threading.Event) -> None:
        while True:
            try:
                batch = prepared.get(timeout=0.2)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if batch is None:
                return
            if not self._write_until_done(batch.lines, batch.dead_lines, stop):
                return  # stopping: nothing acknowledged, the broker redelivers
            with self._bookkeeping:
                self._written(batch)

    def _written(self, batch: _Prepared) -> None:
        """Count a batch InfluxDB has accepted, record its seqs, acknowledge it."""
        m = self.metrics
        m.messages.inc(len(batch.acks))
        m.received.inc(batch.readings)
        m.written.inc(len(batch.lines))
        for d in batch.dead:
            m.rejected.labels(d.reason.value).inc()
        if batch.newest_sent > self._newest_written:  # batches may finish out of order
            self._newest_written = batch.newest_sent
            m.lag.set(max(0.0, (time.time_ns() - batch.newest_sent) / 1e9))
        for gateway, count in self.ledger.record(batch.seqs).items():
            m.replays.labels(gateway).inc(count)
        self.late.record(batch.late)  # written, so a catch-up from now on sees these readings
        if time.monotonic() - self._last_gap_check > 10:
            self._last_gap_check = time.monotonic()
            for gateway, missing in self.ledger.gaps().items():
                m.gaps.labels(gateway).set(missing)
        generation = self._generation
        self.client.ack_many((mid, qos) for gen, mid, qos in batch.acks if gen == generation)

    def _write_until_done(self, lines: list[str], dead_lines: list[str], stop: threading.Event) -> bool:
        delay = self.options.retry_initial_s
        while True:
            try:
                started = time.perf_counter()
                result = self.writer.write(lines)
                if dead_lines:
                    self.writer.write(dead_lines, bucket=self.deadletter_bucket)
                self.metrics.write_latency.observe(time.perf_counter() - started)
                if result.rejected_by_server:
                    self.metrics.server_rejected.inc()
                    log.error("InfluxDB refused part of a batch: %s", result.rejected_by_server)
                return True
            except WriteError as exc:
                if not exc.retryable:
                    log.error("%s; not retrying", exc)
                    return True
                self.metrics.retries.inc()
                log.warning("%s; retrying in %.1fs", exc, delay)
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, self.options.retry_max_s)
