"""`vigil services` against the real Mosquitto and InfluxDB 2.7: onboarding,
least-privilege tokens, and the broker's accounts and ACL."""

from __future__ import annotations

import time

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from tests.support.mqtt import MqttTestClient
from vigil.contract import readings_topic, status_topic
from vigil.infra import influxdb
from vigil.infra.influxdb import BUCKETS
from vigil.infra.local import LocalServices
from vigil.settings import MqttEndpoint

pytestmark = pytest.mark.integration


def test_services_report_healthy_after_up(services: LocalServices) -> None:
    status = services.status()
    assert status["mosquitto"]["healthy"] and status["mosquitto"]["running"]
    assert status["influxdb"]["healthy"] and status["influxdb"]["managed"]


def test_influxdb_is_a_real_2_7_server(services: LocalServices) -> None:
    op = services.settings.influx_endpoint("operator")
    with InfluxDBClient(url=op.url, token=op.token.get_secret_value(), org=op.org) as client:
        assert client.version().startswith("v2.7")
        names = {b.name for b in client.buckets_api().find_buckets().buckets}
    assert {b.name for b in BUCKETS} <= names


def test_reader_token_cannot_write_but_ingest_token_can(services: LocalServices) -> None:
    ingest = services.settings.influx_endpoint("ingest")
    reader = services.settings.influx_endpoint("reader")
    line = f"cold_chain,sensor=token-probe temperature=4.0 {time.time_ns()}"
    with InfluxDBClient(url=ingest.url, token=ingest.token.get_secret_value(), org=ingest.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write("deadletter", record=line)
    with InfluxDBClient(url=reader.url, token=reader.token.get_secret_value(), org=reader.org) as client:
        with pytest.raises(ApiException) as denied:
            client.write_api(write_options=SYNCHRONOUS).write("deadletter", record=line)
        assert denied.value.status in (401, 403, 404)


def test_alerts_token_writes_the_platform_bucket_and_nothing_else(services: LocalServices) -> None:
    alerts = services.settings.influx_endpoint("alerts")
    line = f"alerts_engine lag_s=0.2 {time.time_ns()}"
    with InfluxDBClient(url=alerts.url, token=alerts.token.get_secret_value(), org=alerts.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write("platform", record=line)
        for bucket in ("readings", "deadletter"):
            with pytest.raises(ApiException) as denied:
                client.write_api(write_options=SYNCHRONOUS).write(bucket, record=line)
            assert denied.value.status in (401, 403, 404)
        with pytest.raises(ApiException) as unread:
            client.query_api().query('from(bucket: "readings") |> range(start: -1m) |> limit(n: 1)')
        assert unread.value.status in (401, 403, 404)
    assert services.env("alerts")["VIGIL_INFLUX_TOKEN"] == alerts.token.get_secret_value()


def test_second_up_keeps_credentials_and_is_idempotent(services: LocalServices) -> None:
    before = services.settings.services_state()
    services.up()
    after = services.settings.services_state()
    assert before["influx"]["tokens"] == after["influx"]["tokens"]
    assert before["mqtt"]["accounts"] == after["mqtt"]["accounts"]
    assert services.status()["influxdb"]["healthy"]


def test_tokens_from_before_a_bucket_was_added_are_replaced_by_ones_that_cover_it(
        services: LocalServices, monkeypatch: pytest.MonkeyPatch) -> None:
    # An install onboarded by an older Vigil: its tokens cover the buckets of the day.
    op = services.settings.influx_endpoint("operator")
    admin = services.settings.services_state()["influx_admin"]
    kwargs = dict(org=op.org, username=admin["username"], password=admin["password"], operator_token=op.token.get_secret_value())
    old = influxdb.onboard(op.url, **kwargs)
    monkeypatch.setattr(influxdb, "BUCKETS", (*influxdb.BUCKETS, influxdb.BucketSpec("added_later", 86400, "a newer bucket")))
    new = influxdb.onboard(op.url, **kwargs, ingest_token=old.ingest_token, reader_token=old.reader_token)
    assert new.ingest_token != old.ingest_token and new.reader_token != old.reader_token
    line = f"cold_chain,sensor=token-probe temperature=4.0 {time.time_ns()}"
    with InfluxDBClient(url=op.url, token=new.ingest_token, org=op.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write("added_later", record=line)
    with InfluxDBClient(url=op.url, token=old.ingest_token, org=op.org) as client, pytest.raises(ApiException) as revoked:
        client.write_api(write_options=SYNCHRONOUS).write("readings", record=line)
    assert revoked.value.status == 401
    # Unchanged buckets: the same tokens come back.
    again = influxdb.onboard(op.url, **kwargs, ingest_token=new.ingest_token, reader_token=new.reader_token)
    assert (again.ingest_token, again.reader_token) == (new.ingest_token, new.reader_token)


def test_state_file_is_private(services: LocalServices) -> None:
    assert services.state_file.stat().st_mode & 0o077 == 0


def _client(services: LocalServices, identity: str, suffix: str = "") -> MqttTestClient:
    return MqttTestClient(services.settings.mqtt_endpoint(identity), client_id=f"test-{identity}{suffix}")


def test_broker_refuses_anonymous_and_wrong_password(services: LocalServices) -> None:
    ep = services.settings.mqtt_endpoint("ingest")
    anonymous = MqttTestClient(MqttEndpoint(ep.host, ep.port), client_id="test-anon")
    assert anonymous.connect().is_failure
    anonymous.close()
    wrong = MqttTestClient(MqttEndpoint.parse(f"mqtt://gw-a:not-the-password@{ep.host}:{ep.port}"), client_id="test-wrong")
    assert wrong.connect().is_failure
    wrong.close()


def test_gateway_may_publish_only_under_its_own_prefix(services: LocalServices) -> None:
    site = "north"
    watcher = _client(services, "operator", "-acl")
    assert not watcher.connect().is_failure
    watcher.subscribe("vigil/v1/#")
    gw_a = _client(services, "gw-a")
    assert not gw_a.connect().is_failure
    gw_a.publish(readings_topic(site, "gw-b"), b"forged")  # another gateway's topic
    gw_a.publish("elsewhere/x", b"outside the contract")
    gw_a.publish(readings_topic(site, "gw-a"), b"own")
    gw_a.publish(status_topic(site, "gw-a"), b'{"state":"online","ts":0}', retain=True)
    got = watcher.wait_for(2, timeout=5)
    time.sleep(0.5)  # let anything that should not arrive have its chance
    topics = {m.topic for m in watcher.messages}
    assert topics == {readings_topic(site, "gw-a"), status_topic(site, "gw-a")}, got
    gw_a.close()
    watcher.close()


def test_services_may_not_publish_readings(services: LocalServices) -> None:
    watcher = _client(services, "operator", "-svc")
    watcher.connect()
    watcher.subscribe("vigil/v1/#")
    ingest = _client(services, "ingest")
    ingest.connect()
    ingest.publish(readings_topic("north", "gw-a"), b"not a gateway")
    time.sleep(1)
    assert all(m.payload != b"not a gateway" for m in watcher.messages)
    ingest.close()
    watcher.close()
