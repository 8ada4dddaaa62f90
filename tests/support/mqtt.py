"""A small synchronous MQTT client for tests: connect as an account of the
real test broker, publish with confirmation, collect what arrives."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from vigil.settings import MqttEndpoint


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


@dataclass
class MqttTestClient:
    endpoint: MqttEndpoint
    client_id: str
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.connected = threading.Event()
        self.connect_rc: ReasonCode | None = None
        self.arrived = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        if self.endpoint.username:
            pw = self.endpoint.password.get_secret_value() if self.endpoint.password else None
            self.client.username_pw_set(self.endpoint.username, pw)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: ReasonCode, props: Properties | None) -> None:
        self.connect_rc = rc
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.messages.append(Received(msg.topic, msg.payload, bool(msg.retain)))
            self.arrived.notify_all()

    def connect(self, timeout: float = 10) -> ReasonCode:
        self.client.connect(self.endpoint.host, self.endpoint.port)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise TimeoutError("no CONNACK")
        assert self.connect_rc is not None
        return self.connect_rc

    def subscribe(self, topic: str, qos: int = 1) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos)
        assert done.wait(10), "no SUBACK"

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(10)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(client: MqttTestClient, messages: list[tuple[str, bytes]], timeout: float = 60) -> None:
    """Publish every message at QoS 1 and wait until the broker acknowledged all."""
    infos = [client.client.publish(topic, payload, qos=1) for topic, payload in messages]
    deadline = time.monotonic() + timeout
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        assert info.is_published(), "the broker did not acknowledge a publish"
