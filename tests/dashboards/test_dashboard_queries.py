"""Every panel's Flux, as Grafana would send it, run against a day of
simulated readings in the real InfluxDB: each returns the series and fields
its panel draws. Panels over a month or more read the downsampled buckets,
which the fixture filled with the downsampling tasks' own Flux."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from dashboards.build import dashboards_for
from dashboards.model import Dashboard, Panel
from tests.dashboards.conftest import ENGINE_LAG_S, ENGINE_LAG_SURGE_S, EVERY_PROFILE, FacilityData, PlatformData, influx
from tests.dashboards.grafana_kit import NS, TimeRange, duration_s, interpolate
from vigil.infra.local import LocalServices
from vigil.registry import load_registry

pytestmark = pytest.mark.integration

DASHBOARDS = dashboards_for(load_registry(EVERY_PROFILE))
# The one value a repeated panel gets; every other variable is "All", site is picked.
REPEATED = {"asset": "bb-fridge-1", "zone": "o2-or-2"}
TIMINGS: dict[str, float] = {}


def variables_for(dashboard: Dashboard, panel: Panel | None = None) -> dict[str, Sequence[str] | None]:
    values: dict[str, Sequence[str] | None] = {v.name: None for v in dashboard.variables}
    values["site"] = ["east"]
    if panel is not None and panel.repeat:
        values[panel.repeat] = [REPEATED[panel.repeat]]
    return values


def run(client: InfluxDBClient, name: str, query: str) -> list[dict[str, Any]]:
    t0 = time.perf_counter()
    tables = client.query_api().query(query)
    TIMINGS[name] = time.perf_counter() - t0
    return [dict(record.values) for table in tables for record in table.records]


def names_in(rows: list[dict[str, Any]]) -> set[str]:
    """Columns, `_field` and `stat` values: what a panel can pick a series or a cell by."""
    out: set[str] = set()
    for row in rows:
        out.update(row)
        out.update(v for k, v in row.items() if k in ("_field", "stat") and isinstance(v, str))
    return out


@pytest.fixture(scope="module")
def reader(services: LocalServices, facility_data: FacilityData, platform_data: PlatformData) -> Any:
    with influx(services, "reader") as client:
        yield client


def panel_rows(reader: InfluxDBClient, facility_data: FacilityData, dashboard: Dashboard, panel: Panel,
               variables: Mapping[str, Sequence[str] | None] | None = None) -> list[dict[str, Any]]:
    time_range = facility_data.day.ending(duration_s(panel.time_from)) if panel.time_from else facility_data.day
    query = interpolate(panel.query.query, time_range, variables or variables_for(dashboard, panel))
    return run(reader, f"{dashboard.uid} / {panel.title}", query)


PANELS = [pytest.param(d, p, id=f"{d.uid}:{p.title}") for d in DASHBOARDS for p in d.panels]


@pytest.mark.parametrize(("dashboard", "panel"), PANELS)
def test_panel_query_returns_what_the_panel_draws(reader: InfluxDBClient, facility_data: FacilityData,
                                                  dashboard: Dashboard, panel: Panel) -> None:
    rows = panel_rows(reader, facility_data, dashboard, panel)
    assert rows, f"{panel.title}: no rows"
    missing = set(panel.expects) - names_in(rows)
    assert not missing, f"{panel.title}: missing {sorted(missing)} in {sorted(names_in(rows))}"


VARIABLES = [pytest.param(d, v, id=f"{d.uid}:${v.name}") for d in DASHBOARDS for v in d.variables]
EXPECTED_VALUES = {"site": {"east"}, "building": {"lab", "plant"}, "asset": {"bb-fridge-1", "plasma-1"},
                   "zone": {"o2-or-2"}, "lamp": {"uv-or-2"}}


@pytest.mark.parametrize(("dashboard", "variable"), VARIABLES)
def test_variable_query_lists_the_facility(reader: InfluxDBClient, facility_data: FacilityData,
                                           dashboard: Dashboard, variable: Any) -> None:
    rows = run(reader, f"{dashboard.uid} / ${variable.name}",
               interpolate(variable.query, facility_data.day, variables_for(dashboard)))
    values = {row["_value"] for row in rows}
    assert values >= EXPECTED_VALUES[variable.name]
    if variable.name in ("asset", "zone", "lamp"):  # only assets of the dashboard's kind
        assert not values & {"elec-main", "water-main", "lox-1"}


def by_title(uid: str, title: str) -> tuple[Dashboard, Panel]:
    dashboard = next(d for d in DASHBOARDS if d.uid == uid)
    return dashboard, next(p for p in dashboard.panels if p.title == title)


def test_warm_blood_fridge_shows_out_of_band_now(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    rows = panel_rows(reader, facility_data, *by_title("vigil-facility-overview", "Band status now"))
    warm = [r for r in rows if r["asset"] == "bb-fridge-1" and r["_field"] == "temperature"]
    assert warm and warm[0]["status"] == "high" and warm[0]["high"] == 5.5
    assert rows[0]["status"] != "ok", "out-of-band rows come first"
    count = panel_rows(reader, facility_data, *by_title("vigil-facility-overview", "Values out of their band now"))
    assert count[0]["_value"] >= 1


def test_minutes_out_of_range_counts_the_excursion_only(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    rows = panel_rows(reader, facility_data, *by_title("vigil-cold-chain", "Minutes out of range, last 7 days"))
    minutes = {r["asset"]: r["_value"] for r in rows}
    assert 0 < minutes["bb-fridge-1"] <= 180
    assert minutes["plasma-1"] == 0


def test_every_registered_sensor_is_reporting_at_the_end_of_the_day(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    rows = panel_rows(reader, facility_data, *by_title("vigil-facility-overview", "Sensors reporting vs stale, by building"))
    assert {r["building"]: (r["registered"], r["reporting"], r["stale"]) for r in rows} == {"lab": (7, 7, 0), "plant": (3, 3, 0)}


def test_dead_letters_are_counted_by_reason(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    rows = panel_rows(reader, facility_data, *by_title("vigil-platform-health", "Rejected in range, by reason"))
    assert {r["reason"]: r["_value"] for r in rows}.items() >= {"unknown_sensor": 3, "impossible_value": 2, "bad_unit": 1}.items()


def test_lox_days_of_supply_is_level_over_daily_use(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    (row,) = panel_rows(reader, facility_data, *by_title("vigil-medical-gases", "LOX days of supply left"))
    assert row["use_per_day"] > 0 and row["days_of_supply"] == pytest.approx(row["level"] / row["use_per_day"])


def test_slowest_query_is_reported(capsys: pytest.CaptureFixture[str], facility_data: FacilityData) -> None:
    assert TIMINGS, "run with the panel tests"
    name, seconds = max(TIMINGS.items(), key=lambda item: item[1])
    with capsys.disabled():
        print(f"\n[dashboards] {len(TIMINGS)} queries over {facility_data.lines} readings "
              f"(written in {facility_data.write_s:.1f} s, downsampled in {facility_data.downsample_s:.1f} s); "
              f"slowest {seconds * 1000:.0f} ms: {name}")
    assert seconds < 5.0


def test_night_leak_on_the_lab_sub_meter_is_suspected(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    rows = panel_rows(reader, facility_data, *by_title("vigil-energy-water", "Suspected leaks"))
    status = {r["asset"]: r["status"] for r in rows}
    assert status["water-lab-sub"] == "suspected leak"
    assert status["water-main"] == "ok"


def by_key(rows: list[dict[str, Any]], key: str, column: str = "_value") -> dict[str, Any]:
    return {r[key]: r[column] for r in rows}


def test_active_alerts_and_work_orders_come_from_the_newest_snapshot(reader: InfluxDBClient, facility_data: FacilityData,
                                                                     platform_data: PlatformData) -> None:
    overview = "vigil-facility-overview"
    severity = panel_rows(reader, facility_data, *by_title(overview, "Active alerts by severity"))
    assert by_key(severity, "severity") == platform_data.alerts_by_severity == {"critical": 1, "warning": 1, "info": 0}
    sla = panel_rows(reader, facility_data, *by_title(overview, "Open work orders by SLA state"))
    assert by_key(sla, "sla") == {"breached": 1, "due_soon": 1, "within_sla": 1} == platform_data.orders_by_sla
    table = panel_rows(reader, facility_data, *by_title(overview, "Open work orders by SLA state, priority and building"))
    assert {(r["sla"], r["priority"], r["building"]) for r in table} == {
        ("breached", "emergency", "lab"), ("due_soon", "urgent", "plant"), ("within_sla", "urgent", "lab")}
    alerts = panel_rows(reader, facility_data, *by_title(overview, "Active alerts by building and family"))
    assert {(r["building"], r["family"], r["severity"], r["state"], r["active"]) for r in alerts} == {
        ("lab", "cold_chain", "critical", "firing", 1), ("plant", "electricity_meter", "warning", "pending", 1)}


def test_the_building_variable_narrows_alerts_and_orders(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    dashboard, panel = by_title("vigil-facility-overview", "Active alerts by severity")
    plant = {**variables_for(dashboard), "building": ["plant"]}
    assert by_key(panel_rows(reader, facility_data, dashboard, panel, plant), "severity") == {"critical": 0, "warning": 1, "info": 0}
    dashboard, panel = by_title("vigil-facility-overview", "Open work orders by SLA state")
    assert by_key(panel_rows(reader, facility_data, dashboard, panel, plant), "sla") == {"breached": 0, "due_soon": 1, "within_sla": 0}


def test_with_no_recent_snapshot_the_counts_are_empty_not_zero(reader: InfluxDBClient, facility_data: FacilityData) -> None:
    """Zeros only stand for "nothing open" when the alerts service reported; a silent service shows no data."""
    dashboard, panel = by_title("vigil-facility-overview", "Active alerts by severity")
    day = facility_data.day
    before_the_first_snapshot = TimeRange(day.start_ns, day.stop_ns - 4 * 3600 * NS)
    rows = run(reader, "no snapshot", interpolate(panel.query.query, before_the_first_snapshot, variables_for(dashboard)))
    assert rows == []


def test_gateway_backlog_drops_and_status_come_from_the_retained_statuses(reader: InfluxDBClient, facility_data: FacilityData,
                                                                          platform_data: PlatformData) -> None:
    health = "vigil-platform-health"
    now = panel_rows(reader, facility_data, *by_title(health, "Gateways: status now"))
    assert by_key(now, "gateway", "backlog") == platform_data.backlog
    assert by_key(now, "gateway", "online") == {"gw-lab": 1, "gw-plant": 1}
    assert {r["building"] for r in now} == {"lab", "plant"}
    backlog = panel_rows(reader, facility_data, *by_title(health, "Gateway backlog"))
    assert max(r["_value"] for r in backlog if r["gateway"] == "gw-lab") == 1200
    dropped = panel_rows(reader, facility_data, *by_title(health, "Readings dropped by gateways"))
    per_gateway = {gw: sum(r["_value"] for r in dropped if r["gateway"] == gw) for gw in ("gw-lab", "gw-plant")}
    assert per_gateway == platform_data.dropped_in_day


def test_ingest_lag_and_notification_failures_are_drawn(reader: InfluxDBClient, facility_data: FacilityData,
                                                        platform_data: PlatformData) -> None:
    health = "vigil-platform-health"
    lag = panel_rows(reader, facility_data, *by_title(health, "Ingest lag"))
    assert {r["worker"] for r in lag} == {"0"} and {r["_value"] for r in lag} == {1.5}
    failures = panel_rows(reader, facility_data, *by_title(health, "Notification deliveries failed"))
    assert platform_data.failed_after_first_round > 0, "the first pages were refused"
    assert sum(r["_value"] for r in failures) > 0, "the retries that failed later in the day are counted"
    assert {r["contact_point"] for r in failures} <= {"wang-mail", "zhang-mail", "chen-mail", "ops-hook"}


def test_alerts_engine_lag_is_drawn_from_its_first_judged_message(reader: InfluxDBClient, facility_data: FacilityData,
                                                                  platform_data: PlatformData) -> None:
    lag = panel_rows(reader, facility_data, *by_title("vigil-platform-health", "Alerts engine lag"))
    assert {r["_value"] for r in lag} == {ENGINE_LAG_S, ENGINE_LAG_SURGE_S}
    first_round = facility_data.day.stop_ns - 3 * 3600 * NS
    assert min(r["_time"].timestamp() * NS for r in lag) > first_round  # nothing judged yet: no point, not a zero
