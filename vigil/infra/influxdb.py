"""A private InfluxDB OSS 2.7 server: found on PATH or in the build cache
(scripts/build-influxdb.sh), started on loopback, onboarded through its setup
API, with Vigil's buckets and least-privilege tokens."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
from influxdb_client import BucketRetentionRules, InfluxDBClient, Permission, PermissionResource
from influxdb_client.domain.authorization import Authorization

from vigil.infra.process import ManagedProcess, ServiceError, port_open

INFLUXDB_VERSION = os.environ.get("VIGIL_INFLUXDB_VERSION", "2.7.12")
DAY = 86_400


@dataclass(frozen=True)
class BucketSpec:
    name: str
    retention_s: int
    purpose: str


# The bucket layout (docs/contract.md): raw readings for 30 days, downsampled
# series for two years, rejected readings for an operator to inspect.
BUCKETS = (
    BucketSpec("readings", 30 * DAY, "raw readings, one point per reading"),
    BucketSpec("readings_1m", 730 * DAY, "1-minute min/mean/max, counters as increases"),
    BucketSpec("readings_1h", 730 * DAY, "1-hour min/mean/max, counters as increases"),
    BucketSpec("deadletter", 30 * DAY, "rejected readings with their reason"),
    BucketSpec("platform", 30 * DAY, "the services' own telemetry: gateways, ingest, alerts, work orders, notifications"),
)


def cache_dir() -> Path:
    root = os.environ.get("VIGIL_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "vigil")
    return Path(root)


def influxd_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"InfluxDB v?(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None


def find_influxd() -> str:
    """An influxd 2.x: $VIGIL_INFLUXD, then PATH, then the build cache."""
    candidates = [os.environ.get("VIGIL_INFLUXD"), shutil.which("influxd"),
                  str(cache_dir() / f"influxdb-{INFLUXDB_VERSION}" / "influxd")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            version = influxd_version(candidate)
            if version and version.startswith("2."):
                return candidate
    raise ServiceError("no InfluxDB 2.x found; run `make setup` (it builds influxd from its Go module once per machine)")


class InfluxDB:
    """A server under `workdir`, listening on 127.0.0.1:`port`."""

    def __init__(self, workdir: Path, port: int, binary: str | None = None):
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        argv = [
            binary or find_influxd(),
            "--bolt-path", str(workdir / "influxd.bolt"),
            "--engine-path", str(workdir / "engine"),
            "--sqlite-path", str(workdir / "influxd.sqlite"),
            "--http-bind-address", f"127.0.0.1:{port}",
            "--reporting-disabled",
            "--ui-disabled",
            "--log-level", "warn",
        ]
        self.process = ManagedProcess("influxd", argv, workdir)

    def start(self, timeout: float = 60) -> None:
        if self.process.running():
            return
        if port_open("127.0.0.1", self.port):
            raise ServiceError(f"port {self.port} is already in use by another program; set VIGIL_INFLUX_PORT")
        self.process.start()
        self.process.wait_until(self.healthy, timeout, "healthy")

    def stop(self) -> None:
        self.process.stop()

    def healthy(self) -> bool:
        return server_healthy(self.url)


def server_healthy(url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/health", timeout=2).json().get("status") == "pass")
    except (httpx.HTTPError, ValueError):
        return False


@dataclass(frozen=True)
class Onboarding:
    org: str
    bucket: str
    operator_token: str
    ingest_token: str
    reader_token: str
    alerts_token: str


def onboard(url: str, *, org: str, username: str, password: str, operator_token: str,
            ingest_token: str | None = None, reader_token: str | None = None, alerts_token: str | None = None) -> Onboarding:
    """Set the server up once (org, operator, buckets, tokens); on a server set
    up before, reuse what exists. Tokens created earlier are passed back in."""
    allowed = httpx.get(f"{url}/api/v2/setup", timeout=10).json().get("allowed")
    if allowed:
        resp = httpx.post(f"{url}/api/v2/setup", timeout=30, json={
            "username": username, "password": password, "org": org, "bucket": BUCKETS[0].name,
            "retentionPeriodSeconds": BUCKETS[0].retention_s, "token": operator_token,
        })
        if resp.status_code != 201:
            raise ServiceError(f"InfluxDB setup failed: HTTP {resp.status_code} {resp.json().get('message', '')}")
    with InfluxDBClient(url=url, token=operator_token, org=org, timeout=30_000) as client:
        org_id = next(o.id for o in client.organizations_api().find_organizations(org=org))
        buckets_api = client.buckets_api()
        bucket_ids = {}
        for spec in BUCKETS:
            bucket = buckets_api.find_bucket_by_name(spec.name)
            if bucket is None:
                bucket = buckets_api.create_bucket(
                    bucket_name=spec.name, org=org, description=spec.purpose,
                    retention_rules=BucketRetentionRules(type="expire", every_seconds=spec.retention_s))
            bucket_ids[spec.name] = bucket.id

        auth_api = client.authorizations_api()
        existing = {a.token: a for a in auth_api.find_authorizations(org_id=org_id)}

        def covers(auth: Authorization, actions: tuple[str, ...], buckets: list[str]) -> bool:
            granted = {(p.action, p.resource.id) for p in auth.permissions or () if p.resource.type == "buckets"}
            return all((a, bucket_ids[b]) in granted for b in buckets for a in actions)

        def token(description: str, actions: tuple[str, ...], known: str | None, only: str | None = None) -> str:
            buckets = [only] if only else list(bucket_ids)
            if known and known in existing:
                if covers(existing[known], actions, buckets):
                    return known
                # A bucket added since (e.g. `platform`): InfluxDB cannot widen a token, so replace it.
                auth_api.delete_authorization(existing[known])
            perms = [Permission(action=a, resource=PermissionResource(type="buckets", id=bucket_ids[b], org_id=org_id))
                     for b in buckets for a in actions]
            created = auth_api.create_authorization(authorization=Authorization(
                org_id=org_id, permissions=perms, description=description))
            return str(created.token)

        return Onboarding(
            org=org, bucket=BUCKETS[0].name, operator_token=operator_token,
            ingest_token=token("vigil ingest: read and write Vigil buckets", ("read", "write"), ingest_token),
            reader_token=token("vigil reader: read Vigil buckets", ("read",), reader_token),
            # The alerts service writes only its telemetry for the dashboards.
            alerts_token=token("vigil alerts: write the platform bucket", ("write",), alerts_token, only="platform"),
        )
