"""Test session fixtures. The integration fixtures start a private, real
Mosquitto and a real InfluxDB 2.7 on free loopback ports in a temporary
directory, once per test session, through the same code as `vigil services up`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry, load_registry
from vigil.settings import Settings

DATA = Path(__file__).parent / "data"
SMALL_FACILITY = DATA / "small-facility.yaml"

# A developer's own VIGIL_* exports must not point the tests at their services.
for _name in [n for n in os.environ if n.startswith("VIGIL_") and n not in ("VIGIL_CACHE_DIR", "VIGIL_INFLUXD", "VIGIL_TEST_POSTGRES_URL")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def small_registry() -> Registry:
    return load_registry(SMALL_FACILITY)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[LocalServices]:
    state_dir = tmp_path_factory.mktemp("vigil-state")
    settings = Settings(state_dir=state_dir, facility=SMALL_FACILITY, mqtt_port=free_port(), influx_port=free_port())
    local = LocalServices(settings, small_registry)
    local.up()
    yield local
    local.down()
