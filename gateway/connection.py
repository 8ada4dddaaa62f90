"""The MQTT edge: one broker session over a fresh paho client.

paho keeps its own in-memory copy of unacknowledged QoS 1 messages and sends
it again when the same client reconnects. The gateway's disk backlog is the
one source of truth, so a connection is never reused: after a disconnect it
is discarded, and the gateway opens a new one and re-sends from disk.

The client is driven from the gateway's own thread (`service()` runs paho's
`loop()`), so paho's callbacks only record events; the gateway reads them
back from `service()` and no state is shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from vigil.mqtt import authenticate
from vigil.settings import MqttEndpoint


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker if the session ends uncleanly."""

    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True, slots=True)
class ConnectResult:
    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    reason: str


@dataclass(frozen=True, slots=True)
class Acked:
    """A PUBACK: `ok` is False when the broker refused the message."""

    mid: int
    ok: bool
    reason: str


ConnectionEvent = ConnectResult | Disconnected | Acked


class BrokerConnection(Protocol):
    """What the gateway needs from one broker session."""

    def open(self) -> None:
        """Start connecting (TCP and CONNECT); raises OSError when the broker
        cannot be reached. The CONNACK arrives later as a ConnectResult."""

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int | None:
        """Publish at QoS 1; the message id, or None when it could not be sent."""

    def service(self, timeout: float) -> list[ConnectionEvent]:
        """Do network I/O for up to `timeout` seconds; the events that happened."""

    def close(self) -> None:
        """End the session cleanly (DISCONNECT, so the will is not sent)."""

    def abort(self) -> None:
        """Drop the socket without DISCONNECT, as a crash would."""


class ConnectionFactory(Protocol):
    def __call__(self, endpoint: MqttEndpoint, client_id: str, will: Will, *,
                 keepalive_s: int, connect_timeout_s: float, max_in_flight: int) -> BrokerConnection: ...


class MqttConnection:
    """A `BrokerConnection` over paho-mqtt 2 (MQTT 5, clean start)."""

    def __init__(self, endpoint: MqttEndpoint, client_id: str, will: Will, *,
                 keepalive_s: int = 30, connect_timeout_s: float = 10.0, max_in_flight: int = 50):
        self.endpoint = endpoint
        self.keepalive_s = keepalive_s
        self._events: list[ConnectionEvent] = []
        self._gone = False
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        authenticate(client, endpoint)
        client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        client.connect_timeout = connect_timeout_s
        # paho would otherwise hold back publishes beyond 20 in its memory;
        # the gateway bounds what is in flight itself.
        client.max_inflight_messages_set(max_in_flight + 10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client: mqtt.Client | None = client

    # paho callbacks: run inside publish()/loop(), in the gateway's thread.

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._events.append(ConnectResult(ok=not reason_code.is_failure, reason=str(reason_code)))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._gone = True
        self._events.append(Disconnected(reason=str(reason_code)))

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        self._events.append(Acked(mid=mid, ok=not reason_code.is_failure, reason=str(reason_code)))

    # ------------------------------------------------------------------

    def open(self) -> None:
        """Connect (blocking for at most the connect timeout on TCP)."""
        assert self._client is not None, "a connection is opened once"
        try:
            self._client.connect(self.endpoint.host, self.endpoint.port, keepalive=self.keepalive_s, clean_start=True)
        except (OSError, ValueError):
            self._discard()
            raise

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int | None:
        """QoS 1 publish; None when paho could not send it (connection lost)."""
        if self._client is None or self._gone:
            return None
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return None
        mid: int = info.mid
        return mid

    def service(self, timeout: float) -> list[ConnectionEvent]:
        """Run paho's loop once; report a lost connection exactly once."""
        if self._client is not None and not self._gone:
            rc = self._client.loop(timeout)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not self._gone:
                # paho reports some losses only through loop()'s return code.
                self._gone = True
                self._events.append(Disconnected(reason=mqtt.error_string(rc)))
        events, self._events = self._events, []
        if self._gone:
            self._discard()
        return events

    def close(self) -> None:
        """DISCONNECT (normal: the broker does not send the will), then discard."""
        if self._client is not None and not self._gone:
            self._client.disconnect()
            self._client.loop(0.1)  # let the DISCONNECT leave
        self._gone = True
        self._discard()

    def abort(self) -> None:
        """Close the socket with no DISCONNECT: the broker sends the will."""
        if self._client is not None:
            sock = self._client.socket()
            if sock is not None:
                sock.close()
        self._gone = True
        self._discard()

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # Break the callback cycle so paho's __del__ closes its sockets now.
            client.on_connect = client.on_disconnect = client.on_publish = None
