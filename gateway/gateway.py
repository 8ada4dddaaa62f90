"""The gateway process for one gateway id: poll a reading source, batch the
readings into contract messages, write every message to the disk backlog,
and drain the backlog to the broker in order, removing a message only when
the broker has acknowledged it (PUBACK).

Everything runs in the thread that calls `run()`; the MQTT client's network
I/O is serviced from that loop too (see gateway.connection), so the state
below is touched by one thread only. `stats()` may be read from any thread.

What the broker sees:
- readings on `vigil/v1/<site>/<gateway>/readings`, QoS 1, `seq` assigned
  when a message enters the backlog, so a re-sent message keeps its seq;
- a retained `online` status with `backlog` and `dropped` on connect and
  every `heartbeat_s`; a retained `offline` status at a clean stop; and the
  same `offline` as the last will, which the broker sends if we vanish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway import metrics
from gateway.backlog import Backlog
from gateway.batcher import Batcher, TokenBucket
from gateway.connection import (
    Acked,
    BrokerConnection,
    ConnectionEvent,
    ConnectionFactory,
    ConnectResult,
    Disconnected,
    MqttConnection,
    Will,
)
from gateway.settings import GatewaySettings
from vigil.contract import MAX_PAYLOAD_BYTES, GatewayState, Reading, encode_readings, encode_status
from vigil.registry import Gateway as GatewayConfig
from vigil.settings import MqttEndpoint

log = logging.getLogger(__name__)

# The largest seq the encoder could write, so a size check made before the
# seq is known still holds after.
_SEQ_PLACEHOLDER = 2**63 - 1


class ReadingSource(Protocol):
    """Where a gateway's readings come from: sensors, a fieldbus, a simulator."""

    def poll(self) -> list[Reading]:
        """The readings taken since the last poll (possibly none); must not block long."""
        ...


@dataclass(frozen=True, slots=True)
class GatewayStats:
    backlog: int  # messages on disk not yet acknowledged (in flight included)
    backlog_bytes: int
    dropped: int  # dropped from a full backlog since it was created (persisted)
    published: int  # acknowledged by the broker during this run
    seq: int  # the last seq assigned (0: none yet)
    in_flight: int
    connected: bool
    refused: int  # PUBACKs with a failure reason code during this run


def backlog_path(state_dir: Path, gateway_id: str) -> Path:
    """Where a gateway keeps its backlog under the state directory."""
    return state_dir / "gateway" / gateway_id / "queue.db"


def split_to_fit(gateway_id: str, sent_at_ns: int, readings: list[Reading]) -> list[list[Reading]]:
    """Halve a batch until each part encodes within the contract's payload
    limit (a batch of long ids can outgrow it before reaching its count)."""
    if len(readings) <= 1 or len(encode_readings(gateway_id, _SEQ_PLACEHOLDER, sent_at_ns, readings)) <= MAX_PAYLOAD_BYTES:
        return [readings]
    half = len(readings) // 2
    return split_to_fit(gateway_id, sent_at_ns, readings[:half]) + split_to_fit(gateway_id, sent_at_ns, readings[half:])


def _encoder(gateway_id: str, sent_at_ns: int, readings: list[Reading]) -> Callable[[int], bytes]:
    return lambda seq: encode_readings(gateway_id, seq, sent_at_ns, readings)


class Gateway:
    """One gateway: reading source -> batches -> disk backlog -> broker."""

    def __init__(
        self,
        gateway: GatewayConfig,
        endpoint: MqttEndpoint,
        source: ReadingSource,
        state_dir: Path,
        settings: GatewaySettings | None = None,
        *,
        connection_factory: ConnectionFactory = MqttConnection,
        clock_ns: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.config = gateway
        self.endpoint = endpoint
        self.source = source
        self.settings = settings or GatewaySettings()
        self._connection_factory = connection_factory
        self._clock_ns = clock_ns
        self._mono = monotonic
        s = self.settings
        self._backlog = Backlog(backlog_path(state_dir, gateway.id), s.backlog_max_messages, s.backlog_max_bytes)
        self._batcher = Batcher(s.batch_max_readings, s.batch_max_age_s, clock=monotonic)
        self._bucket = TokenBucket(s.drain_rate, clock=monotonic)
        self._abort = threading.Event()
        self._ran = False

        self._conn: BrokerConnection | None = None
        self._connected = False
        self._connack_deadline = 0.0
        self._next_attempt = 0.0
        self._reconnect_delay = s.reconnect_min_s
        self._in_flight: dict[int, int] = {}  # mid -> seq
        self._status_mids: set[int] = set()
        self._next_heartbeat = 0.0
        self._hold_until = 0.0  # no publishing before this, after a refused PUBACK
        self._refused_delay = s.reconnect_min_s
        self._published = 0
        self._refused = 0
        self._last_source_error_log = -float("inf")
        self._last_drop_log = -float("inf")
        self._drops_unlogged = 0
        self._update_gauges()

    # ------------------------------------------------------------------
    # Public

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set, then stop cleanly: batch what is pending
        into the backlog, publish the offline status, DISCONNECT. Or until
        `abort()`. A Gateway runs once; a restart is a new Gateway on the
        same state directory, which resumes the backlog and the seq."""
        if self._ran:
            raise RuntimeError("a Gateway runs once; create a new one on the same state directory")
        self._ran = True
        log.info("gateway %s (site %s) starting: broker %s, backlog %d message(s), last seq %d, %d dropped so far",
                 self.config.id, self.config.site, self.endpoint, len(self._backlog), self._backlog.last_seq,
                 self._backlog.dropped)
        clean = False
        try:
            while not stop.is_set() and not self._abort.is_set():
                self._step(stop)
            clean = not self._abort.is_set()
        finally:
            if clean:
                self._shutdown()
            else:
                self._crash()
            log.info("gateway %s stopped (%s): backlog %d message(s), last seq %d",
                     self.config.id, "clean" if clean else "aborted", len(self._backlog), self._backlog.last_seq)

    def abort(self) -> None:
        """Stop at once as a crash would: no flush of the open batch, no
        offline status, no DISCONNECT (the broker publishes the last will).
        What is on disk stays there. Safe to call from any thread."""
        self._abort.set()

    def stats(self) -> GatewayStats:
        """A snapshot of the counters; safe to call from any thread."""
        return GatewayStats(
            backlog=len(self._backlog), backlog_bytes=self._backlog.size_bytes, dropped=self._backlog.dropped,
            published=self._published, seq=self._backlog.last_seq, in_flight=len(self._in_flight),
            connected=self._connected, refused=self._refused,
        )

    # ------------------------------------------------------------------
    # The loop

    def _step(self, stop: threading.Event) -> None:
        now = self._mono()
        self._collect()
        if self._conn is None:
            if now >= self._next_attempt:
                self._connect()
        elif not self._connected and now >= self._connack_deadline:
            self._lost(f"no CONNACK within {self.settings.connect_timeout_s:g} s")
        if self._connected:
            self._drain()
            self._heartbeat()
        if self._conn is not None:
            self._handle(self._conn.service(self.settings.poll_interval_s))
        else:
            stop.wait(self.settings.poll_interval_s)
        self._update_gauges()

    def _collect(self) -> None:
        try:
            readings = self.source.poll()
        except Exception:
            metrics.SOURCE_ERRORS.labels(self.config.id).inc()
            # A broken source must not stop the gateway from draining; log at
            # most once a minute so a persistent fault does not flood the log.
            now = self._mono()
            if now - self._last_source_error_log >= 60:
                self._last_source_error_log = now
                log.exception("gateway %s: the reading source failed (counted; retrying)", self.config.id)
            readings = []
        if readings:
            metrics.READINGS.labels(self.config.id).inc(len(readings))
        for batch in self._batcher.add(readings):
            self._enqueue(batch)
        due = self._batcher.take_due()
        if due:
            self._enqueue(due)

    def _enqueue(self, batch: list[Reading]) -> None:
        sent_at_ns = self._clock_ns()  # "sent, or first tried to send"
        for part in split_to_fit(self.config.id, sent_at_ns, batch):
            appended = self._backlog.append(_encoder(self.config.id, sent_at_ns, part))
            metrics.MESSAGES_ENQUEUED.labels(self.config.id).inc()
            if appended.dropped:
                metrics.MESSAGES_DROPPED.labels(self.config.id).inc(appended.dropped)
                self._drops_unlogged += appended.dropped
                # While the backlog stays full every batch drops one: say so
                # at once, then at most once a minute with the running count.
                if self._mono() - self._last_drop_log >= 60:
                    self._last_drop_log = self._mono()
                    log.warning("gateway %s: backlog full (%d messages or %d bytes): dropped the %d oldest message(s), "
                                "%d dropped in total", self.config.id, self.settings.backlog_max_messages,
                                self.settings.backlog_max_bytes, self._drops_unlogged, self._backlog.dropped)
                    self._drops_unlogged = 0

    # ------------------------------------------------------------------
    # Connection

    def _connect(self) -> None:
        offline = encode_status(GatewayState.OFFLINE, self._clock_ns())
        conn = self._connection_factory(
            self.endpoint, self.config.id, Will(self.config.status_topic, offline),
            keepalive_s=self.settings.keepalive_s, connect_timeout_s=self.settings.connect_timeout_s,
            max_in_flight=self.settings.max_in_flight,
        )
        self._conn = conn
        try:
            conn.open()
        except (OSError, ValueError) as exc:
            self._lost(f"cannot reach the broker: {exc}")
            return
        self._connack_deadline = self._mono() + self.settings.connect_timeout_s

    def _handle(self, events: list[ConnectionEvent]) -> None:
        acked: list[int] = []
        conn = self._conn
        for event in events:
            if self._conn is not conn:
                break  # that connection is gone; what else it reported is moot
            if isinstance(event, ConnectResult):
                if event.ok:
                    self._on_connected()
                else:
                    log.error("gateway %s: the broker refused the connection: %s", self.config.id, event.reason)
                    self._lost(f"connection refused: {event.reason}")
            elif isinstance(event, Disconnected):
                self._lost(event.reason)
            elif isinstance(event, Acked):
                seq = self._on_acked(event)
                if seq is not None:
                    acked.append(seq)
        self._backlog.remove(acked)

    def _on_connected(self) -> None:
        self._connected = True
        self._reconnect_delay = self.settings.reconnect_min_s
        self._hold_until = 0.0
        self._in_flight.clear()
        metrics.CONNECTS.labels(self.config.id).inc()
        log.info("gateway %s connected to %s: backlog %d message(s) to drain", self.config.id, self.endpoint, len(self._backlog))
        self._publish_status(GatewayState.ONLINE)
        self._next_heartbeat = self._mono() + self.settings.heartbeat_s

    def _on_acked(self, event: Acked) -> int | None:
        """The seq to remove from the backlog, if the PUBACK delivered one."""
        if event.mid in self._status_mids:
            self._status_mids.discard(event.mid)
            if not event.ok:
                self._refused += 1
                metrics.PUBLISH_REFUSED.labels(self.config.id, event.reason).inc()
                log.warning("gateway %s: the broker refused the status message: %s", self.config.id, event.reason)
            return None
        seq = self._in_flight.pop(event.mid, None)
        if seq is None:
            return None
        if event.ok:
            self._published += 1
            self._refused_delay = self.settings.reconnect_min_s
            metrics.MESSAGES_PUBLISHED.labels(self.config.id).inc()
            return seq
        # Not delivered: the message stays in the backlog and is sent again
        # after a pause, which doubles (once per pause) while refusals go on.
        self._refused += 1
        metrics.PUBLISH_REFUSED.labels(self.config.id, event.reason).inc()
        now = self._mono()
        if now >= self._hold_until:
            self._hold_until = now + self._refused_delay
            self._refused_delay = min(self._refused_delay * 2, self.settings.reconnect_max_s)
            log.warning("gateway %s: the broker refused message seq %d: %s; kept, pausing publishes for %.1f s "
                        "(%d refused so far)", self.config.id, seq, event.reason, self._hold_until - now, self._refused)
        else:  # the rest of the window, refused for the same cause
            log.debug("gateway %s: the broker refused message seq %d: %s", self.config.id, seq, event.reason)
        return None

    def _lost(self, reason: str) -> None:
        """Discard the connection (never reused) and schedule the next attempt."""
        was_connected = self._connected
        if self._conn is not None:
            self._conn.abort()
            self._conn = None
        self._connected = False
        # paho's copies of these died with the client; they are re-sent from disk.
        self._in_flight.clear()
        self._status_mids.clear()
        delay = self._reconnect_delay
        self._next_attempt = self._mono() + delay
        self._reconnect_delay = min(delay * 2, self.settings.reconnect_max_s)
        (log.warning if was_connected else log.info)(
            "gateway %s: %s %s (%s); backlog %d message(s); retrying in %.1f s", self.config.id,
            "lost the broker" if was_connected else "not connected to", self.endpoint, reason, len(self._backlog), delay)

    # ------------------------------------------------------------------
    # Sending

    def _drain(self) -> None:
        """Send from the head of the backlog, within the in-flight window and
        the token bucket."""
        if self._conn is None or self._mono() < self._hold_until or not len(self._backlog):
            return
        free = self.settings.max_in_flight - len(self._in_flight)
        if free <= 0:
            return
        n = min(free, self._bucket.available())
        if n <= 0:
            return
        for message in self._backlog.oldest(n, skip=set(self._in_flight.values())):
            mid = self._conn.publish(self.config.readings_topic, message.payload)
            if mid is None:
                break  # the connection is going; service() reports it
            self._bucket.take()
            self._in_flight[mid] = message.seq

    def _heartbeat(self) -> None:
        if self._mono() >= self._next_heartbeat:
            self._publish_status(GatewayState.ONLINE)
            self._next_heartbeat = self._mono() + self.settings.heartbeat_s

    def _publish_status(self, state: GatewayState) -> int | None:
        if self._conn is None:
            return None
        payload = encode_status(state, self._clock_ns(), backlog=len(self._backlog), dropped=self._backlog.dropped)
        mid = self._conn.publish(self.config.status_topic, payload, retain=True)
        if mid is not None:
            self._status_mids.add(mid)
        return mid

    # ------------------------------------------------------------------
    # Stopping

    def _shutdown(self) -> None:
        try:
            pending = self._batcher.flush()
            if pending:
                self._enqueue(pending)  # on disk, so the next run sends it
            if self._conn is not None and self._connected:
                offline = self._publish_status(GatewayState.OFFLINE)
                # A short grace for the PUBACKs on their way, so fewer
                # messages are sent twice after the restart.
                deadline = self._mono() + self.settings.shutdown_grace_s
                while (self._conn is not None and self._mono() < deadline
                       and (offline in self._status_mids or self._in_flight)):
                    self._handle(self._conn.service(min(0.05, max(0.0, deadline - self._mono()))))
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._connected = False
            self._in_flight.clear()
            self._backlog.close()
            self._update_gauges()

    def _crash(self) -> None:
        try:
            if self._conn is not None:
                self._conn.abort()
                self._conn = None
        finally:
            self._connected = False
            self._in_flight.clear()
            self._backlog.close()
            self._update_gauges()

    def _update_gauges(self) -> None:
        gid = self.config.id
        metrics.BACKLOG_MESSAGES.labels(gid).set(len(self._backlog))
        metrics.BACKLOG_BYTES.labels(gid).set(self._backlog.size_bytes)
        metrics.DROPPED.labels(gid).set(self._backlog.dropped)
        metrics.IN_FLIGHT.labels(gid).set(len(self._in_flight))
        metrics.CONNECTED.labels(gid).set(1 if self._connected else 0)
        metrics.SEQ.labels(gid).set(self._backlog.last_seq)
