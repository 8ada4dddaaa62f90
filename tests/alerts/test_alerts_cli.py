"""The alerts and work-order commands on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SMALL_FACILITY
from vigil.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_FACILITY", str(SMALL_FACILITY))
    return tmp_path


def test_a_maintenance_window_is_listed_and_can_be_ended(env: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["alerts", "silence", "--asset", "bb-fridge-1", "--hours", "3", "--maintenance",
                               "--by", "Wang Li", "--reason", "compressor replaced"])
    assert made.exit_code == 0, made.output
    assert "maintenance #1 until" in made.output
    listed = runner.invoke(app, ["alerts", "silences"])
    assert "asset=bb-fridge-1" in listed.output and "Wang Li: compressor replaced" in listed.output
    ended = runner.invoke(app, ["alerts", "unsilence", "1", "--by", "Wang Li"])
    assert ended.exit_code == 0 and "ended" in ended.output
    assert "no silences in force" in runner.invoke(app, ["alerts", "silences"]).output


def test_silence_without_a_target_is_refused(env: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "silence", "--by", "x", "--reason", "y"])
    assert result.exit_code == 2 and "name what to silence" in result.output


def test_unknown_alert_and_bad_state_give_clear_errors(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["alerts", "ack", "7", "--by", "x"]).exit_code == 1
    bad = runner.invoke(app, ["alerts", "list", "--state", "burning"])
    assert bad.exit_code == 2 and "--state must be" in bad.output
    assert "no work orders" in runner.invoke(app, ["orders", "list"]).output
