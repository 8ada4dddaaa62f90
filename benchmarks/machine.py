"""What every benchmark starts with: the machine it runs on, and private
Mosquitto and InfluxDB instances for a facility."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry
from vigil.settings import Settings


def machine() -> str:
    """This machine's cores, memory and load average, for a benchmark's first line."""
    return f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, load average {os.getloadavg()[0]:.2f}"


@contextmanager
def private_services(facility: Path, registry: Registry, prefix: str) -> Iterator[LocalServices]:
    """Private Mosquitto and InfluxDB for `registry` in a temporary state
    directory, stopped and removed afterwards; prints the machine line."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        settings = Settings(state_dir=Path(tmp), facility=facility.resolve(), mqtt_port=free_port(), influx_port=free_port())
        local = LocalServices(settings, registry)
        local.up()
        try:
            print(f"machine: {machine()}; facility {facility} ({len(registry.sensors)} sensors, {len(registry.gateways)} gateways)")
            yield local
        finally:
            local.down()
