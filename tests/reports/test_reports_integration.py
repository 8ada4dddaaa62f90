"""The four reports built from the real InfluxDB and a real SQLite store:
readings with known extremes go in, the report's numbers come out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.model import ExcursionEvent
from alerts.store import AlertStore
from alerts.workorders import Priority
from reports.catalog import ReportRequest, ReportSources, build_report
from reports.model import Cell, Report, Scope
from reports.readings import ReportReadings
from tests.reports.reportkit import roll_up, write_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the small facility's site


def today() -> date:
    return datetime.now(SHANGHAI).date()


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


def ns(at: datetime) -> int:
    return int(at.timestamp() * 1e9)


def build(name: str, registry: Registry, store: AlertStore, readings: ReportReadings, first: date, last: date,
          scope: Scope | None = None) -> Report:
    request = ReportRequest.make(registry, first, last, scope or Scope(), by="tester", now=datetime.now(UTC))
    return build_report(name, ReportSources(registry, store, readings), request)


def rows_by(report: Report, *keys: str) -> dict[tuple[Cell, ...], dict[str, Cell]]:
    names = [c.key for c in report.columns]
    out = {}
    for row in report.rows:
        record = dict(zip(names, row, strict=True))
        out[tuple(record[k] for k in keys)] = record
    return out


def test_cold_chain_log_splits_each_local_day_into_am_and_pm_halves(
        services: LocalServices, small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=12)
    nxt = day + timedelta(days=1)
    write_readings(services, small_registry, [
        ("vac-fridge-1-temp", "temperature", 4.0, local(day, 0, 5)),
        ("vac-fridge-1-temp", "temperature", 3.1, local(day, 3)),
        ("vac-fridge-1-temp", "temperature", 6.2, local(day, 11, 50)),   # AM: before local noon
        ("vac-fridge-1-temp", "temperature", 5.0, local(day, 12, 10)),   # PM: after local noon
        ("vac-fridge-1-temp", "temperature", 8.4, local(day, 18)),       # above the asset's 7.5 override
        ("vac-fridge-1-temp", "temperature", 2.6, local(day, 23, 50)),
        ("vac-fridge-1-temp", "temperature", 1.5, local(nxt, 0, 10)),    # the next local day (16:10 UTC the day before)
        ("vac-fridge-1-temp", "temperature", 4.4, local(nxt, 10)),
        ("bb-fridge-1-temp", "temperature", 3.0, local(day, 1)),
        ("bb-fridge-1-temp", "temperature", 4.0, local(day, 9)),
        ("bb-fridge-1-temp", "temperature", 3.5, local(day, 13)),
        ("bb-fridge-1-temp", "temperature", 5.0, local(day, 20)),
        ("bb-fridge-1-temp", "temperature", 4.0, local(nxt, 8)),
    ])
    report = build("cold-chain-log", small_registry, report_store, report_readings, day, nxt)
    rows = rows_by(report, "sensor", "date")
    assert set(rows) == {(s, d.isoformat()) for s in ("bb-fridge-1-temp", "vac-fridge-1-temp") for d in (day, nxt)}
    vac = rows[("vac-fridge-1-temp", day.isoformat())]
    assert (vac["am_min_degC"], vac["am_max_degC"], vac["pm_min_degC"], vac["pm_max_degC"]) == (3.1, 6.2, 2.6, 8.4)
    assert (vac["band_low_degC"], vac["band_high_degC"], vac["within_range"]) == (2.0, 7.5, "no")
    vac_next = rows[("vac-fridge-1-temp", nxt.isoformat())]
    assert (vac_next["am_min_degC"], vac_next["am_max_degC"], vac_next["pm_min_degC"]) == (1.5, 4.4, None)
    assert vac_next["within_range"] == "no"
    bb = rows[("bb-fridge-1-temp", day.isoformat())]
    assert (bb["am_min_degC"], bb["am_max_degC"], bb["pm_min_degC"], bb["pm_max_degC"]) == (3.0, 4.0, 3.5, 5.0)
    assert (bb["band_low_degC"], bb["band_high_degC"], bb["within_range"], bb["product"]) == (2.5, 5.5, "yes", "red_cells")
    assert rows[("bb-fridge-1-temp", nxt.isoformat())]["within_range"] == "incomplete"
    assert "raw readings" in " ".join(report.header.notes)


def test_cold_chain_log_older_than_the_raw_retention_reads_the_hourly_rollup(
        services: LocalServices, small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=60)
    nxt = day + timedelta(days=1)
    write_readings(services, small_registry, [
        ("vac-fridge-1-temp", "temperature", 3.3, local(day, 11, 30)),
        ("vac-fridge-1-temp", "temperature", 6.0, local(day, 11, 59)),
        ("vac-fridge-1-temp", "temperature", 7.9, local(day, 12, 0)),
        ("vac-fridge-1-temp", "temperature", 2.2, local(day, 23, 59)),
        ("vac-fridge-1-temp", "temperature", 5.5, local(nxt, 0, 0)),
    ])
    roll_up(services, local(day, 0) - timedelta(hours=1), local(nxt, 0) + timedelta(days=1))
    report = build("cold-chain-log", small_registry, report_store, report_readings, day, nxt, Scope(asset="vac-fridge-1"))
    rows = rows_by(report, "sensor", "date")
    assert set(rows) == {("vac-fridge-1-temp", day.isoformat()), ("vac-fridge-1-temp", nxt.isoformat())}
    first = rows[("vac-fridge-1-temp", day.isoformat())]
    assert (first["am_min_degC"], first["am_max_degC"], first["pm_min_degC"], first["pm_max_degC"]) == (3.3, 6.0, 2.2, 7.9)
    assert first["within_range"] == "no"
    second = rows[("vac-fridge-1-temp", nxt.isoformat())]
    assert (second["am_min_degC"], second["am_max_degC"], second["within_range"]) == (5.5, 5.5, "incomplete")
    assert "hourly roll-up" in " ".join(report.header.notes)


def _lamp_run(day: date, warming: list[float], warm: float, minutes: int) -> list[tuple[str, str, object, datetime]]:
    """A lamp switched on at 06:00 local: `warming` during the first minutes,
    then `warm` each minute up to `minutes`, then off."""
    out: list[tuple[str, str, object, datetime]] = [("uv-or-1-s", "lamp_on", False, local(day, 5, 59))]
    for m in range(minutes + 1):
        at = local(day, 6) + timedelta(minutes=m)
        out += [("uv-or-1-s", "lamp_on", True, at),
                ("uv-or-1-s", "intensity", warming[m] if m < len(warming) else warm, at)]
    out.append(("uv-or-1-s", "lamp_on", False, local(day, 6) + timedelta(minutes=minutes + 1)))
    return out


def test_uv_register_judges_only_warmed_up_readings_and_links_the_replacement_order(
        services: LocalServices, small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=8)
    nxt = day + timedelta(days=1)
    write_readings(services, small_registry, _lamp_run(day, [30, 50, 60, 65, 68], 85.0, 20)
                   + _lamp_run(nxt, [100, 100, 100, 100, 100], 60.0, 15))
    order = report_store.open_work_order("replace_uv_lamp", asset="uv-or-1", now=local(nxt, 7).astimezone(UTC))
    report = build("uv-register", small_registry, report_store, report_readings, day, nxt)
    rows = rows_by(report, "lamp", "date")
    assert set(rows) == {("uv-or-1", day.isoformat()), ("uv-or-1", nxt.isoformat())}
    first = rows[("uv-or-1", day.isoformat())]
    # The warm-up minutes (30 ... 68) are not judged: 16 readings of 85 from 06:05 on.
    assert (first["intensity_uW_cm2"], first["lowest_uW_cm2"], first["readings"], first["result"]) == (85.0, 85.0, 16, "pass")
    assert "plan replacement" in str(first["note"])
    assert first["action"] is None
    second = rows[("uv-or-1", nxt.isoformat())]
    assert (second["intensity_uW_cm2"], second["readings"], second["result"]) == (60.0, 11, "fail")
    assert second["action"] == f"WO-{order.id} replace_uv_lamp (open)"


def test_uv_register_older_than_the_raw_retention_reads_the_minute_rollup(
        services: LocalServices, small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=45)
    write_readings(services, small_registry, _lamp_run(day, [30, 50, 60, 65, 68], 95.0, 20))
    roll_up(services, local(day, 5), local(day, 8))
    report = build("uv-register", small_registry, report_store, report_readings, day, day, Scope(asset="uv-or-1"))
    rows = rows_by(report, "lamp", "date")
    record = rows[("uv-or-1", day.isoformat())]
    # Minutes on throughout from 06:00 to 06:20; judged from 06:05.
    assert (record["intensity_uW_cm2"], record["readings"], record["result"]) == (95.0, 16, "pass")
    assert "1-minute roll-up" in " ".join(report.header.notes)


def _excursion(sensor: str, asset: str, start: datetime, minutes: float, peak: float) -> ExcursionEvent:
    return ExcursionEvent(sensor=sensor, asset=asset, product="vaccine", started_ns=ns(start),
                          ended_ns=ns(start + timedelta(minutes=minutes)), peak=peak, minutes_out_of_range=minutes,
                          mean_kinetic_temperature=9.1, low=2.0, high=7.5)


def test_excursion_report_lists_excursions_overlapping_the_period_with_their_disposition(
        small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=30)
    before = report_store.record_excursion(_excursion("vac-fridge-1-temp", "vac-fridge-1", local(day - timedelta(days=3), 9), 40, 9.9))
    inside = report_store.record_excursion(_excursion("vac-fridge-1-temp", "vac-fridge-1", local(day, 23, 40), 50, 10.4))
    other = report_store.record_excursion(_excursion("bb-fridge-1-temp", "bb-fridge-1", local(day, 10), 20, 7.0))
    report_store.set_excursion_disposition(inside.id, "quarantine", "Wang Li", "moved to fridge 2 pending QA", now=local(day + timedelta(days=1), 9))
    report = build("excursions", small_registry, report_store, report_readings, day, day)
    rows = rows_by(report, "excursion")
    assert set(rows) == {(inside.id,), (other.id,)}
    assert before.id not in {k[0] for k in rows}
    record = rows[(inside.id,)]
    assert record["started_local"] == local(day, 23, 40).isoformat()
    assert record["ended_local"] == (local(day, 23, 40) + timedelta(minutes=50)).isoformat()  # past midnight: still listed
    assert (record["peak_degC"], record["minutes_out_of_range_min"], record["mkt_degC"]) == (10.4, 50.0, 9.1)
    assert (record["disposition"], record["disposition_by"], record["disposition_note"]) == (
        "quarantine", "Wang Li", "moved to fridge 2 pending QA")
    assert rows[(other.id,)]["disposition"] == "pending"
    scoped = build("excursions", small_registry, report_store, report_readings, day, day, Scope(asset="bb-fridge-1"))
    assert [r[0] for r in scoped.rows] == [other.id]


def test_work_order_sla_report_measures_response_and_resolution_against_targets(
        small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=15)
    opened = local(day, 10).astimezone(UTC)
    emergency = report_store.open_work_order("service_fridge", asset="vac-fridge-1", priority=Priority.EMERGENCY, now=opened)
    report_store.respond_work_order(emergency.id, "Zhang Wei", now=opened + timedelta(minutes=20))
    report_store.resolve_work_order(emergency.id, "Zhang Wei", now=opened + timedelta(hours=5))
    urgent = report_store.open_work_order("cold_chain_check", asset="bb-fridge-1", priority=Priority.URGENT, now=opened)
    report_store.respond_work_order(urgent.id, "Zhang Wei", now=opened + timedelta(hours=3))
    report_store.resolve_work_order(urgent.id, "Zhang Wei", now=opened + timedelta(hours=10))
    waiting = report_store.open_work_order("inspect_leak", asset="water-main", priority=Priority.ROUTINE, now=opened)
    earlier = report_store.open_work_order("medical_gas_alarm_test", asset="o2-zone-b1", now=opened - timedelta(days=2))
    report = build("work-order-sla", small_registry, report_store, report_readings, day, day)
    rows = rows_by(report, "work_order")
    assert set(rows) == {(f"WO-{o.id}",) for o in (emergency, urgent, waiting)}
    assert f"WO-{earlier.id}" not in {k[0] for k in rows}
    e = rows[(f"WO-{emergency.id}",)]
    assert (e["response_target_min"], e["response_min"], e["response"]) == (30.0, 20.0, "met")
    assert (e["resolution_target_min"], e["resolution_min"], e["resolution"]) == (240.0, 300.0, "breached")
    u = rows[(f"WO-{urgent.id}",)]
    assert (u["response_target_min"], u["response_min"], u["response"]) == (120.0, 180.0, "breached")
    assert (u["resolution_min"], u["resolution"]) == (600.0, "met")
    w = rows[(f"WO-{waiting.id}",)]
    assert (w["response_min"], w["response"], w["resolution"]) == (None, "overdue", "overdue")
    assert "3 orders; response breached 2, resolution breached 2" in report.header.notes


@pytest.mark.parametrize("name", ["cold-chain-log", "excursions", "uv-register", "work-order-sla"])
def test_every_report_has_a_header_naming_the_facility_period_time_and_author(
        name: str, small_registry: Registry, report_store: AlertStore, report_readings: ReportReadings) -> None:
    day = today() - timedelta(days=3)
    report = build(name, small_registry, report_store, report_readings, day, day)
    lines = report.header.lines()
    assert lines[0] == "Facility: Test Hospital"
    assert f"Period: {day} to {day}" in lines[1]
    assert " UTC / " in lines[2] and "Asia/Shanghai by tester" in lines[2]
