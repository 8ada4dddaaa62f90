"""A paho-mqtt client that costs ingest less CPU per message.

paho 2.2 reads each packet with at least three recv() calls (the fixed
header byte, the remaining length one byte at a time, then the body) and,
with nothing in flight of its own, reads one packet per select() round. With
one reading per message that per-packet overhead, not the reading, is most of
ingest's cost. So:

- `BufferedSocket` serves paho's small reads from one large recv(). It
  reports what it holds through `pending()`, the hook paho already uses for
  TLS sockets, so paho's loop never waits in select() on bytes that are
  already read.
- `IngestClient.loop_read` handles every complete packet that is buffered,
  not just one, before going back to select().
- `IngestClient.ack_many` queues the PUBACKs of a whole written batch as one
  write, instead of one queued packet (and one wake-up of paho's thread) each.
- Reads are held while `room` is clear (`vigil.mqtt.HoldingClient`), which
  bounds ingest's memory; a drained read round stops as soon as it clears.

These lean on paho internals (`_create_socket`, `_packet_read`,
`_packet_queue`), which is why pyproject pins paho-mqtt exactly; the tests in
tests/ingest/test_mqtt_client.py run against a real Mosquitto and will show
if an upgrade breaks them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from paho.mqtt.client import time_func
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

from vigil.mqtt import HoldingClient

PUBACK = 0x40
_PUBACK = struct.Struct("!BBH")  # type, remaining length 2, packet id: the same in MQTT 3.1.1 and 5

CHUNK_BYTES = 256 * 1024
DRAIN_PACKETS = 1000  # at most this many buffered packets per read round, so acks and pings still go out


class BufferedSocket:
    """A socket (plain or TLS) whose recv() is served from a read-ahead buffer.

    Only recv() is buffered; everything else goes to the wrapped socket.
    Errors of the underlying recv() (BlockingIOError, ssl.SSLWantReadError,
    OSError) reach the caller unchanged, and only once the buffer is empty,
    so paho's handling of them is unchanged too.
    """

    __slots__ = ("_buf", "_chunk", "_pos", "_sock")

    def __init__(self, sock: Any, chunk: int = CHUNK_BYTES):
        self._sock = sock
        self._chunk = chunk
        self._buf = b""
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes read from the socket and not yet handed out."""
        return len(self._buf) - self._pos

    def recv(self, bufsize: int) -> bytes:
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            data: bytes = self._sock.recv(max(bufsize, self._chunk))
            if len(data) <= bufsize:  # no more than asked for (or b"" at EOF): nothing to keep
                return data
            self._buf, self._pos = data, bufsize
            return data[:bufsize]
        end = min(pos + bufsize, len(buf))
        self._pos = end
        return buf[pos:end]

    def take_packet(self) -> tuple[int, bytes, int] | None:
        """The next MQTT packet if the buffer holds all of it, as (fixed
        header byte, everything after the remaining length, remaining
        length); None if it holds less, or a remaining length longer than
        the four bytes MQTT allows (left for paho to refuse)."""
        buf, pos = self._buf, self._pos
        end = len(buf)
        i = pos + 1
        length = 0
        shift = 0
        while True:
            if i >= end or shift > 21:
                return None
            byte = buf[i]
            length += (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
        if i + length > end:
            return None
        self._pos = i + length
        return buf[pos], buf[i:i + length], length

    def pending(self) -> int:
        """Bytes readable without waiting: what is buffered here, plus what a
        TLS socket has decrypted but not yet returned."""
        inner = getattr(self._sock, "pending", None)
        return self.buffered + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray | memoryview) -> int:
        sent: int = self._sock.send(data)
        return sent

    def fileno(self) -> int:
        fd: int = self._sock.fileno()
        return fd

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def close(self) -> None:
        self._buf = b""
        self._pos = 0
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(HoldingClient):
    """paho's Client with buffered reads, drained read rounds, batched acks
    and reads held while the application has no room (`room`)."""

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if self._transport == "websockets":  # frames are parsed by paho's own wrapper; leave it be
            return sock
        return BufferedSocket(sock)

    def _packet_read(self) -> MQTTErrorCode:
        # A whole packet in the buffer goes straight to paho's handler; a
        # partial one (split across reads) is left to paho's own framing,
        # which reads its remaining bytes through the buffer.
        sock = self._sock
        if self._in_packet["command"] != 0 or not isinstance(sock, BufferedSocket):
            return super()._packet_read()
        taken = sock.take_packet()
        if taken is None:
            return super()._packet_read()
        command, body, length = taken
        self._in_packet = {"command": command, "have_remaining": 1, "remaining_count": [], "remaining_mult": 1,
                           "remaining_length": length, "packet": bytearray(body), "to_process": 0, "pos": 0}
        try:
            rc = self._packet_handle()
        except MalformedPacket:
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = {"command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
                           "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0}
        with self._msgtime_mutex:
            self._last_bytes_received = time_func()
        return rc

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        for _ in range(DRAIN_PACKETS):
            sock = self._sock
            if (rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, BufferedSocket) or not sock.buffered
                    or not self.room.is_set()):
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_many(self, acks: Iterable[tuple[int, int]]) -> None:
        """Acknowledge (packet id, qos) pairs: the QoS 1 ones as one queued
        write of PUBACKs; QoS 0 needs none; QoS 2 goes through paho."""
        pubacks = bytearray()
        for mid, qos in acks:
            if qos == 1:
                pubacks += _PUBACK.pack(PUBACK, 2, mid)
            elif qos == 2:
                self.ack(mid, qos)
        if pubacks:
            self._packet_queue(PUBACK, bytes(pubacks), 0, 0)
