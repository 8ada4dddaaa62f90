"""Helpers for the API tests: an on-call configuration with secrets in it,
alerts to act on, and readings written to the real InfluxDB."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from alerts.model import AlertState, RuleKind, Transition
from ingest.points import PointWriter
from vigil.contract import Reading
from vigil.infra.downsampling import hour_flux, minute_flux
from vigil.infra.local import LocalServices
from vigil.profiles import Severity
from vigil.registry import Registry
from vigil.settings import InfluxEndpoint

API_BUCKET = "api_tests"
# The API tests' own roll-up buckets, filled by the real downsampling Flux (`roll_up`).
API_ROLLUPS = ("api_tests_1m", "api_tests_1h")

# A contact point URL with a secret in it: no response may ever contain it.
SECRET_HOOK = "json://hooks.hospital.test/s3cr3t-hook-token"

ONCALL = {
    "contact_points": {"ops-hook": SECRET_HOOK, "wang-mail": "mailto://wang:pa55word@mail.hospital.test"},
    "people": {"wang": {"name": "Wang Li", "contact_points": ["wang-mail"]}},
    "schedules": {"facilities": {"timezone": "Asia/Shanghai", "start": "2026-11-23", "rotation": ["wang"]}},
    "escalation_policies": {
        "critical": {"tiers": [{"notify": [{"schedule": "facilities"}], "escalate_after_minutes": 15},
                               {"notify": [{"contact_point": "ops-hook"}], "escalate_after_minutes": 15}]},
    },
    "default_policy": "critical",
}


def firing(sensor: str = "vac-fridge-1-temp", asset: str = "vac-fridge-1", metric: str = "temperature",
           rule: str = "threshold-api") -> Transition:
    """A critical threshold alert firing now on `sensor`."""
    now = datetime.now(UTC)
    return Transition(rule_id=f"{sensor}/{metric}/{rule}", rule_kind=RuleKind.THRESHOLD, sensor=sensor, asset=asset,
                      metric=metric, state=AlertState.FIRING, at_ns=time.time_ns(), severity=Severity.CRITICAL,
                      summary=f"{asset} {metric} above 8.0 °C for 15 min", value=9.2, limit="> 8.0 °C for 15 min",
                      since_ns=int((now - timedelta(minutes=15)).timestamp() * 1e9))


def api_influx(services: LocalServices) -> InfluxEndpoint:
    """The session's InfluxDB, but the API tests' own bucket (created on first
    use): readings written here cannot disturb the exact point counts of the
    ingest and contract tests in the shared `readings` bucket, nor theirs ours.
    The operator token, because the ingest and reader tokens are scoped to
    the platform's buckets."""
    op = services.settings.influx_endpoint("operator")
    with InfluxDBClient(url=op.url, token=op.token.get_secret_value(), org=op.org) as client:
        buckets = client.buckets_api()
        for name in (API_BUCKET, *API_ROLLUPS):
            if buckets.find_bucket_by_name(name) is None:
                buckets.create_bucket(bucket_name=name, org=op.org)
    return replace(op, bucket=API_BUCKET)


def roll_up(services: LocalServices, start: datetime, stop: datetime) -> None:
    """Downsample the API tests' raw readings of [start, stop) into their
    1-minute and 1-hour buckets with the same Flux the InfluxDB tasks run."""
    ep = api_influx(services)
    span = f"time(v: {int(start.timestamp())}000000000)", f"time(v: {int(stop.timestamp())}000000000)"
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=60_000) as client:
        client.query_api().query(minute_flux(*span, raw=API_BUCKET, into=API_ROLLUPS[0]))
        client.query_api().query(hour_flux(*span, minute=API_ROLLUPS[0], into=API_ROLLUPS[1]))


def write_readings(services: LocalServices, registry: Registry, readings: list[tuple[str, str, Any, datetime]]) -> None:
    """Write (sensor, metric, value, at) as ingest would, judged by ingest's
    PointWriter, into the API tests' bucket."""
    writer = PointWriter(registry)
    now_ns = time.time_ns()
    lines = [writer.judge(Reading(sensor=s, metric=m, value=v, ts_ns=int(at.timestamp() * 1e9)), registry.sensors[s].gateway,
                          now_ns) for s, m, v, at in readings]
    ep = api_influx(services)
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket=ep.bucket, org=ep.org, record=lines)
