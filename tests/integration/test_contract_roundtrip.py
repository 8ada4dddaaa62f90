"""The foundation's end-to-end proof: contract messages published by a
gateway to the real Mosquitto, received on the platform's shared
subscription, written to the real InfluxDB 2.7 with influxdb-client, and
read back with the registry's tags."""

from __future__ import annotations

import time

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from ingest.points import PointWriter
from tests.support.mqtt import MqttTestClient
from vigil.contract import Reading, decode_envelope, encode_readings, parse_topic, readings_topic
from vigil.infra.local import LocalServices
from vigil.registry import Registry

pytestmark = pytest.mark.integration


def test_contract_messages_land_in_influxdb_with_registry_tags(services: LocalServices, small_registry: Registry) -> None:
    settings = services.settings
    base = (time.time_ns() // 1_000_000 - 60_000) * 1_000_000  # a minute ago, whole ms
    batches = {
        "gw-a": [
            Reading("bb-fridge-1-temp", "temperature", 4.2, base),
            Reading("bb-fridge-1-temp", "door_open", False, base),
            Reading("vac-fridge-1-temp", "temperature", 41.0, base + 1_000_000_000, unit="degF"),  # 5 °C
            Reading("uv-or-1-s", "intensity", 0.95, base, unit="W/m2"),  # 95 μW/cm²
        ],
        "gw-b": [
            Reading("o2-b1-p", "pressure", 58.0, base, unit="psi"),  # 399.9 kPa
            Reading("elec-main-m", "energy", 1_234_500.0, base, unit="Wh"),
            Reading("water-main-m", "flow", 2.5, base),
        ],
    }

    platform = MqttTestClient(settings.mqtt_endpoint("ingest"), client_id="test-roundtrip-ingest")
    platform.connect()
    platform.subscribe("$share/ingest/vigil/v1/+/+/readings")
    for seq, (gw, readings) in enumerate(batches.items(), start=1):
        gateway = MqttTestClient(settings.mqtt_endpoint(gw), client_id=f"test-roundtrip-{gw}")
        gateway.connect()
        gateway.publish(readings_topic("north", gw), encode_readings(gw, seq, time.time_ns(), readings))
        gateway.close()
    received = platform.wait_for(2)
    platform.close()
    assert len(received) == 2

    writer = PointWriter(small_registry)
    lines: list[str] = []
    for msg in received:
        topic = parse_topic(msg.topic)
        assert topic is not None
        judged = writer.judge_message(decode_envelope(msg.payload), topic, time.time_ns())
        assert judged.rejected == []
        lines += judged.lines
    ingest = settings.influx_endpoint("ingest")
    with InfluxDBClient(url=ingest.url, token=ingest.token.get_secret_value(), org=ingest.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(ingest.bucket, record=lines)

    reader = settings.influx_endpoint("reader")
    query = f'''
        from(bucket: "{reader.bucket}")
          |> range(start: -10m)
          |> filter(fn: (r) => r.site == "north")
    '''
    with InfluxDBClient(url=reader.url, token=reader.token.get_secret_value(), org=reader.org) as client:
        records = [r for table in client.query_api().query(query) for r in table.records]
    got = {(r.values["sensor"], r.get_field()): r for r in records}
    assert len(got) == 7

    temp = got[("bb-fridge-1-temp", "temperature")]
    assert temp.get_measurement() == "cold_chain"
    assert temp.get_value() == 4.2
    assert {k: temp.values[k] for k in ("site", "building", "floor", "room", "asset", "sensor", "gateway")} == {
        "site": "north", "building": "main", "floor": "b1", "room": "blood-bank",
        "asset": "bb-fridge-1", "sensor": "bb-fridge-1-temp", "gateway": "gw-a",
    }
    assert int(temp.get_time().timestamp() * 1000) == base // 1_000_000  # the point's time is the reading's ts
    assert got[("bb-fridge-1-temp", "door_open")].get_value() is False
    assert got[("vac-fridge-1-temp", "temperature")].get_value() == pytest.approx(5.0)
    assert got[("uv-or-1-s", "intensity")].get_value() == pytest.approx(95.0)
    assert got[("uv-or-1-s", "intensity")].get_measurement() == "uv_lamp"
    assert got[("o2-b1-p", "pressure")].get_value() == pytest.approx(399.9, abs=0.1)
    assert got[("o2-b1-p", "pressure")].values["room"] == "plant"
    assert got[("elec-main-m", "energy")].get_value() == pytest.approx(1234.5)
    assert got[("water-main-m", "flow")].values["gateway"] == "gw-b"


def test_redelivered_readings_overwrite_the_same_points(services: LocalServices, small_registry: Registry) -> None:
    """At-least-once delivery yields exactly one point per reading."""
    settings = services.settings
    ts = (time.time_ns() // 1_000_000 - 30_000) * 1_000_000
    msg = encode_readings("gw-b", 99, time.time_ns(), [Reading("water-main-m", "volume", 1000.0 + i, ts + i * 10**9) for i in range(5)])
    topic = parse_topic(readings_topic("north", "gw-b"))
    assert topic is not None
    lines = PointWriter(small_registry).judge_message(decode_envelope(msg), topic, time.time_ns()).lines
    ingest = settings.influx_endpoint("ingest")
    with InfluxDBClient(url=ingest.url, token=ingest.token.get_secret_value(), org=ingest.org) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        for _ in range(3):
            write.write(ingest.bucket, record=lines)
        tables = client.query_api().query(f'''
            from(bucket: "{ingest.bucket}") |> range(start: -10m)
              |> filter(fn: (r) => r.sensor == "water-main-m" and r._field == "volume") |> count()''')
    assert [r.get_value() for t in tables for r in t.records] == [5]
