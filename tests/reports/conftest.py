"""The reports over the session's real InfluxDB, in buckets of their own
(tests/reports/reportkit.py), and a real SQLite alert store per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.store import AlertStore, open_store
from reports.readings import ReportReadings
from tests.reports.reportkit import REPORT_ROLLUPS, report_influx
from vigil.infra.local import LocalServices
from vigil.registry import Registry


@pytest.fixture
def report_readings(services: LocalServices) -> Iterator[ReportReadings]:
    with ReportReadings(report_influx(services), rollups=REPORT_ROLLUPS) as readings:
        yield readings


@pytest.fixture(scope="module")
def report_store(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[AlertStore]:
    path: Path = tmp_path_factory.mktemp("reports-store") / "vigil.db"
    store = open_store(f"sqlite:///{path}", registry=small_registry)
    yield store
    store.close()


