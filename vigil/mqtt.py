"""What every Vigil MQTT client does with its endpoint before connecting."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt

from vigil.settings import MqttEndpoint


def authenticate(client: mqtt.Client, endpoint: MqttEndpoint) -> mqtt.Client:
    """Give `client` the endpoint's credentials and, for mqtts://, TLS with the
    broker's certificate verified: in one place, so no service forgets either."""
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password.get_secret_value() if endpoint.password else None)
    if endpoint.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    return client
