"""What Vigil's MQTT clients do before connecting: credentials and TLS from
the endpoint, and the session they ask for; and a client that stops reading
while its owner has no room for more."""

from __future__ import annotations

import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import time_func
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vigil.settings import MqttEndpoint


def authenticate(client: mqtt.Client, endpoint: MqttEndpoint) -> mqtt.Client:
    """Give `client` the endpoint's credentials and, for mqtts://, TLS with the
    broker's certificate verified: in one place, so no service forgets either."""
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password.get_secret_value() if endpoint.password else None)
    if endpoint.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    return client


def persistent_session(expiry_s: int, receive_maximum: int) -> Properties:
    """MQTT 5 CONNECT properties for a session the broker keeps `expiry_s`
    after a disconnect (queueing for it), with at most `receive_maximum`
    messages in flight unacknowledged. Connect with `clean_start=False`."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = expiry_s
    props.ReceiveMaximum = receive_maximum
    return props


HOLD_WAIT_S = 0.05  # while reads are held, paho's loop still writes (acks, pings) this often


class HoldingClient(mqtt.Client):
    """paho's Client that reads nothing while `room` is clear.

    The consumer reports each message as it is `received` (paho's thread) and
    `taken` (the consumer's thread); once what is held reaches `max_messages`
    or `max_bytes` the client stops reading, and `make_room` lets it read
    again at half. Not reading lets TCP push back on the broker, which keeps
    the rest queued in the session. Neither the broker's in-flight limit
    (Mosquitto 2.0.11 sent a 3.1.1 session 117,000 unacknowledged messages at
    once) nor MQTT 5's Receive Maximum (a count of messages, of any size)
    bounds the bytes."""

    def __init__(self, *args: Any, max_messages: int = 2**62, max_bytes: int = 2**62, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.room = threading.Event()
        self.room.set()
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        # One writer each (paho's thread, the consumer's), so no lock.
        self._received_messages = self._received_bytes = 0
        self._taken_messages = self._taken_bytes = 0

    @property
    def held_messages(self) -> int:
        return self._received_messages - self._taken_messages

    @property
    def held_bytes(self) -> int:
        return self._received_bytes - self._taken_bytes

    def received(self, size: int) -> None:
        """A message of `size` payload bytes was handed to the consumer."""
        self._received_messages += 1
        self._received_bytes += size
        if self.held_messages >= self.max_messages or self.held_bytes >= self.max_bytes:
            self.room.clear()

    def taken(self, size: int) -> None:
        """The consumer took a message of `size` payload bytes off its inbox."""
        self._taken_messages += 1
        self._taken_bytes += size

    def make_room(self) -> None:
        """Read again once what is held is down to half the bounds."""
        if not self.room.is_set() and self.held_messages <= self.max_messages // 2 and self.held_bytes <= self.max_bytes // 2:
            self.room.set()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if not self.room.is_set() and not self.room.wait(HOLD_WAIT_S):
            with self._msgtime_mutex:
                # Quiet by choice, not a silent broker: the keepalive check
                # must not close the connection over a hold.
                self._last_bytes_received = time_func()
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super().loop_read(max_packets)
