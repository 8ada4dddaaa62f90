"""`vigil gateway run` (gateway/cli.py): configuration errors at start-up,
and the real process end to end: SIGTERM stops it cleanly, SIGKILL leaves
the broker to announce it offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.conftest import SMALL_FACILITY
from tests.gateway.harness import Observer
from vigil.contract import GatewayState
from vigil.infra.local import LocalServices
from vigil.registry import Registry

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "vigil.yaml"
    path.write_text(f"facility: {SMALL_FACILITY}\nstate_dir: {tmp_path / 'state'}\n")
    return path


def test_unknown_gateway_is_refused_naming_the_known_ones(settings_file: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--gateway", "gw-zz", "--config", str(settings_file)])
    assert result.exit_code == 2
    assert "unknown gateway 'gw-zz'" in result.output and "gw-a, gw-b" in result.output


def test_invalid_gateway_setting_is_refused_naming_the_variable(settings_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_GATEWAY_DRAIN_RATE", "0")
    result = CliRunner().invoke(app, ["run", "--gateway", "gw-a", "--config", str(settings_file)])
    assert result.exit_code == 2
    assert "VIGIL_GATEWAY_DRAIN_RATE" in result.output


def test_missing_broker_settings_are_refused(settings_file: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--gateway", "gw-a", "--config", str(settings_file)])
    assert result.exit_code == 2
    assert "no broker for gateway 'gw-a'" in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--gateway", "--speed", "--seed", "--config"):
        assert option in result.output


# --------------------------------------------------------------------------
# The process


@pytest.fixture
def gateway_process(services: LocalServices, settings_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env |= {
        "PYTHONPATH": str(REPO),
        "VIGIL_MQTT_URL": services.settings.mqtt_endpoint("gw-a").url(with_password=True),
        "VIGIL_GATEWAY_BATCH_MAX_AGE_S": "0.2",
    }
    # The real simulators, ten minutes a second: a reading per sensor every 0.1 s.
    argv = [sys.executable, "-c", "from gateway.cli import app; app()", "run", "--gateway", "gw-a", "--speed", "600",
            "--config", str(settings_file)]
    with (settings_file.parent / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(argv, env=env, cwd=settings_file.parent, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def log_of(settings_file: Path) -> str:
    return (settings_file.parent / "gateway.log").read_text(errors="replace")


@pytest.mark.integration
def test_gateway_process_publishes_and_stops_cleanly_on_sigterm(
        services: LocalServices, gateway_process: subprocess.Popen[bytes], settings_file: Path) -> None:
    observer = Observer(services.settings.mqtt_endpoint("operator"), f"test-gw-cli-{uuid.uuid4().hex[:8]}").start()
    try:
        assert observer.wait_until(lambda: len(observer.readings("gw-a")) >= 2, 15), log_of(settings_file)
        since = observer.mark()
        gateway_process.send_signal(signal.SIGTERM)
        assert gateway_process.wait(15) == 0, log_of(settings_file)
        assert observer.wait_until(lambda: bool(observer.statuses("gw-a", since)), 5)
        assert observer.statuses("gw-a", since)[-1].state is GatewayState.OFFLINE
    finally:
        observer.close()
    assert (settings_file.parent / "state" / "gateway" / "gw-a" / "queue.db").exists()


@pytest.mark.integration
def test_killed_gateway_process_is_announced_offline_by_its_last_will(
        services: LocalServices, gateway_process: subprocess.Popen[bytes]) -> None:
    observer = Observer(services.settings.mqtt_endpoint("operator"), f"test-gw-cli-{uuid.uuid4().hex[:8]}").start()
    try:
        assert observer.wait_until(lambda: any(s.state is GatewayState.ONLINE for s in observer.statuses("gw-a")), 15)
        since = observer.mark()
        gateway_process.kill()
        gateway_process.wait(10)
        assert observer.wait_until(lambda: any(s.state is GatewayState.OFFLINE for s in observer.statuses("gw-a", since)), 10)
    finally:
        observer.close()


@pytest.mark.integration
def test_fault_injected_with_vigil_simulate_reaches_the_running_gateway(
        services: LocalServices, gateway_process: subprocess.Popen[bytes], settings_file: Path, small_registry: Registry) -> None:
    from simulators.control import FaultCommand, fitting_asset, issue

    observer = Observer(services.settings.mqtt_endpoint("operator"), f"test-gw-cli-{uuid.uuid4().hex[:8]}").start()
    try:
        assert observer.wait_until(lambda: len(observer.readings("gw-a")) >= 2, 15), log_of(settings_file)
        asset = fitting_asset(small_registry, "blood-fridge-door-left-open")
        assert asset == "bb-fridge-1"
        since = observer.mark()
        issue(settings_file.parent / "state", FaultCommand("inject", "blood-fridge-door-left-open", asset))

        def door_open() -> bool:
            return any(r.sensor == "bb-fridge-1-temp" and r.metric == "door_open" and r.value is True
                       for msg in observer.readings("gw-a", since) for r in msg.readings)

        assert observer.wait_until(door_open, 15), log_of(settings_file)
    finally:
        observer.close()
