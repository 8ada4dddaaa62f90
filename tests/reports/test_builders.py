"""The pure parts of the reports: periods, scopes, the UV warm-up gate, the
day verdict, SLA verdicts, and the CSV and PDF renderers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest

from reports import cold_chain
from reports.cold_chain import TemperatureWindow, cold_chain_rows
from reports.model import Cell, Period, Report, ReportHeader, ReportInputError, Scope, resolve_period
from reports.render import render_csv, render_pdf
from reports.sla import verdict
from reports.uv import LampSample, level, warmed_up_readings
from vigil.registry import Registry

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def test_the_default_period_is_the_last_seven_days_including_today() -> None:
    period = resolve_period(None, None, date(2026, 11, 23))
    assert (period.first_day, period.last_day, len(period.days)) == (date(2026, 11, 17), date(2026, 11, 23), 7)


def test_a_period_covers_whole_local_days() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 8))
    assert period.start(SHANGHAI) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert period.stop(SHANGHAI) == datetime(2026, 11, 8, 16, 0, tzinfo=UTC)
    assert len(period.days) == 8


def test_a_period_across_a_daylight_saving_change_still_has_whole_local_days() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks went back on 2026-10-25
    period = Period(date(2026, 10, 25), date(2026, 10, 25))
    assert period.stop(berlin) - period.start(berlin) == timedelta(hours=25)


@pytest.mark.parametrize(("first", "last", "field"), [
    (date(2026, 11, 9), date(2026, 11, 8), "from"),
    (date(2025, 1, 1), date(2026, 1, 2), "to"),
    (date(2023, 1, 1), date(2023, 1, 2), "from"),
    (date(2026, 11, 20), date(2026, 11, 24), "to"),
    (date(9999, 12, 25), date(9999, 12, 31), "to"),
])
def test_bad_periods_name_the_field_at_fault(first: date, last: date, field: str) -> None:
    with pytest.raises(ReportInputError) as caught:
        resolve_period(first, last, date(2026, 11, 23))
    assert caught.value.field == field


def test_a_scope_naming_an_unknown_id_is_refused(small_registry: Registry) -> None:
    assert Scope(site="north", building="main", asset="uv-or-1").validate(small_registry)
    for scope, field in ((Scope(site="x"), "site"), (Scope(building="x"), "building"), (Scope(asset="x"), "asset")):
        with pytest.raises(ReportInputError) as caught:
            scope.validate(small_registry)
        assert caught.value.field == field


def test_a_lamp_warming_up_is_not_judged() -> None:
    samples = [LampSample(T0, True, 20.0)] + [LampSample(T0 + timedelta(minutes=m), None, 80.0) for m in range(1, 8)]
    samples.append(LampSample(T0 + timedelta(minutes=8), False, None))
    samples.append(LampSample(T0 + timedelta(minutes=9), None, 50.0))  # after switch-off: not a lamp-on reading
    judged = warmed_up_readings(samples)
    assert [at - T0 for at, _ in judged] == [timedelta(minutes=m) for m in (5, 6, 7)]


def test_a_sensor_without_lamp_state_is_judged_by_runs_of_readings() -> None:
    run1 = [LampSample(T0 + timedelta(minutes=m), None, 75.0) for m in range(7)]
    run2 = [LampSample(T0 + timedelta(minutes=m), None, 70.0) for m in range(30, 36)]  # a new cycle after a 24 min gap
    judged = warmed_up_readings(run1 + run2)
    assert [v for _, v in judged] == [75.0, 75.0, 70.0]


@pytest.mark.parametrize(("value", "result", "note"), [
    (69.9, "fail", "replace"), (70.0, "pass", "plan replacement"), (90.0, "pass", "new-lamp level 90"),
])
def test_uv_levels_follow_ws_t_367(value: float, result: str, note: str) -> None:
    got_result, got_note = level(value)
    assert got_result == result and note in got_note


def test_sla_verdicts() -> None:
    due = T0 + timedelta(minutes=30)
    assert verdict(due, due, T0) == "met"
    assert verdict(due + timedelta(seconds=1), due, T0) == "breached"
    assert verdict(None, due, T0) == "pending"
    assert verdict(None, due, due + timedelta(minutes=1)) == "overdue"


def test_a_day_with_no_readings_is_no_data_and_a_plasma_freezer_has_only_a_high_bound(small_registry: Registry) -> None:
    sensor = small_registry.sensors["bb-fridge-1-temp"]
    rows = cold_chain_rows([sensor], [], Period(date(2026, 11, 2), date(2026, 11, 2)), {"north": SHANGHAI})
    assert rows[0][-1] == "no data"
    assert cold_chain.within(-30.0, -26.0, None, -25.0) and not cold_chain.within(-30.0, -24.0, None, -25.0)


def test_windows_of_unknown_sensors_are_ignored(small_registry: Registry) -> None:
    sensor = small_registry.sensors["bb-fridge-1-temp"]
    windows = [TemperatureWindow("elsewhere", T0, 9.0, 9.0), TemperatureWindow(sensor.id, T0, 3.0, 4.0)]
    rows = cold_chain_rows([sensor], windows, Period(date(2026, 11, 2), date(2026, 11, 2)), {"north": SHANGHAI})
    assert rows[0][8:12] == (None, None, 3.0, 4.0)  # 06:00 UTC is 14:00 in Shanghai: PM


def _report(rows: int) -> Report:
    header = ReportHeader("Cold-chain temperature log", "市中心医院 Municipal Central Hospital",
                          Period(date(2026, 11, 1), date(2026, 11, 8)), Scope(), datetime(2026, 11, 9, 1, 0, tzinfo=UTC),
                          SHANGHAI, "王丽")
    data: list[tuple[Cell, ...]] = [("central", "medtech", "血库 Blood Bank", "bb-fridge-01", "血库冰箱 1", "bb-fridge-01-t", "red_cells",
             f"2026-11-{1 + i % 8:02d}", 2.61, 5.04, None, 4.0, 2.5, 5.5, "incomplete") for i in range(rows)]
    return Report("cold-chain-log", header, cold_chain.COLUMNS, data)


def test_csv_is_utf8_with_one_header_row_and_empty_cells_for_missing_values() -> None:
    parsed = list(csv.reader(io.StringIO(render_csv(_report(3)).decode("utf-8"))))
    assert parsed[0] == [c.key for c in cold_chain.COLUMNS]
    assert len(parsed) == 4
    assert parsed[1][2] == "血库 Blood Bank" and parsed[1][8:11] == ["2.61", "5.04", ""]


def test_pdf_repeats_the_table_header_on_every_page_numbers_pages_and_renders_chinese() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(_report(150))))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "AM min °C" in text and "In range" in text
        assert f"Page {number} of {len(pages)}" in text
    assert "市中心医院" in pages[0] and "王丽" in pages[0] and "血库冰箱 1" in pages[0]
    assert "Generated: 2026-11-09 01:00:00 UTC / 2026-11-09 09:00:00 Asia/Shanghai" in pages[0]
    assert "2.6" in pages[0] and "5.0" in pages[0]  # one decimal in the PDF


def test_an_empty_report_says_so() -> None:
    text = pypdf.PdfReader(io.BytesIO(render_pdf(_report(0)))).pages[0].extract_text()
    assert "No records in this period." in text
