"""Late readings' roll-ups: which windows are redone, and, against the real
ingest worker and InfluxDB, that a reading delivered 90 minutes late ends up
in the minute and hour buckets of its own gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from ingest.catchup import LateLedger, Span, catch_up, hours, spans
from ingest.points import PointWriter
from tests.ingest.conftest import RunningWorker
from tests.support.mqtt import MqttTestClient, publish_all
from vigil.contract import Reading, encode_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry


def test_consecutive_minutes_of_a_gateway_merge_into_spans() -> None:
    pairs = [("gw-a", 10), ("gw-a", 11), ("gw-a", 13), ("gw-b", 11), ("gw-a", 12), ("gw-a", 11)]
    assert spans(pairs) == [Span("gw-a", 10, 14), Span("gw-b", 11, 12)]


def test_only_ended_hours_are_rolled_up_again() -> None:
    # minutes 59-61 touch hours 0 and 1; at minute 125, hours 0 and 1 have ended, hour 2 has not
    assert hours([Span("gw-a", 59, 62), Span("gw-a", 121, 122)], before_minute=125) == [Span("gw-a", 0, 120)]
    assert hours([Span("gw-a", 59, 62)], before_minute=119) == [Span("gw-a", 0, 60)]


def test_the_ledger_hands_out_settled_minutes_once(tmp_path: Path) -> None:
    ledger = LateLedger(tmp_path / "late.db")
    ledger.record([("gw-a", 100), ("gw-a", 101), ("gw-b", 200)])
    ledger.record([("gw-a", 100)])
    assert ledger.take(before_minute=150) == [("gw-a", 100), ("gw-a", 101)]
    assert ledger.take(before_minute=150) == []
    assert ledger.pending() == [("gw-b", 200)]
    ledger.close()


@pytest.mark.integration
def test_a_reading_delivered_late_is_rolled_up_into_its_minute_and_hour(services: LocalServices, small_registry: Registry,
                                                                        start_worker: Callable[..., RunningWorker]) -> None:
    worker = start_worker(catchup_every_s=0)  # the catch-up is run by hand below
    # 90 minutes ago, in whole minutes: the regular tasks have long passed it,
    # and its hour has ended. Offset by a random second so reruns do not collide.
    minute = int(time.time() // 60) - 90
    base_ms = minute * 60_000 + (int(time.time() * 1000) % 50) * 1000
    values = [3.0, 5.0, 7.0]
    readings = [Reading("bb-fridge-1-temp", "temperature", v, (base_ms + i * 1000) * 1_000_000) for i, v in enumerate(values)]
    gw = small_registry.gateways["gw-a"]
    client = MqttTestClient(services.settings.mqtt_endpoint("gw-a"), client_id=f"test-late-{minute}")
    client.connect()
    publish_all(client, [(gw.readings_topic, encode_readings("gw-a", 1, time.time_ns(), readings))])
    client.close()
    deadline = time.monotonic() + 20
    while worker.worker.metrics.written._value.get() < len(readings) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ("gw-a", minute) in worker.worker.late.pending()
    # Another gateway's reading in the same minute, written straight to the raw
    # bucket (not late by ingest's account): a catch-up for gw-a leaves it be.
    ingest = services.settings.influx_endpoint("ingest")
    with InfluxDBClient(url=ingest.url, token=ingest.token.get_secret_value(), org=ingest.org) as influx:
        influx.write_api(write_options=SYNCHRONOUS).write(
            ingest.bucket, record=PointWriter(small_registry).judge(Reading("water-main-m", "flow", 1.0, base_ms * 1_000_000), "gw-b", time.time_ns()))

    done = catch_up(services.settings.influx_endpoint("ingest"), worker.worker.late)
    assert Span("gw-a", minute, minute + 1) in done
    assert ("gw-a", minute) not in worker.worker.late.pending()

    ep = services.settings.influx_endpoint("reader")
    start, stop = minute * 60, (minute + 1) * 60
    hour_end = (minute // 60 + 1) * 3600
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as influx:
        def stats(bucket: str, at_s: int) -> dict[str, float]:
            tables = influx.query_api().query(f'''
                from(bucket: "{bucket}") |> range(start: time(v: {(at_s - 1) * 10**9}), stop: time(v: {(at_s + 1) * 10**9}))
                  |> filter(fn: (r) => r.sensor == "bb-fridge-1-temp" and r._field == "temperature")''')
            return {r.values["stat"]: r.get_value() for t in tables for r in t.records}

        assert stats("readings_1m", stop) == {"min": 3.0, "mean": 5.0, "max": 7.0}  # a minute point is stamped at its end
        assert stats("readings_1h", hour_end) == {"min": 3.0, "mean": 5.0, "max": 7.0}
        other = influx.query_api().query(f'''
            from(bucket: "readings_1m") |> range(start: time(v: {start * 10**9}), stop: time(v: {(stop + 1) * 10**9}))
              |> filter(fn: (r) => r.gateway != "gw-a") |> count()''')
        assert [r for t in other for r in t.records] == []  # only the late gateway's series were rolled up
