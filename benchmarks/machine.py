"""What every benchmark starts with: the machine it runs on, and private
Mosquitto and InfluxDB instances for a facility."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

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


def wait_for(url: str, what: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Poll `url` until it answers; fail if `proc` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout:.0f} s")
        time.sleep(1.0)


def scrape(url: str, family: str) -> list[Sample]:
    """The samples of one metric family from a Prometheus /metrics page."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        for found in text_string_to_metric_families(answer.read().decode()):
            if found.name == family:
                return list(found.samples)
    return []
