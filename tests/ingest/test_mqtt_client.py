"""The ingest MQTT client: buffered reads, whole-packet framing from the
buffer, and batched acks. Framing is checked on a real socket pair with
packets split at arbitrary recv boundaries; acks and sessions against the
real Mosquitto."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from ingest.mqtt_client import BufferedSocket, IngestClient
from tests.support.mqtt import MqttTestClient, publish_all
from vigil.contract import readings_topic
from vigil.infra.local import LocalServices


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: str, mid: int, payload: bytes) -> bytes:
    """An MQTT 3.1.1 PUBLISH at QoS 1, as a broker sends it."""
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t + struct.pack("!H", mid) + payload
    return bytes([0x32]) + remaining_length(len(body)) + body


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


# -- BufferedSocket ----------------------------------------------------------


def test_small_reads_are_served_from_one_recv(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.setblocking(False)
    b.sendall(b"abcdefghij")
    time.sleep(0.05)
    sock = BufferedSocket(a)
    assert sock.recv(1) == b"a"
    assert sock.buffered == 9 and sock.pending() == 9  # the rest was read at once
    assert sock.recv(3) == b"bcd"
    assert sock.recv(100) == b"efghij"  # never more than is buffered, even if more is asked
    assert sock.buffered == 0
    with pytest.raises(BlockingIOError):  # empty buffer, nothing on the socket: the socket's own error
        sock.recv(1)
    b.close()
    assert sock.recv(1) == b""  # end of stream passes through


@pytest.fixture
def buffered() -> Iterator[Callable[[bytes], BufferedSocket]]:
    """A BufferedSocket holding `data` in its buffer (behind one byte already read)."""
    pairs: list[tuple[socket.socket, socket.socket]] = []

    def make(data: bytes) -> BufferedSocket:
        a, b = socket.socketpair()
        pairs.append((a, b))
        b.sendall(b"\x00" + data)
        sock = BufferedSocket(a)
        assert sock.recv(1) == b"\x00"
        assert sock.buffered == len(data)
        return sock

    yield make
    for a, b in pairs:
        a.close()
        b.close()


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16_383, 16_384, 40_000])
def test_take_packet_reads_every_remaining_length_encoding(buffered: Callable[[bytes], BufferedSocket], size: int) -> None:
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    sock = buffered(bytes([0x30]) + remaining_length(size) + body + b"\x40")
    assert sock.take_packet() == (0x30, body, size)
    assert sock.recv(1) == b"\x40"  # the next packet starts right after


def test_take_packet_leaves_a_partial_packet_for_later(buffered: Callable[[bytes], BufferedSocket]) -> None:
    packet = publish_packet("t", 1, b"x" * 200)  # two-byte remaining length
    for cut in (1, 2, 3, len(packet) - 1):
        sock = buffered(packet[:cut])
        assert sock.take_packet() is None, cut
        assert sock.recv(cut) == packet[:cut]  # nothing was consumed
    malformed = bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])  # five length bytes
    sock = buffered(malformed)
    assert sock.take_packet() is None  # left to paho, which refuses it
    assert sock.buffered == len(malformed)


# -- IngestClient framing ---------------------------------------------------------


def _client() -> tuple[IngestClient, list[tuple[str, int, bytes]]]:
    client = IngestClient(CallbackAPIVersion.VERSION2, client_id="framing", manual_ack=True, protocol=mqtt.MQTTv311,
                          clean_session=False)
    got: list[tuple[str, int, bytes]] = []
    client.on_message = lambda c, u, m: got.append((m.topic, m.mid, bytes(m.payload)))
    return client, got


@pytest.mark.parametrize("chunk", [1, 5, 64, 4096, 256 * 1024])
def test_packets_split_anywhere_arrive_whole_and_in_order(pair: tuple[socket.socket, socket.socket], chunk: int) -> None:
    """Packets of every length encoding, written in random pieces (down to
    one byte) and read through buffers of every size: each message arrives
    once, whole, in order."""
    a, b = pair
    rng = random.Random(chunk)
    sizes = [0, 1, 50, 127, 200, 16_400, 70_000] * 5
    rng.shuffle(sizes)
    expected = [(f"vigil/v1/north/gw-a/readings/{i}", i + 1, rng.randbytes(n)) for i, n in enumerate(sizes)]
    stream = b"".join(publish_packet(t, mid, p) for t, mid, p in expected)

    def feed() -> None:
        pos = 0
        while pos < len(stream):
            n = rng.choice([1, 2, 3, 7, 100, 5000, 70_000])
            b.sendall(stream[pos:pos + n])
            pos += n
            if rng.random() < 0.2:
                time.sleep(0.001)  # let the reader catch up, so reads end mid-packet

    client, got = _client()
    a.setblocking(False)
    client._sock = BufferedSocket(a, chunk=chunk)
    feeder = threading.Thread(target=feed)
    feeder.start()
    deadline = time.monotonic() + 30
    while len(got) < len(expected) and time.monotonic() < deadline:
        assert client._loop(0.5) == MQTTErrorCode.MQTT_ERR_SUCCESS
    feeder.join()
    assert got == expected


def test_a_malformed_length_is_a_protocol_error(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    client, got = _client()
    a.setblocking(False)
    client._sock = BufferedSocket(a)
    b.sendall(publish_packet("t/1", 1, b"ok") + bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
    time.sleep(0.05)
    rc = MQTTErrorCode.MQTT_ERR_SUCCESS
    for _ in range(5):
        rc = client._loop(0.5)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            break
    assert got == [("t/1", 1, b"ok")]
    assert rc != MQTTErrorCode.MQTT_ERR_SUCCESS  # the connection is given up, not read on from a wrong offset


# -- against the real broker ------------------------------------------------------


class Session:
    """An IngestClient with a persistent 3.1.1 session that records what arrives."""

    def __init__(self, services: LocalServices, client_id: str, clean: bool = False, keepalive: int = 60):
        ep = services.settings.mqtt_endpoint("ingest")
        self.client = IngestClient(CallbackAPIVersion.VERSION2, client_id=client_id, manual_ack=True,
                                   protocol=mqtt.MQTTv311, clean_session=clean)
        assert ep.username and ep.password
        self.client.username_pw_set(ep.username, ep.password.get_secret_value())
        self.received: list[tuple[int, int, bytes]] = []
        self.arrived = threading.Condition()
        self.connected = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.connect(ep.host, ep.port, keepalive=keepalive)
        self.client.loop_start()
        assert self.connected.wait(10)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.received.append((message.mid, message.qos, bytes(message.payload)))
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 20) -> list[tuple[int, int, bytes]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.received)

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, 1)
        assert done.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_ack_many_acknowledges_exactly_the_messages_given(services: LocalServices) -> None:
    """Acked messages are gone from the session; the others come back after
    a reconnect, each once. Large payloads cross the read buffer's edges."""
    client_id = f"test-ack-many-{uuid.uuid4().hex[:8]}"
    topic = readings_topic("north", "gw-a")
    first = Session(services, client_id)
    first.subscribe(topic)
    payloads = [f"message {i} ".encode() + b"x" * (30_000 if i % 50 == 0 else i % 300) for i in range(600)]
    gateway = MqttTestClient(services.settings.mqtt_endpoint("gw-a"), client_id=f"test-gw-a-{uuid.uuid4().hex[:6]}")
    gateway.connect()
    publish_all(gateway, [(topic, p) for p in payloads])
    gateway.close()

    got = first.wait_for(len(payloads))
    assert [p for _, _, p in got] == payloads
    first.client.ack_many((mid, qos) for mid, qos, _ in got[:400])
    deadline = time.monotonic() + 5
    while first.client.want_write() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    first.close()

    second = Session(services, client_id)
    again = second.wait_for(200)
    time.sleep(0.5)  # anything beyond the 200 unacknowledged would show up now
    assert sorted(p for _, _, p in second.received) == sorted(payloads[400:])
    assert all(qos == 1 for _, qos, _ in again)
    second.client.ack_many((mid, qos) for mid, qos, _ in again)
    time.sleep(0.2)
    second.close()
    Session(services, client_id, clean=True).close()  # end the session


def test_reconnects_after_the_broker_drops_it(services: LocalServices) -> None:
    """A dropped connection (the broker kicks the session when the same
    client id connects elsewhere) leaves no stale bytes in a reused buffer:
    the client reconnects and reads its next messages whole."""
    client_id = f"test-reconnect-{uuid.uuid4().hex[:8]}"
    topic = readings_topic("north", "gw-b")
    session = Session(services, client_id, clean=True)
    session.client.reconnect_delay_set(min_delay=1, max_delay=1)
    session.subscribe(topic)
    disconnected = threading.Event()
    session.client.on_disconnect = lambda *a: disconnected.set()
    gateway = MqttTestClient(services.settings.mqtt_endpoint("gw-b"), client_id=f"test-gw-b-{uuid.uuid4().hex[:6]}")
    gateway.connect()
    publish_all(gateway, [(topic, b"before")])
    assert [p for _, _, p in session.wait_for(1)] == [b"before"]

    session.connected.clear()
    intruder = Session(services, client_id, clean=True)  # takes over the id: the broker drops the first
    assert disconnected.wait(10)
    intruder.close()
    assert session.connected.wait(15), "the client did not reconnect"
    session.subscribe(topic)  # a clean session starts without subscriptions
    publish_all(gateway, [(topic, b"after 1"), (topic, b"after 2" * 5000)])
    gateway.close()
    got = session.wait_for(3)
    assert [p for _, _, p in got] == [b"before", b"after 1", b"after 2" * 5000]
    session.close()


def test_without_room_nothing_is_read_and_the_connection_outlives_the_keepalive(services: LocalServices) -> None:
    """Reads held (the application's inbox is full): nothing arrives, the
    broker keeps the messages, and the hold is not taken for a dead link
    even past twice the keepalive; with room again, everything arrives."""
    topic = readings_topic("north", "gw-a")
    session = Session(services, f"test-hold-{uuid.uuid4().hex[:8]}", clean=True, keepalive=1)
    session.subscribe(topic)
    disconnected = threading.Event()
    session.client.on_disconnect = lambda *a: disconnected.set()
    session.client.room.clear()
    payloads = [f"held {i}".encode() for i in range(50)]
    gateway = MqttTestClient(services.settings.mqtt_endpoint("gw-a"), client_id=f"test-gw-a-{uuid.uuid4().hex[:6]}")
    gateway.connect()
    publish_all(gateway, [(topic, p) for p in payloads])
    gateway.close()

    time.sleep(3.5)
    assert session.received == []
    assert not disconnected.is_set()
    session.client.room.set()
    assert [p for _, _, p in session.wait_for(len(payloads))] == payloads
    assert not disconnected.is_set()
    session.close()
