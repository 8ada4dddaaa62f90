"""Every service's MQTT client gets the endpoint's credentials, and TLS with
certificate checks for mqtts:// URLs (the alerts service once forgot TLS)."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vigil.mqtt import authenticate
from vigil.settings import MqttEndpoint


def _client() -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t")


def test_mqtts_gets_credentials_and_verified_tls() -> None:
    client = authenticate(_client(), MqttEndpoint.parse("mqtts://alerts:s3cret@broker.hospital.test"))
    assert client.username == "alerts" and client.password == "s3cret"
    assert client._ssl_context is not None and client._ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_plain_mqtt_gets_credentials_and_no_tls() -> None:
    client = authenticate(_client(), MqttEndpoint.parse("mqtt://ingest:pw@127.0.0.1:11883"))
    assert client.username == "ingest" and client._ssl_context is None


def test_no_credentials_in_the_url_sets_none() -> None:
    assert authenticate(_client(), MqttEndpoint.parse("mqtt://127.0.0.1")).username is None
