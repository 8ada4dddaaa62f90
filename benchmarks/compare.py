"""`vigil bench compare`: Vigil's ingest against Telegraf, on the same workload in the same run.

On one private Mosquitto and InfluxDB, for each workload (50 readings per
message; one reading per message) and each run, the consumers take turns,
each run starting with another so drift in the machine's load falls on all.
The same contract messages, published by the example hospital's gateways with
Debian's `mosquitto_pub` (as `vigil bench ingest` does), are consumed by the
real `vigil ingest run`, or by Telegraf (`inputs.mqtt_consumer` + `json_v2` ->
`outputs.influxdb_v2`, benchmarks/telegraf.py) in Vigil's layout and in the
cheapest layout json_v2 allows; all on the `ingest` MQTT account and InfluxDB
token, QoS 1, persistent session. The clock runs from the first publish until
the consumer reports every reading written; a count query then checks that
exactly N points landed. Between turns the consumer's MQTT session is ended,
so the broker queues nothing for a consumer that is not running.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import paho.mqtt.client as mqtt
import psutil
from influxdb_client import InfluxDBClient
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.ingest import Workload, cpu_seconds, publish_with_mosquitto_pub, synthetic_readings
from benchmarks.machine import private_services
from benchmarks.plots import rate_series, throughput_plot
from benchmarks.telegraf import TelegrafConfig, TelegrafProcess, build_telegraf
from ingest.worker import SHARE_GROUP
from vigil.contract import encode_readings
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry, load_registry

# Telegraf twice: in Vigil's layout, and in the cheapest layout json_v2 allows.
SYSTEMS = ("Vigil", "Telegraf", "Telegraf narrow")
TELEGRAF_LAYOUT: dict[str, Literal["kind", "narrow"]] = {"Telegraf": "kind", "Telegraf narrow": "narrow"}
TIMEOUT_S = 600.0
READY_TIMEOUT_S = 120.0  # generous: other people's test runs share the two cores
PROBE_BEFORE_S = 300  # the readiness probe's time, before its turn's window


@dataclass
class Turn:
    """One consumer's run of one workload."""

    system: str
    workload: str
    readings: int
    seconds: float
    cpu_s: float
    peak_rss_mb: float
    landed: int
    load_before: float  # 1-minute load average of the machine
    samples: list[tuple[float, float]] = field(default_factory=list)  # (s since first publish, readings written)

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.seconds

    @property
    def cpu_s_per_million(self) -> float:
        return self.cpu_s / self.readings * 1e6

    @property
    def exact(self) -> bool:
        return self.landed == self.readings


# -- pure: summary and table ---------------------------------------------------


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values to summarise")
        return cls(statistics.median(values), min(values), max(values))


def paired_ratios(vigil: Sequence[Turn], telegraf: Sequence[Turn], figure: Callable[[Turn], float]) -> list[float]:
    """Vigil/Telegraf for each run: the two turns of a run ran minutes apart
    under the same load, so their ratio is steadier than either figure."""
    if len(vigil) != len(telegraf):
        raise ValueError(f"{len(vigil)} Vigil turns but {len(telegraf)} Telegraf turns")
    return [figure(v) / figure(t) for v, t in zip(vigil, telegraf, strict=True)]


def _fmt(s: Spread, digits: int = 0, unit: str = "") -> str:
    return f"{s.median:,.{digits}f}{unit} ({s.low:,.{digits}f}–{s.high:,.{digits}f})"


def format_table(turns: Sequence[Turn]) -> str:
    """A Markdown table: per workload, each consumer and Vigil's ratio to each
    Telegraf configuration, as medians over the runs with (min–max)."""
    rows = ["| workload | consumer | readings/s | ingest CPU s per million readings | peak RSS MB | exactly N landed |",
            "|---|---|---|---|---|---|"]
    for workload in dict.fromkeys(t.workload for t in turns):
        by_system = {s: [t for t in turns if t.workload == workload and t.system == s] for s in SYSTEMS}
        for system, mine in by_system.items():
            if not mine:
                continue
            rows.append(f"| {workload} | {system} | {_fmt(Spread.of([t.readings_per_s for t in mine]))} | "
                        f"{_fmt(Spread.of([t.cpu_s_per_million for t in mine]), 1)} | "
                        f"{max(t.peak_rss_mb for t in mine):,.0f} | "
                        f"{'yes' if all(t.exact for t in mine) else 'NO: ' + ', '.join(str(t.landed) for t in mine)} |")
        vigil = by_system["Vigil"]
        for other in SYSTEMS[1:]:
            telegraf = by_system[other]
            if not (vigil and telegraf):
                continue
            speed = Spread.of(paired_ratios(vigil, telegraf, lambda t: t.readings_per_s))
            cpu = Spread.of(paired_ratios(vigil, telegraf, lambda t: t.cpu_s_per_million))
            rss = max(t.peak_rss_mb for t in vigil) / max(t.peak_rss_mb for t in telegraf)
            rows.append(f"| {workload} | **Vigil/{other}** | **{_fmt(speed, 2, '×')}** | **{_fmt(cpu, 2, '×')}** | "
                        f"{rss:.2f}× | |")
    return "\n".join(rows)


# -- I/O: one turn ---------------------------------------------------------------


def _vigil_written(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("vigil_ingest_readings_written_total "):
                return int(float(line.split()[1]))
    return 0


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def end_session(local: LocalServices, client_id: str) -> None:
    """End an MQTT 3.1.1 persistent session (a clean-session connect), so the
    broker stops queueing the other consumer's traffic for it."""
    ep = local.settings.mqtt_endpoint("ingest")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True)
    client.username_pw_set(ep.username, ep.password.get_secret_value() if ep.password else None)
    client.connect(ep.host, ep.port, keepalive=10)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def count_points(local: LocalServices, start_ns: int, stop_ns: int) -> int:
    ep = local.settings.influx_endpoint("reader")
    query = (f'from(bucket: "{ep.bucket}") |> range(start: time(v: {start_ns}), stop: time(v: {stop_ns})) '
             "|> group() |> count()")
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=300_000) as client:
        return sum(int(r.get_value()) for t in client.query_api().query(query) for r in t.records)


class _Consumer(Protocol):
    """What a turn needs of either consumer."""

    client_id: str

    def processes(self) -> list[psutil.Process]: ...
    def written(self) -> int: ...
    def stop(self) -> None: ...
    def log_tail(self) -> str: ...


class _VigilConsumer:
    def __init__(self, local: LocalServices, gzip: bool, workdir: Path):
        port = free_port()
        env = {**os.environ, "VIGIL_STATE_DIR": str(local.state_dir), "VIGIL_FACILITY": str(local.settings.facility),
               "VIGIL_LOG_LEVEL": "INFO"}
        argv = [sys.executable, "-m", "vigil.cli", "ingest", "run", "--workers", "1", "--metrics-port", str(port)]
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "ingest.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv + (["--gzip"] if gzip else []), env=env, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.client_id = f"{SHARE_GROUP}-0"

    def processes(self) -> list[psutil.Process]:
        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children(recursive=True)]

    def written(self) -> int:
        try:
            return _vigil_written(self.url)
        except OSError:
            return 0  # not serving /metrics yet

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])


class _TelegrafConsumer:
    def __init__(self, local: LocalServices, binary: Path, per_message: int, layout: Literal["kind", "narrow"],
                 gzip: bool, workdir: Path):
        mq = local.settings.mqtt_endpoint("ingest")
        ix = local.settings.influx_endpoint("ingest")
        cfg = TelegrafConfig(mq.host, mq.port, mq.username or "ingest", ix.url, ix.org, ix.bucket, per_message,
                             layout=layout, gzip=gzip)
        self.telegraf = TelegrafProcess(binary, cfg, workdir, mq.password.get_secret_value() if mq.password else "",
                                        ix.token.get_secret_value())
        self.telegraf.start()
        self.client_id = cfg.client_id

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(self.telegraf.pid)]

    def written(self) -> int:
        if not self.telegraf.running():
            raise RuntimeError("telegraf exited: " + "; ".join(self.telegraf.errors[-3:]))
        return self.telegraf.written

    def stop(self) -> None:
        self.telegraf.stop()
        for line in self.telegraf.errors:
            print(f"  telegraf: {line}", file=sys.stderr)

    def log_tail(self) -> str:
        return "\n".join(self.telegraf.errors[-15:]) or "(no errors logged)"


def _messages(registry: Registry, workload: Workload, start_ns: int, seq: dict[str, int]) -> list[tuple[str, str, bytes]]:
    """The workload as contract messages; `seq` carries on across turns, as a gateway's does."""
    payloads = []
    for gw, rs in synthetic_readings(registry, workload.readings, start_ns).items():
        topic = registry.gateways[gw].readings_topic
        for i in range(0, len(rs), workload.per_message):
            seq[gw] += 1
            payloads.append((gw, topic, encode_readings(gw, seq[gw], time.time_ns(), rs[i:i + workload.per_message])))
    return payloads


def _wait_until_consuming(local: LocalServices, registry: Registry, consumer: _Consumer, probe_ns: int,
                          seq: dict[str, int], workdir: Path) -> int:
    """Publish a one-reading probe until the consumer has written it: then it
    is connected and subscribed. Returns its written count at that point."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        probe = _messages(registry, Workload("probe", 1, 1), probe_ns, seq)
        for pub in publish_with_mosquitto_pub(local, probe, workdir):
            pub.wait(30)
        until = time.monotonic() + 3
        while time.monotonic() < until:
            if consumer.written() >= 1:
                time.sleep(0.5)  # a second probe may still be on its way
                return consumer.written()
            time.sleep(0.05)
    raise RuntimeError(f"the consumer wrote no probe within {READY_TIMEOUT_S:.0f} s of starting; its log:\n"
                       + consumer.log_tail())


def turn(system: str, local: LocalServices, registry: Registry, workload: Workload, start_ns: int,
         seq: dict[str, int], telegraf_binary: Path, gzip: bool) -> Turn:
    """One consumer, started fresh, takes one workload; the clock runs from the
    first publish to the consumer reporting every reading written."""
    payloads = _messages(registry, workload, start_ns, seq)
    workdir = local.state_dir / "bench-compare" / f"{system.lower().replace(' ', '-')}-{start_ns}"
    load_before = os.getloadavg()[0]
    consumer: _Consumer = (_VigilConsumer(local, gzip, workdir / "vigil") if system == "Vigil" else
                           _TelegrafConsumer(local, telegraf_binary, workload.per_message, TELEGRAF_LAYOUT[system], gzip,
                                             workdir / "telegraf"))
    try:
        base = _wait_until_consuming(local, registry, consumer, start_ns - PROBE_BEFORE_S * 10**9, seq, workdir / "probe")
        procs = consumer.processes()
        cpu0 = cpu_seconds(procs)
        peak_rss = _rss(procs)
        samples: list[tuple[float, float]] = [(0.0, 0.0)]
        started = time.perf_counter()
        publishers = publish_with_mosquitto_pub(local, payloads, workdir / "publishers")
        while True:
            done = consumer.written() - base
            now = time.perf_counter() - started
            samples.append((now, float(done)))
            peak_rss = max(peak_rss, _rss(procs))
            if done >= workload.readings:
                break
            if now > TIMEOUT_S:
                raise RuntimeError(f"{system}: only {done} of {workload.readings} readings written after {TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(procs) - cpu0
        for pub in publishers:
            pub.wait(30)
    finally:
        consumer.stop()
        end_session(local, consumer.client_id)
    series = sum(len(s.metrics) for s in registry.sensors.values())
    stop_ns = start_ns + (workload.readings // max(1, series) + 2) * 1_000_000
    landed = count_points(local, start_ns, stop_ns)
    return Turn(system, workload.name, workload.readings, elapsed, cpu, peak_rss / 2**20, landed, load_before, samples)


# -- the command -------------------------------------------------------------------


def plot_turns(turns: Sequence[Turn], out_dir: Path) -> list[Path]:
    """Throughput over time, Vigil and Telegraf, one PNG per workload (the first run's turns)."""
    paths = []
    for workload in dict.fromkeys(t.workload for t in turns):
        first = {s: next(t for t in turns if t.workload == workload and t.system == s) for s in SYSTEMS
                 if any(t.workload == workload and t.system == s for t in turns)}
        slug = "batched" if workload.startswith("50") else "single"
        series = {f"{s} ({t.readings_per_s:,.0f}/s overall)": rate_series(t.samples, 0.5) for s, t in first.items()}
        paths.append(throughput_plot(series, out_dir / f"compare-{slug}.png",
                                     f"Ingest throughput, {workload}: Vigil vs Telegraf (first run)"))
    return paths


def run(runs: int = 3, readings: int = 1_000_000, single_messages: int = 100_000, gzip: bool = False,
        facility: Path = Path("examples/hospital.yaml"), plots: Path = Path("docs/benchmarks")) -> None:
    telegraf_binary = build_telegraf()
    version = subprocess.run([str(telegraf_binary), "--version"], capture_output=True, text=True).stdout.strip()
    registry = load_registry(facility)
    print(version)
    with private_services(facility, registry, "vigil-bench-compare-") as local:
        # Each turn writes into its own time window, all in the past (Vigil
        # refuses readings from the future), with room for the probe between.
        series = sum(len(s.metrics) for s in registry.sensors.values())
        window_ns = (max(readings, single_messages) // series // 1000 + 2 * PROBE_BEFORE_S) * 10**9
        turns_total = 2 * runs * len(SYSTEMS)
        base = ((time.time_ns() - (turns_total + 2) * window_ns) // 10**9) * 10**9
        workloads = [Workload("50 readings/message", readings, 50), Workload("1 reading/message", single_messages, 1)]
        seq = dict.fromkeys(registry.gateways, 0)
        turns: list[Turn] = []
        window = 0
        for workload in workloads:
            for r in range(runs):
                # Each run starts with another consumer, so the machine's drift is shared.
                for system in SYSTEMS[r % len(SYSTEMS):] + SYSTEMS[:r % len(SYSTEMS)]:
                    window += 1
                    t = turn(system, local, registry, workload, base + window * window_ns, seq, telegraf_binary, gzip)
                    turns.append(t)
                    print(f"  {workload.name}, run {r + 1}, {system}: {t.readings_per_s:,.0f} readings/s, "
                          f"CPU {t.cpu_s_per_million:.1f} s/M, peak RSS {t.peak_rss_mb:.0f} MB, "
                          f"landed {t.landed:,} of {t.readings:,}, load before {t.load_before:.2f}", flush=True)
        print(f"\nmedians of {runs} runs (min–max); load average now {os.getloadavg()[0]:.2f}\n")
        print(format_table(turns))
        for path in plot_turns(turns, plots):
            print(f"plot: {path}")
