"""Helpers for the report tests: their own InfluxDB buckets (`reports_tests`
and its 1-minute and 1-hour roll-ups, created on first use, with no
retention, so days older than the raw retention can be written too) and
readings written as ingest writes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from ingest.points import PointWriter
from vigil.contract import Reading
from vigil.infra.downsampling import hour_flux, minute_flux
from vigil.infra.local import LocalServices
from vigil.registry import Registry
from vigil.settings import InfluxEndpoint

REPORT_BUCKET = "reports_tests"
REPORT_ROLLUPS = ("reports_tests_1m", "reports_tests_1h")


def report_influx(services: LocalServices) -> InfluxEndpoint:
    """The session's InfluxDB with the reports' own bucket (operator token:
    the reader token is scoped to the platform's buckets)."""
    op = services.settings.influx_endpoint("operator")
    with InfluxDBClient(url=op.url, token=op.token.get_secret_value(), org=op.org) as client:
        buckets = client.buckets_api()
        for name in (REPORT_BUCKET, *REPORT_ROLLUPS):
            if buckets.find_bucket_by_name(name) is None:
                buckets.create_bucket(bucket_name=name, org=op.org)
    return replace(op, bucket=REPORT_BUCKET)


def write_readings(services: LocalServices, registry: Registry, readings: list[tuple[str, str, Any, datetime]]) -> None:
    """Write (sensor, metric, value, at) as ingest would (ingest's PointWriter
    judges each one, as of just after its own time, so old days pass too)."""
    writer = PointWriter(registry)
    lines = []
    for sensor, metric, value, at in readings:
        ts_ns = int(at.timestamp() * 1e9)
        lines.append(writer.judge(Reading(sensor=sensor, metric=metric, value=value, ts_ns=ts_ns),
                                  registry.sensors[sensor].gateway, ts_ns + 10**9))
    ep = report_influx(services)
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket=ep.bucket, org=ep.org, record=lines)


def roll_up(services: LocalServices, start: datetime, stop: datetime) -> None:
    """Downsample the reports' raw readings of [start, stop) into their
    roll-up buckets with the same Flux the InfluxDB tasks run."""
    ep = report_influx(services)
    span = f"time(v: {int(start.timestamp())}000000000)", f"time(v: {int(stop.timestamp())}000000000)"
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=60_000) as client:
        client.query_api().query(minute_flux(*span, raw=REPORT_BUCKET, into=REPORT_ROLLUPS[0]))
        client.query_api().query(hour_flux(*span, minute=REPORT_ROLLUPS[0], into=REPORT_ROLLUPS[1]))
