"""Test kit for the gateway: a reading source the test drives, an observer
that watches the real broker across broker restarts, and checks over what it
saw."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway import Gateway
from vigil.contract import GatewayStatus, Reading, ReadingsMessage, decode_readings, decode_status, parse_topic
from vigil.settings import MqttEndpoint

SENSORS = ["vac-fridge-1-temp", "bb-fridge-1-temp"]


class CountingSource:
    """Readings numbered 0, 1, 2, ... (the number is the value, so order and
    completeness can be checked at the other end). The test emits them with
    `emit(n)`, or lets them flow at `rate` per second between `start_flow()`
    and `stop_flow()`. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Reading] = []
        self.produced = 0
        self.delivered = 0  # handed to the gateway
        self._rate = 0.0
        self._flow_started = 0.0
        self._flow_base = 0

    def _make(self, n: int) -> None:
        now_ns = time.time_ns()
        for _ in range(n):
            i = self.produced
            self._pending.append(Reading(SENSORS[i % len(SENSORS)], "temperature", float(i), now_ns + i * 1000))
            self.produced += 1

    def emit(self, n: int) -> None:
        with self._lock:
            self._make(n)

    def start_flow(self, rate: float) -> None:
        with self._lock:
            self._rate, self._flow_started, self._flow_base = rate, time.monotonic(), self.produced

    def stop_flow(self) -> int:
        """Stop the flow; the total produced so far."""
        with self._lock:
            self._catch_up()
            self._rate = 0.0
            return self.produced

    def _catch_up(self) -> None:
        if self._rate:
            due = self._flow_base + int((time.monotonic() - self._flow_started) * self._rate)
            self._make(max(0, due - self.produced))

    def poll(self) -> list[Reading]:
        with self._lock:
            self._catch_up()
            out, self._pending = self._pending, []
            self.delivered += len(out)
            return out


def reading_number(r: Reading) -> int:
    """The number a CountingSource gave a reading."""
    return int(r.value)


def distinct_readings(observer: Observer, gateway: str) -> int:
    """How many different readings arrived: a message delivered twice (in
    flight when the broker stopped) must not count as the one still to come."""
    return len({reading_number(r) for m in observer.readings(gateway) for r in m.readings})


@dataclass
class Seen:
    topic: str
    payload: bytes
    retain: bool
    at: float


@dataclass
class Observer:
    """Subscribed as `operator` to vigil/v1/# with a persistent MQTT 5
    session, so it misses nothing across a broker restart (the broker keeps
    the session on disk and paho reconnects on its own)."""

    endpoint: MqttEndpoint
    client_id: str
    topic: str = "vigil/v1/#"
    persistent: bool = True
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(self.endpoint.username, self.endpoint.password.get_secret_value() if self.endpoint.password else None)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: object, props: object) -> None:
        if not flags.session_present:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.seen.append(Seen(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic()))
            self._cond.notify_all()

    def start(self) -> Observer:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 300 if self.persistent else 0
        # A fresh client id, so no old session to resume; clean_start=False
        # also on paho's own reconnects, which then resume this session.
        self.client.connect(self.endpoint.host, self.endpoint.port, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the observer did not subscribe"
        time.sleep(0.2)  # retained messages arrive right after the SUBACK
        return self

    def close(self) -> None:
        props = Properties(PacketTypes.DISCONNECT)
        props.SessionExpiryInterval = 0  # the broker forgets the session
        self.client.disconnect(properties=props)
        self.client.loop_stop()

    def mark(self) -> int:
        with self._cond:
            return len(self.seen)

    def wait_until(self, done: Callable[[], bool], timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
            return True

    # ------------------------------------------------------------------

    def readings(self, gateway: str, since: int = 0) -> list[ReadingsMessage]:
        with self._cond:
            seen = list(self.seen[since:])
        out = []
        for s in seen:
            addr = parse_topic(s.topic)
            if addr and addr.gateway == gateway and addr.channel == "readings":
                out.append(decode_readings(s.payload))
        return out

    def raw_readings(self, gateway: str, since: int = 0) -> list[Seen]:
        with self._cond:
            return [s for s in self.seen[since:] if (a := parse_topic(s.topic)) and a.gateway == gateway and a.channel == "readings"]

    def statuses(self, gateway: str, since: int = 0, live_only: bool = True) -> list[GatewayStatus]:
        with self._cond:
            seen = list(self.seen[since:])
        return [decode_status(s.payload) for s in seen
                if (a := parse_topic(s.topic)) and a.gateway == gateway and a.channel == "status" and not (live_only and s.retain)]


def retained_status(endpoint: MqttEndpoint, topic: str, client_id: str) -> GatewayStatus | None:
    """What a newcomer subscribing to `topic` is told (the retained message)."""
    probe = Observer(endpoint, client_id, topic=topic, persistent=False).start()
    try:
        probe.wait_until(lambda: bool(probe.seen), timeout=2)
        retained = [s for s in probe.seen if s.retain]
        return decode_status(retained[-1].payload) if retained else None
    finally:
        probe.close()


def assert_complete(observer: Observer, gateway: str, produced: int, since: int = 0, max_duplicates: int = 0) -> None:
    """Every reading 0..produced-1 arrived, in order, in messages whose seqs
    are contiguous; a seq that arrived twice carried the same bytes."""
    raw = observer.raw_readings(gateway, since)
    by_seq: dict[int, bytes] = {}
    order: list[int] = []
    duplicates = 0
    for s in raw:
        seq = decode_readings(s.payload).seq
        if seq in by_seq:
            assert by_seq[seq] == s.payload, f"seq {seq} arrived twice with different content"
            duplicates += 1
        else:
            by_seq[seq] = s.payload
            order.append(seq)
    assert order, "no readings message arrived"
    assert order == sorted(order), f"messages arrived out of order: {order}"
    assert order == list(range(order[0], order[0] + len(order))), f"seqs are not contiguous: {order}"
    assert duplicates <= max_duplicates, f"{duplicates} duplicate message(s), at most {max_duplicates} expected"
    numbers = [reading_number(r) for seq in order for r in decode_readings(by_seq[seq]).readings]
    assert numbers == list(range(produced)), f"readings lost or reordered: got {len(numbers)}, expected {produced}"


@dataclass
class RunningGateway:
    gateway: Gateway
    stop_event: threading.Event
    thread: threading.Thread

    def stop(self, timeout: float = 15) -> None:
        """A clean stop (SIGTERM in production)."""
        self.stop_event.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the gateway did not stop"

    def kill(self, timeout: float = 15) -> None:
        """As a crash: the socket closes without DISCONNECT."""
        self.gateway.abort()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the gateway did not stop"


def wait_for(condition: Callable[[], bool], timeout: float = 15, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
