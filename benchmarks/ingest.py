"""`vigil bench ingest`: end-to-end ingest throughput against its ceiling.

In one run, on private Mosquitto and InfluxDB instances:
- the ceiling: the same line protocol written straight to InfluxDB over HTTP,
  in the same batch size, by one writer (with and without gzip), measured
  again before each round of end-to-end runs;
- end to end: contract messages published by the example hospital's gateways
  (with their own credentials) to Mosquitto, consumed by the real
  `vigil ingest run` process, until it reports every reading written (an
  InfluxDB write returns only when the points are queryable); then a count
  query checks that exactly N points landed.

Prints readings/s, the ingest process's CPU seconds per million readings,
and the ratio to the ceiling, per workload.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
from influxdb_client import InfluxDBClient

from benchmarks.machine import private_services
from ingest.influx import InfluxWriter
from ingest.points import PointWriter
from ingest.worker import IngestOptions
from vigil.contract import Reading, encode_readings
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.kinds import ValueType
from vigil.registry import Registry, load_registry

BATCH_LINES = 10_000


@dataclass
class Workload:
    name: str
    readings: int
    per_message: int


@dataclass
class Figures:
    workload: str
    readings: int
    messages: int
    seconds: float
    readings_per_s: float
    cpu_s_per_million: float
    peak_rss_mb: float
    exact: bool


def synthetic_readings(registry: Registry, count: int, start_ns: int) -> dict[str, list[Reading]]:
    """`count` valid readings spread over every sensor and metric, with
    distinct times per series, grouped by gateway."""
    series = [(s, m) for s in registry.sensors.values() for m in s.metrics]
    by_gateway: dict[str, list[Reading]] = {gw: [] for gw in registry.gateways}
    for k in range(count):
        sensor, metric = series[k % len(series)]
        spec = sensor.metric_spec(metric)
        assert spec is not None
        if spec.value_type is ValueType.BOOL:
            value: float | bool = k % 3 == 0
        else:
            lo = spec.minimum if spec.minimum is not None else 0.0
            value = max(lo, 0.0) + (k % 97) * 0.01
        by_gateway[sensor.gateway].append(Reading(sensor.id, metric, value, start_ns + (k // len(series)) * 1_000_000))
    return by_gateway


def ceiling(local: LocalServices, registry: Registry, readings: dict[str, list[Reading]], gzip: bool, in_flight: int = 1) -> float:
    """Readings/s writing the same line protocol straight to InfluxDB,
    `in_flight` batches at a time (as many as ingest writes at once)."""
    points = PointWriter(registry)
    now = time.time_ns()
    lines = [points.judge(r, gw, now) for gw, rs in readings.items() for r in rs]
    writer = InfluxWriter(local.settings.influx_endpoint("ingest"), gzip_body=gzip)
    batches = [lines[i:i + BATCH_LINES] for i in range(0, len(lines), BATCH_LINES)]
    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        for _ in pool.map(writer.write, batches):
            pass
    elapsed = time.perf_counter() - started
    writer.close()
    return len(lines) / elapsed


def _written(metrics_urls: list[str]) -> float:
    """Readings written, summed over the workers' /metrics."""
    total = 0.0
    for url in metrics_urls:
        with urllib.request.urlopen(url, timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith("vigil_ingest_readings_written_total "):
                    total += float(line.split()[1])
    return total


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """User and system CPU seconds of the processes still running."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _count(local: LocalServices, start_ns: int, stop_ns: int) -> int:
    ep = local.settings.influx_endpoint("reader")
    query = f'from(bucket: "readings") |> range(start: time(v: {start_ns}), stop: time(v: {stop_ns})) |> count()'
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=300_000) as client:
        return sum(int(r.get_value()) for t in client.query_api().query(query) for r in t.records)


# Measured with Mosquitto 2.0.11's `mosquitto_pub -l`: a run of more than
# 65,535 lines exits 0 without publishing its last 65,533 (its packet ids
# wrap, and it stops at the first acknowledgement of the last id). So no
# process is given more lines than this; a gateway with more gets several.
MOSQUITTO_PUB_MAX_LINES = 60_000


def publish_with_mosquitto_pub(local: LocalServices, payloads: list[tuple[str, str, bytes]], workdir: Path) -> list[subprocess.Popen[bytes]]:
    """Debian `mosquitto_pub -l` per gateway (a C publisher, as a device
    would be, so the publisher's own CPU does not weigh on the measurement),
    each with that gateway's credentials, passed in an options file rather
    than on the command line."""
    by_gateway: dict[str, list[bytes]] = {}
    topics: dict[str, str] = {}
    for gw, topic, body in payloads:
        by_gateway.setdefault(gw, []).append(body)
        topics[gw] = topic
    procs = []
    for gw, bodies in by_gateway.items():
        ep = local.settings.mqtt_endpoint(gw)
        home = workdir / gw
        home.mkdir(parents=True, exist_ok=True)
        options = home / "mosquitto_pub"
        options.touch(mode=0o600)
        options.write_text(f"-u {ep.username}\n-P {ep.password.get_secret_value() if ep.password else ''}\n")
        for part, first in enumerate(range(0, len(bodies), MOSQUITTO_PUB_MAX_LINES)):
            data = home / f"payloads.{part}"
            data.write_bytes(b"\n".join(bodies[first:first + MOSQUITTO_PUB_MAX_LINES]) + b"\n")
            with data.open("rb") as stdin:
                procs.append(subprocess.Popen(
                    ["mosquitto_pub", "-h", ep.host, "-p", str(ep.port), "-q", "1", "-t", topics[gw], "-l",
                     "--id", f"bench-{gw}-{part}", "-V", "mqttv311"],
                    stdin=stdin, env={**os.environ, "XDG_CONFIG_HOME": str(home)}))
    return procs


def end_to_end(local: LocalServices, registry: Registry, workload: Workload, start_ns: int, gzip: bool, workers: int = 1,
               subscription: str = "partitioned", in_flight: int | None = None) -> Figures:
    readings = synthetic_readings(registry, workload.readings, start_ns)
    stop_ns = start_ns + (workload.readings // max(1, sum(len(s.metrics) for s in registry.sensors.values())) + 2) * 1_000_000
    payloads: list[tuple[str, str, bytes]] = []
    seq = {gw: 0 for gw in registry.gateways}
    for gw, rs in readings.items():
        topic = registry.gateways[gw].readings_topic
        for i in range(0, len(rs), workload.per_message):
            seq[gw] += 1
            payloads.append((gw, topic, encode_readings(gw, seq[gw], time.time_ns(), rs[i:i + workload.per_message])))

    metrics_port = free_port()
    env = {**os.environ, "VIGIL_STATE_DIR": str(local.state_dir), "VIGIL_FACILITY": str(local.settings.facility),
           "VIGIL_LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "vigil.cli", "ingest", "run", "--workers", str(workers), "--metrics-port", str(metrics_port),
            "--subscription", subscription, *(["--writes-in-flight", str(in_flight)] if in_flight else [])]
    proc = subprocess.Popen(argv + (["--gzip"] if gzip else []), env=env)
    metrics_url = [f"http://127.0.0.1:{metrics_port + i}/metrics" for i in range(workers)]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _written(metrics_url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the ingest process did not start") from None
                time.sleep(0.2)
        time.sleep(1.0)  # let it subscribe
        parent = psutil.Process(proc.pid)
        ps = [parent, *parent.children(recursive=True)]
        cpu0 = cpu_seconds(ps)
        peak_rss = sum(p.memory_info().rss for p in ps)

        started = time.perf_counter()
        publishers = publish_with_mosquitto_pub(local, payloads, Path(local.state_dir) / "bench-publishers")
        while True:
            written = _written(metrics_url)
            peak_rss = max(peak_rss, sum(p.memory_info().rss for p in ps if p.is_running()))
            if written >= workload.readings:
                break
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {written:.0f} of {workload.readings} readings written after 600 s")
            time.sleep(0.05)
        # The written counters also count readings delivered twice (two workers
        # overlap while subscriptions change hands; InfluxDB keeps one point), so
        # the clock stops when InfluxDB holds all N, not when the counters say so.
        elapsed = time.perf_counter() - started
        if _count(local, start_ns, stop_ns) < workload.readings:
            while _count(local, start_ns, stop_ns) < workload.readings and time.perf_counter() - started < 600:
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        cpu1 = cpu_seconds(ps)
        for pub in publishers:
            pub.wait(30)
    finally:
        proc.terminate()
        proc.wait(30)
    cpu = cpu1 - cpu0
    exact = _count(local, start_ns, stop_ns) == workload.readings
    return Figures(workload.name, workload.readings, len(payloads), elapsed, workload.readings / elapsed,
                   cpu / workload.readings * 1e6, peak_rss / 2**20, exact)


def _spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):,.0f}{unit} (spread {min(values):,.0f}-{max(values):,.0f})"


def run(readings: int = 1_000_000, single_messages: int = 200_000, repeats: int = 3, gzip: bool = False,
        facility: Path = Path("examples/hospital.yaml"), workers: int = 1, in_flight: int | None = None) -> None:
    """`repeats` rounds, each a ceiling (plain and gzip) then every workload
    end to end, so a ratio compares runs that saw the same machine: the
    machine is shared, and its load drifts over minutes."""
    in_flight = in_flight or IngestOptions().writes_in_flight
    registry = load_registry(facility)
    with private_services(facility, registry, "vigil-bench-") as local:
        base = ((time.time_ns() - 6 * 3600 * 10**9) // 10**9) * 10**9
        sample = synthetic_readings(registry, min(readings, 500_000), base - 3600 * 10**9)
        workloads = [Workload("50 readings/message", readings, 50), Workload("1 reading/message", single_messages, 1)]
        plain: list[float] = []
        zipped: list[float] = []
        runs: dict[str, list[Figures]] = {w.name: [] for w in workloads}
        for r in range(repeats):
            plain.append(ceiling(local, registry, sample, gzip=False, in_flight=in_flight))
            zipped.append(ceiling(local, registry, sample, gzip=True, in_flight=in_flight))
            for w_index, workload in enumerate(workloads):
                start = base + (r * len(workloads) + w_index) * 1800 * 10**9
                runs[workload.name].append(end_to_end(local, registry, workload, start, gzip, workers, in_flight=in_flight))
        raw = zipped if gzip else plain
        print(f"ceiling, raw line protocol over HTTP, {BATCH_LINES} lines/batch, {in_flight} at a time: plain {_spread(plain, '/s')}, gzip {_spread(zipped, '/s')}")
        for workload in workloads:
            figures = runs[workload.name]
            rates = [f.readings_per_s for f in figures]
            ratios = [f.readings_per_s / c for f, c in zip(figures, raw, strict=True)]
            med = statistics.median(rates)
            print(f"end to end, {workers} worker(s) writing {in_flight} batch(es) at a time, {workload.name}: {_spread(rates, ' readings/s')}, {med / workload.per_message:,.0f} messages/s; "
                  f"ingest CPU {statistics.median(f.cpu_s_per_million for f in figures):.1f} s per million readings; "
                  f"peak RSS {max(f.peak_rss_mb for f in figures):.0f} MB; ratio to the same round's ceiling "
                  f"{statistics.median(ratios):.0%} (spread {min(ratios):.0%}-{max(ratios):.0%}); exactly N points: {all(f.exact for f in figures)}")


if __name__ == "__main__":
    run()
