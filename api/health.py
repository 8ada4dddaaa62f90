"""Readiness checks, each on its own with a short timeout: the database, a
TCP connection to the broker, InfluxDB's health, and the age of the newest
reading (no data flowing means the platform is blind)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.readings import ReadingsSource
from api.schemas import Check
from vigil.settings import Settings

TIMEOUT_S = 2.0


def _timed(check: Callable[[], tuple[bool, str]]) -> Check:
    began = time.perf_counter()
    try:
        ok, detail = check()
    except Exception as exc:  # a failing dependency is a failed check, never a 500
        ok, detail = False, f"{type(exc).__name__}"
    return Check(ok=ok, detail=detail, seconds=round(time.perf_counter() - began, 4))


def broker_address(settings: Settings) -> tuple[str, int]:
    """Host and port of the broker (no credentials needed for a TCP check)."""
    if settings.mqtt_url is not None:
        endpoint = settings.mqtt_endpoint()
        return endpoint.host, endpoint.port
    state = settings.services_state().get("mqtt") or {}
    if not state:
        raise LookupError("mqtt_url not set, and `vigil services up` has not run")
    return str(state["host"]), int(state["port"])


def check_database(engine: Engine) -> tuple[bool, str]:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True, "reachable"


def check_broker(settings: Settings) -> tuple[bool, str]:
    host, port = broker_address(settings)
    with socket.create_connection((host, port), timeout=TIMEOUT_S):
        return True, f"tcp {host}:{port} accepts connections"


def check_newest_reading(readings: ReadingsSource, max_age: timedelta) -> tuple[bool, str]:
    newest = readings.newest_reading()
    if newest is None:
        return False, "no readings stored"
    age = (datetime.now(UTC) - newest).total_seconds()
    return age <= max_age.total_seconds(), f"newest reading {age:.0f} s old (limit {max_age.total_seconds():.0f} s)"


def readiness(settings: Settings, engine: Engine, readings: ReadingsSource, max_age: timedelta) -> dict[str, Check]:
    """Every check's result, by name."""
    return {
        "database": _timed(lambda: check_database(engine)),
        "broker": _timed(lambda: check_broker(settings)),
        "influxdb": _timed(readings.healthy),
        "newest_reading": _timed(lambda: check_newest_reading(readings, max_age)),
    }
