"""Fixtures for the dashboard tests: the test facility, its dashboards, and a
day of its simulated readings in the real test InfluxDB, downsampled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from dashboards.build import dashboards_for
from dashboards.model import Dashboard
from ingest.deadletter import DeadLetter
from ingest.points import PointWriter
from simulators import Simulation
from tests.dashboards.grafana_kit import NS, TimeRange
from vigil.contract import Reason
from vigil.infra.downsampling import hour_flux, minute_flux
from vigil.infra.local import LocalServices
from vigil.registry import Registry, load_registry

EVERY_PROFILE = Path(__file__).parent / "data" / "every-profile.yaml"
HOUR_NS = 3600 * NS
SEED = 20261123
# The faults the behavioural tests look for: a blood fridge warming for its last
# three hours, and a sub-meter leaking all day.
COMPRESSOR_FAILURE = ("blood-fridge-compressor-failure", "bb-fridge-1", 3 * HOUR_NS)
NIGHT_LEAK = ("water-night-leak", "water-lab-sub")
DEAD_LETTERS = {Reason.UNKNOWN_SENSOR: 3, Reason.IMPOSSIBLE_VALUE: 2, Reason.BAD_UNIT: 1}


@pytest.fixture(scope="session")
def facility() -> Registry:
    return load_registry(EVERY_PROFILE)


@pytest.fixture(scope="session")
def facility_dashboards(facility: Registry) -> tuple[Dashboard, ...]:
    return dashboards_for(facility)


@dataclass(frozen=True)
class FacilityData:
    """The readings written: `day` is the 24 h they cover."""

    day: TimeRange
    lines: int
    write_s: float
    downsample_s: float


def influx(services: LocalServices, role: str) -> InfluxDBClient:
    ep = services.settings.influx_endpoint(role)
    return InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=60_000)


@pytest.fixture(scope="session")
def facility_data(services: LocalServices, facility: Registry) -> Iterator[FacilityData]:
    """The 24 h ending 6 h ago (whole hours): no other test writes there (the
    ingest tests use the last three hours)."""
    stop = (time.time_ns() // HOUR_NS - 6) * HOUR_NS
    day = TimeRange(stop - 24 * HOUR_NS, stop)
    sim = Simulation(facility, SEED, day.start_ns)
    scenario, asset, before_end = COMPRESSOR_FAILURE
    sim.inject(scenario, asset, at_ns=stop - before_end)
    sim.inject(NIGHT_LEAK[0], NIGHT_LEAK[1], at_ns=day.start_ns)
    writer = PointWriter(facility)
    now = time.time_ns()
    lines = [writer.judge(r, facility.sensors[r.sensor].gateway, now) for r in sim.readings_between(day.start_ns, day.stop_ns)]
    dead = [DeadLetter(reason, "a test dead letter", "vigil/v1/east/gw-lab/readings", "gw-lab", "east", {"sensor": "x"}).line(
            day.start_ns + (i * 7919 + n) * NS) for i, (reason, count) in enumerate(DEAD_LETTERS.items()) for n in range(count)]
    t0 = time.perf_counter()
    with influx(services, "ingest") as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        for i in range(0, len(lines), 20_000):
            write.write(bucket="readings", record=lines[i:i + 20_000])
        write.write(bucket="deadletter", record=dead)
        t1 = time.perf_counter()
        # What the tasks do every minute and every hour, done here for the whole day at once.
        # The day in six-hour slices side by side, as InfluxDB would run many task runs.
        query = client.query_api()
        slices = [(day.start_ns + i * 6 * HOUR_NS, day.start_ns + (i + 1) * 6 * HOUR_NS) for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda s: query.query(minute_flux(f"time(v: {s[0]})", f"time(v: {s[1]})")), slices))
            list(pool.map(lambda s: query.query(hour_flux(f"time(v: {s[0]})", f"time(v: {s[1]})")), slices))
    yield FacilityData(day, len(lines), t1 - t0, time.perf_counter() - t1)
