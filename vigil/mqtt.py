"""What Vigil's MQTT clients do before connecting: credentials and TLS from
the endpoint, and the session they ask for."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
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
