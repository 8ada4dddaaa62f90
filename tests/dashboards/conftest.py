"""Fixtures for the dashboard tests: the test facility, its dashboards, and a
day of its simulated readings in the real test InfluxDB, downsampled."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from pydantic import SecretStr

from alerts.model import AlertState, RuleKind, Transition
from alerts.notify import Dispatcher
from alerts.notify.contact_points import notifiers_for
from alerts.store import open_store
from alerts.telemetry import AlertsTelemetry, sla_state
from dashboards.build import dashboards_for
from dashboards.model import Dashboard
from ingest.deadletter import DeadLetter
from ingest.points import PointWriter
from ingest.telemetry import IngestTelemetry
from ingest.worker import IngestMetrics
from simulators import Simulation
from tests.alerts.store.store_kit import CONSOLE, FakeClock, oncall_config
from tests.dashboards.grafana_kit import NS, TimeRange
from tests.support.mqtt import MqttTestClient
from vigil.contract import GatewayState, Reason, encode_status
from vigil.infra.downsampling import hour_flux, minute_flux
from vigil.infra.local import LocalServices
from vigil.infra.mosquitto import Mosquitto
from vigil.infra.process import free_port
from vigil.profiles import Severity
from vigil.registry import Registry, load_registry
from vigil.settings import MqttEndpoint

T = TypeVar("T")

EVERY_PROFILE = Path(__file__).parent / "data" / "every-profile.yaml"
HOUR_NS = 3600 * NS
SEED = 20261123
# The faults the behavioural tests look for: a blood fridge warming for its last
# three hours, and a sub-meter leaking all day.
COMPRESSOR_FAILURE = ("blood-fridge-compressor-failure", "bb-fridge-1", 3 * HOUR_NS)
NIGHT_LEAK = ("water-night-leak", "water-lab-sub")
DEAD_LETTERS = {Reason.UNKNOWN_SENSOR: 3, Reason.IMPOSSIBLE_VALUE: 2, Reason.BAD_UNIT: 1}


@pytest.fixture(scope="session")
def facility() -> Registry:
    return load_registry(EVERY_PROFILE)


@pytest.fixture(scope="session")
def facility_dashboards(facility: Registry) -> tuple[Dashboard, ...]:
    return dashboards_for(facility)


@dataclass(frozen=True)
class FacilityData:
    """The readings written: `day` is the 24 h they cover."""

    day: TimeRange
    lines: int
    write_s: float
    downsample_s: float


def influx(services: LocalServices, role: str) -> InfluxDBClient:
    ep = services.settings.influx_endpoint(role)
    return InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=60_000)


@pytest.fixture(scope="session")
def facility_data(services: LocalServices, facility: Registry) -> Iterator[FacilityData]:
    """The 24 h ending 6 h ago (whole hours): no other test writes there (the
    ingest tests use the last three hours)."""
    stop = (time.time_ns() // HOUR_NS - 6) * HOUR_NS
    # Whole local nights (01:00-04:00, what the leak panel judges) must not be cut by
    # the day's ends: a day ending in the small hours ends at local midnight instead.
    local_hour = datetime.fromtimestamp(stop // NS, ZoneInfo(facility.config.sites[0].timezone)).hour
    if 1 <= local_hour <= 4:
        stop -= local_hour * HOUR_NS
    day = TimeRange(stop - 24 * HOUR_NS, stop)
    sim = Simulation(facility, SEED, day.start_ns)
    scenario, asset, before_end = COMPRESSOR_FAILURE
    sim.inject(scenario, asset, at_ns=stop - before_end)
    sim.inject(NIGHT_LEAK[0], NIGHT_LEAK[1], at_ns=day.start_ns)
    writer = PointWriter(facility)
    now = time.time_ns()
    lines = [writer.judge(r, facility.sensors[r.sensor].gateway, now) for r in sim.readings_between(day.start_ns, day.stop_ns)]
    dead = [DeadLetter(reason, "a test dead letter", "vigil/v1/east/gw-lab/readings", "gw-lab", "east", {"sensor": "x"}).line(
            day.start_ns + (i * 7919 + n) * NS) for i, (reason, count) in enumerate(DEAD_LETTERS.items()) for n in range(count)]
    t0 = time.perf_counter()
    with influx(services, "ingest") as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        for i in range(0, len(lines), 20_000):
            write.write(bucket="readings", record=lines[i:i + 20_000])
        write.write(bucket="deadletter", record=dead)
        t1 = time.perf_counter()
        # What the tasks do every minute and every hour, done here for the whole day at once.
        # The day in six-hour slices side by side, as InfluxDB would run many task runs.
        query = client.query_api()
        slices = [(day.start_ns + i * 6 * HOUR_NS, day.start_ns + (i + 1) * 6 * HOUR_NS) for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda s: query.query(minute_flux(f"time(v: {s[0]})", f"time(v: {s[1]})")), slices))
            list(pool.map(lambda s: query.query(hour_flux(f"time(v: {s[0]})", f"time(v: {s[1]})")), slices))
    yield FacilityData(day, len(lines), t1 - t0, time.perf_counter() - t1)


# --- Platform telemetry ---------------------------------------------------------------------------
# Written by the services' own telemetry writers (ingest.telemetry, alerts.telemetry), driven
# through the last hours of the test day by a clock that steps once per round.

MINUTE_NS = 60 * NS


ENGINE_LAG_S = 0.3
ENGINE_LAG_SURGE_S = 95.0


class Rounds(Generic[T]):
    """A telemetry clock: one value per round, `before(value)` first; `stop` is set with the last."""

    def __init__(self, values: list[T], stop: threading.Event, before: Callable[[T], None]) -> None:
        self._values, self._stop, self._before, self._i = values, stop, before, 0

    def __call__(self) -> T:
        value = self._values[min(self._i, len(self._values) - 1)]
        self._i += 1
        if self._i >= len(self._values):
            self._stop.set()
        self._before(value)
        return value


@dataclass(frozen=True)
class PlatformData:
    """What the telemetry said at the end of the day."""

    alerts_by_severity: dict[str, int]
    orders_by_sla: dict[str, int]
    backlog: dict[str, int]
    dropped_in_day: dict[str, int]
    failed_after_first_round: int


def _transition(sensor: str, asset: str, metric: str, severity: Severity, at: datetime, state: AlertState = AlertState.FIRING,
                work_order: str | None = None) -> Transition:
    at_ns = int(at.timestamp()) * NS
    return Transition(f"{sensor}/{metric}/threshold", RuleKind.THRESHOLD, sensor, asset, metric, state, at_ns, severity,
                      f"{asset} {metric} out of range", since_ns=at_ns, work_order=work_order)


def _alerts_telemetry(services: LocalServices, facility: Registry, day: TimeRange, workdir: Path) -> tuple[dict[str, int], int]:
    """An alert store through the last three hours of the day: the compressor failure (critical, with an
    emergency work order left unanswered), a voltage alert and a leak order (urgent, due soon at the end), a
    UV lamp order (within its SLA), and pages to contact points that refuse them. The rules engine has judged
    nothing at the first round, then keeps up but for one round an hour before the end, 95 s behind."""
    end = datetime.fromtimestamp(day.stop_ns // NS, UTC)
    clock = FakeClock(end - timedelta(hours=3))
    oncall = oncall_config()
    store = open_store(f"sqlite:///{workdir / 'alerts.db'}", registry=facility, oncall=oncall, clock=clock, console_url=CONSOLE)
    dispatcher = Dispatcher(store, notifiers_for(oncall.contact_points, timeout_s=2), clock=clock)
    failed: list[int] = []
    engine_lag = [math.nan]

    def before(at: datetime) -> None:
        clock.set(at)
        engine_lag[0] = math.nan if at == end - timedelta(hours=3) else ENGINE_LAG_SURGE_S if at == end - timedelta(hours=1) \
            else ENGINE_LAG_S
        if at == end - timedelta(hours=3):
            dispatcher.deliver(store.apply(_transition("bb-fridge-1-s", "bb-fridge-1", "temperature", Severity.CRITICAL, at,
                                                       work_order="service_fridge")))
        elif at == end - timedelta(minutes=70):
            store.apply(_transition("elec-main-m", "elec-main", "voltage", Severity.WARNING, at, AlertState.PENDING))
            store.open_work_order("inspect_leak", asset="water-main", now=at)
        elif at == end - timedelta(minutes=40):
            dispatcher.deliver_due(at)  # the retries fail too
        elif at == end - timedelta(minutes=20):
            store.open_work_order("replace_uv_lamp", asset="uv-or-2", now=at)
        failed.append(sum(a.ok is False for a in store.delivery_attempts()))

    stop = threading.Event()
    rounds = [end - timedelta(minutes=m) for m in range(180, 0, -10)] + [end - timedelta(seconds=10)]
    AlertsTelemetry(store, services.settings.influx_endpoint("alerts"), every_s=0.001, clock=Rounds(rounds, stop, before),
                    engine_lag=lambda: engine_lag[0]).run(stop)
    orders = Counter(sla_state(o, end - timedelta(seconds=10))[0] for o in store.list_work_orders(open_only=True))
    store.close()
    return dict(orders), failed[0]


def _ingest_telemetry(services: LocalServices, facility: Registry, day: TimeRange, workdir: Path) -> None:
    """The gateways' retained statuses through a private Mosquitto with the test facility's accounts (the
    session's broker knows other gateways), and a worker's counters, over the last hour of the day."""
    accounts = {name: secrets.token_urlsafe(16) for name in ["ingest", *facility.gateways]}
    broker = Mosquitto(workdir, free_port())
    broker.configure(facility.gateways.values(), accounts)
    broker.start()
    endpoint = lambda name: MqttEndpoint("127.0.0.1", broker.port, name, SecretStr(accounts[name]))  # noqa: E731
    gateways = {gw: MqttTestClient(endpoint(gw), client_id=f"test-{gw}") for gw in facility.gateways}
    metrics = IngestMetrics()
    telemetry: list[IngestTelemetry] = []

    def status(gw: str, **extra: int) -> None:
        gateways[gw].publish(facility.gateways[gw].status_topic, encode_status(GatewayState.ONLINE, time.time_ns(), **extra),
                             retain=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the telemetry client has it
            report = telemetry[0].reports().get(gw)
            if report is not None and (report.backlog, report.dropped) == (extra["backlog"], extra["dropped"]):
                return
            time.sleep(0.02)
        raise AssertionError(f"the status of {gw} did not arrive")

    def before(at_ns: int) -> None:
        if at_ns == day.stop_ns - 60 * MINUTE_NS:
            assert telemetry[0].subscribed.wait(10)
            status("gw-lab", backlog=40, dropped=2)
            status("gw-plant", backlog=0, dropped=0)
        elif at_ns == day.stop_ns - 30 * MINUTE_NS:  # the lab gateway's buffer overflowed, then drained
            status("gw-lab", backlog=1200, dropped=9)
        elif at_ns == day.stop_ns - 20 * MINUTE_NS:
            status("gw-lab", backlog=3, dropped=9)
        metrics.written.inc(600)
        metrics.rejected.labels("unknown_sensor").inc()
        metrics.lag.set(1.5)
        metrics.connected.set(1)

    try:
        for client in gateways.values():
            client.connect()
        stop = threading.Event()
        rounds = [day.stop_ns - m * MINUTE_NS for m in range(60, 0, -1)] + [day.stop_ns - 10 * NS]
        telemetry.append(IngestTelemetry(facility, endpoint("ingest"), services.settings.influx_endpoint("ingest"),
                                         metrics.registry, every_s=0.001, clock_ns=Rounds(rounds, stop, before)))
        telemetry[0].run(stop)
    finally:
        for client in gateways.values():
            client.close()
        broker.stop()


@pytest.fixture(scope="session")
def platform_data(services: LocalServices, facility: Registry, facility_data: FacilityData,
                  tmp_path_factory: pytest.TempPathFactory) -> PlatformData:
    workdir = tmp_path_factory.mktemp("platform")
    (workdir / "mqtt").mkdir()
    orders, failed_first = _alerts_telemetry(services, facility, facility_data.day, workdir)
    _ingest_telemetry(services, facility, facility_data.day, workdir / "mqtt")
    return PlatformData(alerts_by_severity={"critical": 1, "warning": 1, "info": 0}, orders_by_sla=orders,
                        backlog={"gw-lab": 3, "gw-plant": 0}, dropped_in_day={"gw-lab": 7, "gw-plant": 0},
                        failed_after_first_round=failed_first)
