"""`vigil report ...` writes the report file from the settings' InfluxDB
and alert store."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from typer.testing import CliRunner

from tests.conftest import SMALL_FACILITY
from tests.reports.reportkit import report_influx, write_readings
from vigil.cli import app
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.now(SHANGHAI).date() - timedelta(days=25)


@pytest.fixture
def env(services: LocalServices, small_registry: Registry, tmp_path: Path) -> dict[str, str]:
    ep = report_influx(services)
    write_readings(services, small_registry, [
        ("bb-fridge-1-temp", "temperature", 3.2, datetime.combine(DAY, time(7), tzinfo=SHANGHAI)),
        ("bb-fridge-1-temp", "temperature", 5.9, datetime.combine(DAY, time(19), tzinfo=SHANGHAI)),
    ])
    return {"VIGIL_FACILITY": str(SMALL_FACILITY), "VIGIL_STATE_DIR": str(tmp_path / "state"),
            "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}", "VIGIL_INFLUX_URL": ep.url,
            "VIGIL_INFLUX_TOKEN": ep.token.get_secret_value(), "VIGIL_INFLUX_ORG": ep.org, "VIGIL_INFLUX_BUCKET": ep.bucket}


def test_cold_chain_log_cli_writes_a_pdf(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "log.pdf"
    result = CliRunner().invoke(app, ["report", "cold-chain-log", "--from", str(DAY), "--to", str(DAY),
                                      "--asset", "bb-fridge-1", "--format", "pdf", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
    assert "bb-fridge-1-temp" in text and "3.2" in text and "5.9" in text and "no" in text.split()


def test_cold_chain_log_cli_writes_a_csv(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = CliRunner().invoke(app, ["report", "cold-chain-log", "--from", str(DAY), "--to", str(DAY),
                                      "--asset", "bb-fridge-1", "--format", "csv", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["am_min_degC"], r["pm_max_degC"], r["within_range"]) for r in rows] == [("3.2", "5.9", "no")]


@pytest.mark.parametrize("name", ["excursions", "uv-register", "work-order-sla"])
def test_the_other_reports_write_their_files(env: dict[str, str], tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.csv"
    result = CliRunner().invoke(app, ["report", name, "--format", "csv", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("\n") >= 1


def test_a_reversed_period_is_refused_with_the_option_named(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "excursions", "--from", "2026-11-08", "--to", "2026-11-01",
                                      "--out", str(tmp_path / "x.pdf")], env=env)
    assert result.exit_code == 2
    assert "--from: from (2026-11-08) must not be after to (2026-11-01)" in result.output
    assert env["VIGIL_INFLUX_TOKEN"] not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_wrong_influxdb_token_is_a_clear_error_without_the_token(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "VIGIL_INFLUX_TOKEN": "not-the-token-s3cr3t"}
    result = CliRunner().invoke(app, ["report", "cold-chain-log", "--out", str(tmp_path / "x.pdf")], env=env)
    assert result.exit_code == 1
    assert "InfluxDB at http://127.0.0.1:" in result.output and "refused the query: 401" in result.output
    assert "s3cr3t" not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_an_unreachable_influxdb_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "VIGIL_INFLUX_URL": f"http://127.0.0.1:{free_port()}"}
    result = CliRunner().invoke(app, ["report", "uv-register", "--out", str(tmp_path / "x.pdf")], env=env)
    assert result.exit_code == 1
    assert "cannot reach InfluxDB at http://127.0.0.1:" in result.output
    assert env["VIGIL_INFLUX_TOKEN"] not in result.output
