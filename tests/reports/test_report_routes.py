"""GET /api/v1/reports/*: CSV and PDF with the right content types, built
from the real InfluxDB and store; bad periods and filters are 422s naming
the query parameter."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pypdf
import pytest
from fastapi.testclient import TestClient

from alerts.store import AlertStore
from api.app import create_app
from api.readings import ReadingsSource
from api.roles import Role
from api.tokens import create_token
from tests.reports.reportkit import REPORT_ROLLUPS, report_influx, write_readings
from vigil.infra.local import LocalServices
from vigil.registry import Registry

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.now(SHANGHAI).date() - timedelta(days=20)
REPORTS = ["cold-chain-log", "excursions", "uv-register", "work-order-sla"]


@pytest.fixture(scope="module")
def client(services: LocalServices, small_registry: Registry, report_store: AlertStore) -> Iterator[TestClient]:
    readings = ReadingsSource(report_influx(services), small_registry, rollups=REPORT_ROLLUPS)
    app = create_app(services.settings, small_registry, report_store, readings=readings)
    _, secret = create_token(report_store.engine, "quality-manager", Role.VIEWER)
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c
    readings.close()


@pytest.fixture(scope="module")
def readings_written(services: LocalServices, small_registry: Registry) -> date:
    def at(hour: int) -> datetime:
        return datetime.combine(DAY, time(hour), tzinfo=SHANGHAI)

    write_readings(services, small_registry, [
        ("vac-fridge-1-temp", "temperature", 3.4, at(2)),
        ("vac-fridge-1-temp", "temperature", 5.6, at(10)),
        ("vac-fridge-1-temp", "temperature", 4.1, at(14)),
        ("vac-fridge-1-temp", "temperature", 6.9, at(22)),
    ])
    return DAY


def test_cold_chain_log_as_csv_parses_back_to_the_readings(client: TestClient, readings_written: date) -> None:
    response = client.get("/api/v1/reports/cold-chain-log",
                          params={"from": str(readings_written), "to": str(readings_written), "asset": "vac-fridge-1"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="vigil-cold-chain-log-{readings_written}-{readings_written}.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["date"], row["sensor"]) == (str(readings_written), "vac-fridge-1-temp")
    assert [float(row[k]) for k in ("am_min_degC", "am_max_degC", "pm_min_degC", "pm_max_degC")] == [3.4, 5.6, 4.1, 6.9]
    assert (row["band_low_degC"], row["band_high_degC"], row["within_range"]) == ("2.0", "7.5", "yes")


def test_cold_chain_log_as_pdf_has_the_header_and_the_rows(client: TestClient, readings_written: date) -> None:
    response = client.get("/api/v1/reports/cold-chain-log",
                          params={"from": str(readings_written), "to": str(readings_written), "format": "pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Cold-chain temperature log" in text
    assert "Facility: Test Hospital" in text
    assert "by quality-manager" in text  # the API token's name
    for value in ("vac-fridge-1-temp", str(readings_written), "3.4", "5.6", "4.1", "6.9", "Page 1 of 1"):
        assert value in text


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_every_report_answers_in_both_formats_for_the_default_period(client: TestClient, name: str, fmt: str) -> None:
    response = client.get(f"/api/v1/reports/{name}", params={"format": fmt})
    assert response.status_code == 200, response.text
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8"))))
        assert header and all(h == h.strip() and " " not in h for h in header)
    else:
        assert len(pypdf.PdfReader(io.BytesIO(response.content)).pages) >= 1
    today = datetime.now(SHANGHAI).date()
    assert f"-{today - timedelta(days=6)}-{today}." in response.headers["content-disposition"]


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"from": "2026-11-08", "to": "2026-11-01"}, "from", "must not be after"),
    ({"from": "2025-01-01", "to": "2026-06-01"}, "to", "at most 366 days"),
    ({"from": "2020-01-01", "to": "2020-01-02"}, "from", "kept for 730 days"),
    ({"to": "9999-12-31"}, "to", "is after today"),
    ({"asset": "no-such-fridge"}, "asset", "no asset"),
    ({"site": "south"}, "site", "no site"),
    ({"building": "annex"}, "building", "no building"),
    ({"from": "2026-13-01"}, "from", ""),
    ({"format": "xlsx"}, "format", ""),
])
def test_bad_periods_and_filters_are_422_naming_the_parameter(client: TestClient, params: dict[str, str], field: str,
                                                              says: str) -> None:
    response = client.get("/api/v1/reports/cold-chain-log", params=params)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [["query", field]]
    assert says in errors[0]["msg"]


def test_reports_need_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/reports/excursions", headers={"Authorization": ""}).status_code == 401
