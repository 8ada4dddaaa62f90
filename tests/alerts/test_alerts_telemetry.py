"""The alerts service's telemetry: a store with alerts, work orders and
delivery attempts becomes `alerts`, `work_orders` and `notifications` points,
and the writer puts them in the real InfluxDB's `platform` bucket."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from influxdb_client import InfluxDBClient
from pydantic import SecretStr

from alerts.model import AlertState
from alerts.notify import Dispatcher
from alerts.notify.contact_points import notifiers_for
from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store
from alerts.telemetry import AlertsTelemetry, read_snapshot, sla_state, snapshot_points
from tests.alerts.store.store_kit import CONSOLE, T0, FakeClock, RecordingNotifier, transition
from vigil.infra.local import LocalServices
from vigil.profiles import Severity
from vigil.registry import Registry


@pytest.fixture
def sqlite_store(tmp_path: Path, facility: Registry, oncall: OnCallConfig, clock: FakeClock) -> Iterator[AlertStore]:
    store = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", registry=facility, oncall=oncall, clock=clock, console_url=CONSOLE)
    yield store
    store.close()


def lines(store: AlertStore, clock: FakeClock) -> list[str]:
    return [p.to_line_protocol() for p in snapshot_points(read_snapshot(store, clock()))]


def fields_of(lines: list[str], measurement: str) -> dict[str, str]:
    """{"tag=v,tag=v": "field=v"} of one measurement's points (the timestamp left off)."""
    out = {}
    for line in lines:
        head, fields, _ = line.split(" ")
        name, _, tags = head.partition(",")
        if name == measurement:
            out[tags] = fields
    return out


def test_open_alerts_are_counted_by_severity_building_family_and_state(sqlite_store: AlertStore, clock: FakeClock) -> None:
    sqlite_store.apply(transition("vac-fridge-1-temp"), clock())
    sqlite_store.apply(transition("bb-fridge-1-temp"), clock())
    sqlite_store.apply(transition("elec-main-m", AlertState.PENDING, severity=Severity.WARNING, value=180.0), clock())
    acked = sqlite_store.apply(transition("o2-b1-p", value=250.0), clock()) and sqlite_store.list_alerts(sensor="o2-b1-p")[0]
    assert acked
    sqlite_store.acknowledge(acked.id, by="Wang Li", now=clock.advance(minutes=2))
    sqlite_store.apply(transition("uv-or-1-s", severity=Severity.WARNING, value=60.0), clock())
    resolved = sqlite_store.list_alerts(sensor="uv-or-1-s")[0]
    sqlite_store.resolve(resolved.id, by="Wang Li", now=clock.advance(minutes=1))

    alerts = fields_of(lines(sqlite_store, clock), "alerts")
    assert alerts == {
        "": "open_total=4i",
        "building=annex,family=cold_chain,severity=critical,site=north,state=firing": "active=1i",
        "building=main,family=cold_chain,severity=critical,site=north,state=firing": "active=1i",
        "building=main,family=electricity_meter,severity=warning,site=north,state=pending": "active=1i",
        "building=main,family=medical_gas,severity=critical,site=north,state=acknowledged": "active=1i",
    }


def test_an_empty_store_still_reports_its_totals_so_zero_is_visible(sqlite_store: AlertStore, clock: FakeClock) -> None:
    out = lines(sqlite_store, clock)
    assert fields_of(out, "alerts") == {"": "open_total=0i"}
    assert fields_of(out, "work_orders") == {"": "open_total=0i"}
    assert fields_of(out, "notifications") == {}
    (stamp,) = {line.rsplit(" ", 1)[1] for line in out}
    assert int(stamp) == int(T0.timestamp()) * 10**9, "every point of a snapshot carries the snapshot's time"


def test_work_orders_move_from_within_sla_to_due_soon_to_breached(sqlite_store: AlertStore, clock: FakeClock) -> None:
    sqlite_store.apply(transition("vac-fridge-1-temp", work_order="service_fridge"), clock())  # emergency: respond in 30 min

    def sla() -> dict[str, str]:
        return fields_of(lines(sqlite_store, clock), "work_orders")

    tags = "building=main,priority=emergency,site=north,sla={},stage=response,state=open"
    assert sla() == {"": "open_total=1i", tags.format("within_sla"): "open=1i"}
    clock.advance(minutes=15)  # half the window: escalation starts
    assert sla() == {"": "open_total=1i", tags.format("due_soon"): "open=1i"}
    clock.advance(minutes=16)
    assert sla() == {"": "open_total=1i", tags.format("breached"): "open=1i"}

    (order,) = sqlite_store.list_work_orders()
    sqlite_store.respond_work_order(order.id, by="Zhang Wei", now=clock())  # late, but now the 4 h resolution window counts
    assert sla() == {"": "open_total=1i",
                     "building=main,priority=emergency,site=north,sla=within_sla,stage=resolution,state=responded": "open=1i"}
    sqlite_store.resolve_work_order(order.id, by="Zhang Wei", now=clock.advance(minutes=30))
    assert sla() == {"": "open_total=0i"}


def test_sla_state_of_a_responded_order_follows_its_resolution_window(sqlite_store: AlertStore, clock: FakeClock) -> None:
    order = sqlite_store.open_work_order("inspect_leak", asset="water-main", now=clock())  # urgent: 2 h, then 24 h
    assert sla_state(order, clock() + timedelta(hours=2, seconds=1)) == ("breached", "response")
    responded = sqlite_store.respond_work_order(order.id, by="Zhang Wei", now=clock.advance(minutes=20))
    assert sla_state(responded, clock() + timedelta(hours=11)) == ("within_sla", "resolution")
    assert sla_state(responded, clock() + timedelta(hours=13)) == ("due_soon", "resolution")
    assert sla_state(responded, clock() + timedelta(hours=25)) == ("breached", "resolution")


def test_delivery_attempts_are_counted_sent_and_failed_per_contact_point_and_channel(
        sqlite_store: AlertStore, clock: FakeClock, oncall: OnCallConfig) -> None:
    # wang-mail points at a closed port (127.0.0.1:1): apprise really fails; chen is recorded as sent.
    sent: list[tuple[str, str]] = []
    notifiers: dict[str, Any] = {**notifiers_for(oncall.contact_points, timeout_s=2), "chen-mail": RecordingNotifier("chen-mail", sent)}
    dispatcher = Dispatcher(sqlite_store, notifiers, clock=clock)
    dispatcher.deliver(sqlite_store.apply(transition("vac-fridge-1-temp"), clock()))  # critical: tier 1 is wang
    dispatcher.deliver_due(clock.advance(minutes=1))  # the retry after the first backoff
    dispatcher.deliver(sqlite_store.process_due(clock.advance(minutes=15)))  # nobody acknowledged: tier 2, chen
    assert sent, "chen was paged"

    notifications = fields_of(lines(sqlite_store, clock), "notifications")
    assert notifications["channel=mailto,contact_point=wang-mail"] == "failed=2i,sent=0i"
    assert notifications["channel=test,contact_point=chen-mail"] == f"failed=0i,sent={len(sent)}i"


@pytest.mark.integration
def test_the_writer_puts_the_snapshot_in_the_platform_bucket(services: LocalServices, sqlite_store: AlertStore,
                                                             clock: FakeClock) -> None:
    # A recent time only this test writes at: the store's clock is set there, and the snapshot is stamped with it.
    stamp = clock.set(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    sqlite_store.apply(transition("bb-fridge-1-temp", at=stamp), stamp)
    sqlite_store.apply(transition("vac-fridge-1-temp", at=stamp, work_order="service_fridge"), stamp)
    stop = threading.Event()
    telemetry = AlertsTelemetry(sqlite_store, services.settings.influx_endpoint("alerts"), every_s=0.2, clock=clock)
    telemetry.start(stop)
    ep = services.settings.influx_endpoint("reader")
    query = f'''from(bucket: "platform") |> range(start: time(v: "{stamp.isoformat()}"), stop: 1s)
  |> filter(fn: (r) => r._time == time(v: "{stamp.isoformat()}"))
  |> filter(fn: (r) => r._measurement == "alerts" or r._measurement == "work_orders")'''
    rows: list[dict[str, Any]] = []
    try:
        with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
            for _ in range(50):
                rows = [dict(r.values) for t in client.query_api().query(query) for r in t.records]
                if len(rows) >= 5:
                    break
                stop.wait(0.2)
    finally:
        stop.set()
        telemetry.join()
    got = {(r["_measurement"], r["_field"], r.get("building", ""), r.get("severity") or r.get("sla") or ""): r["_value"]
           for r in rows}
    assert got == {("alerts", "open_total", "", ""): 2, ("alerts", "active", "annex", "critical"): 1,
                   ("alerts", "active", "main", "critical"): 1,
                   ("work_orders", "open_total", "", ""): 1, ("work_orders", "open", "main", "within_sla"): 1}


@pytest.mark.integration
def test_a_refused_write_is_logged_without_the_token_and_the_writer_goes_on(
        services: LocalServices, sqlite_store: AlertStore, caplog: pytest.LogCaptureFixture) -> None:
    good = services.settings.influx_endpoint("ingest")
    bad = dataclasses.replace(good, token=SecretStr("not-a-token-" + "x" * 20))
    stop = threading.Event()
    rounds = 0

    def clock() -> datetime:
        nonlocal rounds
        rounds += 1
        if rounds >= 3:
            stop.set()
        return datetime.now(UTC)

    with caplog.at_level(logging.WARNING, logger="vigil.alerts.telemetry"):
        AlertsTelemetry(sqlite_store, bad, every_s=0.05, clock=clock).run(stop)
    assert rounds == 3, "every round is tried although the previous one failed"
    failures = [r.getMessage() for r in caplog.records]
    assert len(failures) == 3 and all("401" in m for m in failures), failures
    assert not any("not-a-token" in m for m in failures)
