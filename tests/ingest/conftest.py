"""Fixtures for ingest tests against the real broker and InfluxDB."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from influxdb_client import InfluxDBClient

from ingest.worker import IngestOptions, IngestWorker
from vigil.infra.local import LocalServices
from vigil.registry import Registry

_groups = itertools.count()


@dataclass
class Window:
    """A stretch of past time that only one test writes readings into, so
    exact counts are not disturbed by other tests' points."""

    start_ns: int
    stop_ns: int

    def ts(self, i: int, step_ms: int = 1) -> int:
        ts = self.start_ns + i * step_ms * 1_000_000
        assert ts < self.stop_ns, "window too small for this test"
        return ts


_next_window = [((time.time_ns() // 10**9) - 3 * 3600) * 10**9]


@pytest.fixture
def window() -> Window:
    """A fresh two-minute window in the past (up to 3 hours ago)."""
    start = _next_window[0]
    _next_window[0] += 120 * 10**9
    return Window(start, start + 120 * 10**9)


@dataclass
class RunningWorker:
    worker: IngestWorker
    stop: threading.Event
    thread: threading.Thread

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(30)


@pytest.fixture
def start_worker(services: LocalServices, small_registry: Registry) -> Iterator[Callable[..., RunningWorker]]:
    group = f"test-ingest-{next(_groups)}"
    running: list[RunningWorker] = []

    def start(index: int = 0, **options: object) -> RunningWorker:
        opts = IngestOptions(share_group=group, session_expiry_s=600, retry_initial_s=0.2, retry_max_s=2, **options)  # type: ignore[arg-type]
        worker = IngestWorker(small_registry, services.settings.mqtt_endpoint("ingest"), services.settings.influx_endpoint("ingest"),
                              index=index, state_dir=services.state_dir / group, options=opts)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        assert worker.subscribed.wait(10), "the worker did not subscribe"
        rw = RunningWorker(worker, stop, thread)
        running.append(rw)
        return rw

    yield start
    for rw in running:
        rw.halt()


def count_points(services: LocalServices, window: Window, bucket: str = "readings") -> dict[str, int]:
    """Points per measurement in the window."""
    ep = services.settings.influx_endpoint("reader")
    query = f'''from(bucket: "{bucket}") |> range(start: time(v: {window.start_ns}), stop: time(v: {window.stop_ns}))
                |> count()'''
    counts: dict[str, int] = {}
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=60_000) as client:
        for table in client.query_api().query(query):
            for r in table.records:
                counts[r.get_measurement()] = counts.get(r.get_measurement(), 0) + int(r.get_value())
    return counts


def wait_for_count(services: LocalServices, window: Window, expected: int, timeout: float = 60) -> int:
    """Poll until the window holds `expected` points (or time runs out); then
    wait a little longer to see that no more arrive."""
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = sum(count_points(services, window).values())
        if total >= expected:
            time.sleep(1.0)
            return sum(count_points(services, window).values())
        time.sleep(0.5)
    return total
