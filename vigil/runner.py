"""`vigil run` (`make run`): start the local services and every platform
process for the facility config, print where to look, and stop it all cleanly
on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from vigil.infra.local import LocalServices
from vigil.infra.process import ServiceError
from vigil.registry import Registry
from vigil.settings import Settings


@dataclass
class PlatformProcess:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def platform_processes(local: LocalServices, speed: float = 1.0, seed: int = 1) -> list[PlatformProcess]:
    """The platform's own processes: ingest, and one gateway per gateway of
    the facility fed by the simulators. Services join as they are built."""
    vigil = [sys.executable, "-m", "vigil.cli"]
    procs = [
        PlatformProcess("ingest", [*vigil, "ingest", "run", "--metrics-port", "9464"]),
        PlatformProcess("alerts", [*vigil, "alerts", "run", "--metrics-port", "9470"]),
        PlatformProcess("api", [*vigil, "api", "serve", "--port", "8080"]),
    ]
    for gw in sorted(local.registry.gateways):
        procs.append(PlatformProcess(f"gateway {gw}", [*vigil, "gateway", "run", "--gateway", gw, "--speed", str(speed), "--seed", str(seed)]))
    return procs


def _fresh_admin_token(settings: Settings) -> str:
    """An admin API token for this run, replacing the previous run's."""
    from alerts.store import open_store
    from api.roles import Role
    from api.tokens import create_token, ensure_token_table, list_tokens, revoke_token

    store = open_store(settings.database)
    try:
        ensure_token_table(store.engine)
        # Names stay unique even once revoked (they are who acted in the audit trail).
        for old in list_tokens(store.engine):
            if old.name.startswith("make-run-admin"):
                revoke_token(store.engine, old.name)
        name = f"make-run-admin-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
        _, token = create_token(store.engine, name, Role.ADMIN)
    finally:
        store.close()
    return token


def run_platform(settings: Settings, registry: Registry, speed: float = 1.0, seed: int = 1) -> int:
    local = LocalServices(settings, registry)
    print(f"starting local services in {local.state_dir} ...", flush=True)
    try:
        local.up()
    except ServiceError as exc:
        print(f"could not start the local services: {exc}", file=sys.stderr)
        return 1
    status = local.status()
    print(f"  mosquitto  {status['mosquitto']['url']}")
    print(f"  influxdb   {status['influxdb']['url']}")
    print(f"facility: {settings.facility} ({len(registry.sensors)} sensors, {len(registry.gateways)} gateways)")
    print("connection settings for your shell:  eval \"$(.venv/bin/vigil services env --service operator)\"")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    admin_token = _fresh_admin_token(settings)
    children: list[tuple[PlatformProcess, subprocess.Popen[bytes]]] = []
    logs = local.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Every child reads the same settings: the services' state and the facility.
    base_env = {**os.environ, "VIGIL_STATE_DIR": str(local.state_dir), "VIGIL_FACILITY": str(settings.facility.resolve())}
    for proc in platform_processes(local, speed, seed):
        log = (logs / f"{proc.name.replace(' ', '-')}.log").open("ab")
        children.append((proc, subprocess.Popen(proc.argv, env={**base_env, **proc.env}, stdout=log, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL)))
    print(f"started {len(children)} processes (ingest, alerts, {len(registry.gateways)} gateways on simulated sensors "
          f"at speed {speed:g}); logs in {logs}")
    print("metrics: ingest http://127.0.0.1:9464/metrics, alerts http://127.0.0.1:9470/metrics")
    print("alerts: .venv/bin/vigil alerts list    work orders: .venv/bin/vigil orders list")
    print("API: http://127.0.0.1:8080/api/v1 (docs: http://127.0.0.1:8080/docs)")
    print(f"admin token for this run (Authorization: Bearer ...): {admin_token}")
    print("console: http://127.0.0.1:8080/console/ (sign in with the token above)")
    print("running; press Ctrl-C to stop", flush=True)
    try:
        while not stop.wait(1.0):
            for proc, child in children:
                if child.poll() is not None:
                    print(f"{proc.name} exited with {child.returncode}; stopping", file=sys.stderr)
                    stop.set()
    finally:
        print("stopping ...", flush=True)
        for _, child in reversed(children):
            child.terminate()
        for _, child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        local.down()
        print("stopped")
    return 0
