"""Ingest's own telemetry for the platform-health dashboard, written to the
`platform` bucket every few seconds, off the hot path (a thread and an MQTT
client of its own; the worker is only read, through its Prometheus registry).

- `gateway` points: each gateway's retained status (`vigil/v1/<site>/<gw>/status`):
  `online` (1/0), `backlog` and `dropped` (the gateway's store-and-forward
  buffer), `status_age_s`; tags `gateway`, `site`, `building`. The latest
  status is written again on every round, so a gateway that went quiet still
  has a current point, and its growing `status_age_s` shows it.
- `ingest` points: the worker's `readings_written` and `readings_rejected`
  (counters since the process started), `lag_s` (now minus `sent_at` of the
  newest message written, the worker's own measure) and `connected`; tag `worker`.

`status_point` and `ingest_point` are pure; `IngestTelemetry` does the I/O.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry

from vigil.contract import TOPIC_PREFIX, ContractError, GatewayState, decode_status, parse_topic
from vigil.mqtt import authenticate
from vigil.registry import Registry
from vigil.settings import InfluxEndpoint, MqttEndpoint

log = logging.getLogger("vigil.ingest.telemetry")

PLATFORM_BUCKET = "platform"
DEFAULT_EVERY_S = 10.0
UNKNOWN = "-"  # the tag value of a place the registry does not know
STATUS_TOPICS = f"{TOPIC_PREFIX}/+/+/status"


@dataclass(frozen=True)
class GatewayReport:
    """What one gateway last said about itself."""

    gateway: str
    site: str
    online: bool
    ts_ns: int
    backlog: int | None
    dropped: int | None


def gateway_buildings(registry: Registry) -> dict[str, str]:
    """Each gateway's building: the one most of its sensors are in."""
    tallies: dict[str, Tally[str]] = {}
    for sensor in registry.sensors.values():
        tallies.setdefault(sensor.gateway, Tally())[sensor.building] += 1
    return {gw: min(t.items(), key=lambda kv: (-kv[1], kv[0]))[0] for gw, t in tallies.items()}


def _count(value: object) -> int | None:
    # Extra status fields are informative (docs/contract.md): anything but a
    # non-negative integer is left out rather than written as a wrong number.
    return value if type(value) is int and value >= 0 else None


def parse_status(topic: str, payload: bytes | bytearray) -> GatewayReport | None:
    """A gateway's status message, or None if it is not one (wrong topic or not the contract)."""
    address = parse_topic(topic)
    if address is None or address.channel != "status":
        return None
    try:
        status = decode_status(payload)
    except ContractError as exc:
        log.debug("ignoring a status on %s: %s", topic, exc)
        return None
    return GatewayReport(address.gateway, address.site, status.state is GatewayState.ONLINE, status.ts_ns,
                         _count(status.extra.get("backlog")), _count(status.extra.get("dropped")))


def status_point(report: GatewayReport, buildings: dict[str, str], now_ns: int) -> Point:
    """The `gateway` point for `report`, stamped `now_ns`."""
    point = Point("gateway")
    point.time(now_ns, WritePrecision.NS)
    point.tag("gateway", report.gateway).tag("site", report.site).tag("building", buildings.get(report.gateway, UNKNOWN))
    point.field("online", 1 if report.online else 0).field("status_age_s", max(0.0, (now_ns - report.ts_ns) / 1e9))
    if report.backlog is not None:
        point.field("backlog", report.backlog)
    if report.dropped is not None:
        point.field("dropped", report.dropped)
    return point


def _sum(metrics: CollectorRegistry, sample: str) -> float:
    """The sum of `sample` over all its label sets (0 when it has none yet)."""
    return sum(s.value for m in metrics.collect() for s in m.samples if s.name == sample)


def ingest_point(metrics: CollectorRegistry, worker: int, now_ns: int) -> Point:
    """The `ingest` point from an ingest worker's Prometheus registry (ingest.worker.IngestMetrics)."""
    point = Point("ingest")
    point.time(now_ns, WritePrecision.NS)
    point.tag("worker", str(worker))
    point.field("readings_written", int(_sum(metrics, "vigil_ingest_readings_written_total")))
    point.field("readings_rejected", int(_sum(metrics, "vigil_ingest_readings_rejected_total")))
    point.field("lag_s", float(_sum(metrics, "vigil_ingest_lag_seconds")))
    point.field("connected", int(_sum(metrics, "vigil_ingest_connected")))
    return point


class IngestTelemetry:
    """Every `every_s`, writes the `ingest` point of this worker and, if
    `watch_gateways`, a `gateway` point per gateway that has a status."""

    def __init__(self, registry: Registry, mqtt_endpoint: MqttEndpoint, influx: InfluxEndpoint, metrics: CollectorRegistry, *,
                 worker: int = 0, every_s: float = DEFAULT_EVERY_S, watch_gateways: bool = True,
                 client_id: str | None = None, bucket: str = PLATFORM_BUCKET, clock_ns: Callable[[], int] = time.time_ns):
        if every_s <= 0:
            raise ValueError(f"the telemetry interval must be positive, not {every_s!r} s")
        self.buildings = gateway_buildings(registry)
        self.mqtt_endpoint = mqtt_endpoint
        self.influx = influx
        self.metrics = metrics
        self.worker = worker
        self.every_s = every_s
        self.watch_gateways = watch_gateways
        self.client_id = client_id or f"vigil-ingest-telemetry-{worker}"
        self.bucket = bucket
        self.clock_ns = clock_ns
        self.subscribed = threading.Event()
        self._reports: dict[str, GatewayReport] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- the gateways' statuses ---------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode,
                    props: Properties | None) -> None:
        if rc.is_failure:
            log.error("the broker refused the telemetry client: %s", rc)
            return
        client.subscribe(STATUS_TOPICS, qos=1)  # retained: every gateway's last status arrives at once

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, rcs: list[ReasonCode], props: Properties | None) -> None:
        if all(not rc.is_failure for rc in rcs):
            self.subscribed.set()
        else:
            log.error("the broker refused the subscription to %s: %s", STATUS_TOPICS, rcs)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if not message.payload:  # a cleared retained status
            return
        report = parse_status(message.topic, message.payload)
        if report is not None:
            with self._lock:
                self._reports[report.gateway] = report

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311, clean_session=True)
        authenticate(client, self.mqtt_endpoint)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    # -- the rounds ----------------------------------------------------------

    def reports(self) -> dict[str, GatewayReport]:
        """The latest status of each gateway that has reported."""
        with self._lock:
            return dict(self._reports)

    def points(self, now_ns: int) -> list[Point]:
        """What one round writes."""
        with self._lock:
            reports = list(self._reports.values())
        return [ingest_point(self.metrics, self.worker, now_ns)] + [status_point(r, self.buildings, now_ns) for r in reports]

    def run(self, stop: threading.Event) -> None:
        """Write a round every `every_s` until `stop`; a failed write is logged and the next round tries again."""
        client = self._client() if self.watch_gateways else None
        if client is not None:
            client.connect_async(self.mqtt_endpoint.host, self.mqtt_endpoint.port, keepalive=30)
            client.loop_start()
        ep = self.influx
        try:
            with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=10_000) as influx:
                write = influx.write_api(write_options=SYNCHRONOUS)
                while not stop.wait(self.every_s):
                    try:
                        write.write(bucket=self.bucket, record=self.points(self.clock_ns()))
                    except Exception as exc:  # telemetry must never stop ingest; only the error's type and HTTP status are logged: never the token
                        log.warning("writing ingest telemetry failed: %s %s", type(exc).__name__, getattr(exc, "status", "") or "")
        finally:
            if client is not None:
                client.disconnect()
                client.loop_stop()

    def start(self, stop: threading.Event) -> None:
        """Run on a daemon thread of its own."""
        self._thread = threading.Thread(target=self.run, args=(stop,), name="ingest-telemetry", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
