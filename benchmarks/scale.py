"""`vigil bench scale` and `vigil bench overload`: a hospital group on one machine.

A generated registry (`hospital_group_yaml`: hospitals x buildings x
gateways, one reading every `interval_s` per sensor) runs through the real
services as `vigil run` starts them: private Mosquitto and InfluxDB, `vigil
ingest run`, `vigil alerts run` and `vigil api serve`, and the real gateway
code (`gateway.Gateway`, with its SQLite disk backlog) many to a process (one
process per gateway would be 200 Python interpreters on 2 cores), fed by a
`ScheduledSource` that follows a `RateSchedule` (1x, or 10x for a while).

Every few seconds it samples readings taken, written and on the gateways' disk
backlogs, ingest's lag, and the RSS of every process; a few probe fridges
report 12 °C (alarm delay 0) and the time from the reading to the alert
recorded (`fired_at - since`, both in the store) and to the webhook receiving
the notification is measured. At the end it waits for the backlogs to drain
and checks that InfluxDB holds exactly as many readings as the gateways took.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path

import psutil

from benchmarks.machine import machine, scrape, wait_for
from vigil.contract import Reading
from vigil.infra.local import LocalServices
from vigil.profiles import PROFILES

NS_PER_S = 1_000_000_000

# What the generated assets are, in proportion, with one metric each: a
# hospital's cold chain dominates the sensor count; medical gas lines follow.
ASSET_MIX: tuple[tuple[str, str, int], ...] = (
    ("vaccine_fridge", "temperature", 4),
    ("pharmacy_fridge", "temperature", 3),
    ("blood_bank_fridge", "temperature", 1),
    ("plasma_freezer", "temperature", 1),
    ("oxygen_line", "pressure", 1),
)
PROBE_VALUE = 12.0  # °C in a 2-8 °C vaccine fridge: out of range at once


# --------------------------------------------------------------------------
# The generated hospital group (pure)


@dataclass(frozen=True)
class GroupShape:
    hospitals: int = 20
    buildings: int = 5  # per hospital
    gateways_per_building: int = 2
    sensors_per_gateway: int = 500

    @property
    def gateways(self) -> int:
        return self.hospitals * self.buildings * self.gateways_per_building

    @property
    def sensors(self) -> int:
        return self.gateways * self.sensors_per_gateway


def gateway_id(h: int, b: int, g: int) -> str:
    return f"gw-h{h:02d}-b{b}-{g}"


def probe_sensor(gw: str) -> str:
    """The one sensor per gateway whose alarm delay is zero: a probe fires at once."""
    return f"{gw.removeprefix('gw-')}-probe"


def probe_asset_name(gw: str) -> str:
    """A name no other asset's contains, so its notification can be told apart."""
    return f"Probe fridge {gw.removeprefix('gw-')}Z"


def group_layout(shape: GroupShape) -> dict[str, tuple[str, list[tuple[str, str, str]]]]:
    """Per gateway, its site and its sensors as (sensor id, profile, metric),
    in the order `hospital_group_yaml` writes them; the probe fridge first."""
    cycle = [i for i, (_, _, w) in enumerate(ASSET_MIX) for _ in range(w)]
    layout: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
    for h in range(shape.hospitals):
        for b in range(shape.buildings):
            for g in range(shape.gateways_per_building):
                gw = gateway_id(h, b, g)
                tag = gw.removeprefix("gw-")
                sensors = [(probe_sensor(gw), "vaccine_fridge", "temperature")]
                for k in range(1, shape.sensors_per_gateway):
                    profile, metric, _ = ASSET_MIX[cycle[k % len(cycle)]]
                    sensors.append((f"{tag}-s{k}", profile, metric))
                layout[gw] = (f"h{h:02d}", sensors)
    return layout


def hospital_group_yaml(shape: GroupShape) -> str:
    """A facility config (vigil/registry.py format) for a group of hospitals:
    one site per hospital, `gateways_per_building` gateways per building, each
    gateway's sensors on a floor of its own in rooms of 50 assets; one metric
    per sensor, assets in the `ASSET_MIX` proportions, and one probe vaccine
    fridge per gateway with an alarm delay of zero."""
    layout = group_layout(shape)
    out = ["name: Bench Hospital Group", "sites:"]
    for h in range(shape.hospitals):
        out += [f"  - id: h{h:02d}", f"    name: Hospital {h:02d}", "    timezone: Asia/Shanghai", "    gateways:"]
        out += [f"      - {{id: {gateway_id(h, b, g)}}}" for b in range(shape.buildings) for g in range(shape.gateways_per_building)]
        out.append("    buildings:")
        for b in range(shape.buildings):
            out += [f"      - id: b{b}", f"        name: Building {b}", "        floors:"]
            for g in range(shape.gateways_per_building):
                gw = gateway_id(h, b, g)
                tag = gw.removeprefix("gw-")
                out += [f"          - id: f{g}", f"            name: Floor {g}", "            rooms:"]
                for k, (sensor, profile, metric) in enumerate(layout[gw][1]):
                    if k % 50 == 0:
                        out += [f"              - id: r{k // 50}", f"                name: Room {k // 50}", "                assets:"]
                    if k == 0:
                        out.append(f"                  - {{id: {tag}-p, name: {probe_asset_name(gw)}, profile: {profile}, "
                                   f"thresholds: {{{metric}: {{delay: 0}}}}, sensors: [{{id: {sensor}, gateway: {gw}, "
                                   f"metrics: [{metric}]}}]}}")
                    else:
                        out.append(f"                  - {{id: {tag}-a{k}, name: Asset {tag}-{k}, profile: {profile}, "
                                   f"sensors: [{{id: {sensor}, gateway: {gw}, metrics: [{metric}]}}]}}")
    return "\n".join(out) + "\n"


def gateways_only_yaml(layout: dict[str, tuple[str, list[tuple[str, str, str]]]]) -> str:
    """The same sites and gateways without the sensors: what the broker's
    accounts need, loaded in a blink (the full group takes minutes to parse)."""
    sites: dict[str, list[str]] = {}
    for gw, (site, _) in layout.items():
        sites.setdefault(site, []).append(gw)
    out = ["name: Bench Hospital Group", "sites:"]
    for site, gws in sites.items():
        out += [f"  - id: {site}", f"    name: {site}", "    timezone: Asia/Shanghai", "    gateways:"]
        out += [f"      - {{id: {gw}}}" for gw in gws]
        out.append("    buildings: []")
    return "\n".join(out) + "\n"


def normal_value(profile: str, metric: str) -> float:
    """A value well inside the profile's alarm range for `metric`."""
    limits = PROFILES[profile].thresholds[metric]
    lo, hi = limits.effective_low, limits.effective_high
    if lo is not None and hi is not None:
        return round((lo + hi) / 2, 3)
    if hi is not None:
        return hi - 10.0
    if lo is not None:
        return lo + 10.0
    return 0.0


# --------------------------------------------------------------------------
# The load over time (pure)


@dataclass(frozen=True)
class Phase:
    seconds: float
    factor: float  # times the base rate


@dataclass(frozen=True)
class RateSchedule:
    """The readings per second a gateway takes, phase after phase; nothing after the last."""

    base_per_s: float
    phases: tuple[Phase, ...]

    @property
    def duration_s(self) -> float:
        return sum(p.seconds for p in self.phases)

    def rate_at(self, t: float) -> float:
        for p in self.phases:
            if t < p.seconds:
                return self.base_per_s * p.factor if t >= 0 else 0.0
            t -= p.seconds
        return 0.0

    def due(self, t: float) -> int:
        """Readings due in [0, t): the integral of the rate, rounded down."""
        total, left = 0.0, max(0.0, t)
        for p in self.phases:
            step = min(left, p.seconds)
            total += step * self.base_per_s * p.factor
            left -= step
            if left <= 0:
                break
        return math.floor(total + 1e-9)

    def total(self) -> int:
        return self.due(self.duration_s)


def steady(base_per_s: float, seconds: float) -> RateSchedule:
    return RateSchedule(base_per_s, (Phase(seconds, 1.0),))


def overload(base_per_s: float, before_s: float, surge_s: float, after_s: float, factor: float = 10.0) -> RateSchedule:
    return RateSchedule(base_per_s, (Phase(before_s, 1.0), Phase(surge_s, factor), Phase(after_s, 1.0)))


class ScheduledSource:
    """A gateway's sensors taking readings at the schedule's rate, round
    robin; `probes_at` (seconds after the start) make the probe sensor report
    `PROBE_VALUE`. The contract carries milliseconds, so every reading gets a
    millisecond of its own (strictly increasing): two readings of one series
    never share a time, which InfluxDB would fold into one point."""

    MAX_PER_S = 1000.0  # one reading per millisecond, at most

    def __init__(self, sensors: Sequence[tuple[str, str, float]], schedule: RateSchedule, start: float,
                 probe: str | None = None, probes_at: Sequence[float] = (), clock: Callable[[], float] = time.time):
        if not sensors:
            raise ValueError("a source needs at least one sensor")
        peak = max((schedule.base_per_s * p.factor for p in schedule.phases), default=0.0)
        if peak > self.MAX_PER_S:
            raise ValueError(f"{peak:g} readings/s from one gateway: at most {self.MAX_PER_S:g} (one per millisecond)")
        self.sensors = list(sensors)
        self.schedule = schedule
        self.start = start
        self.probe = probe
        self.pending_probes = sorted(probes_at)
        self.probes_sent: list[int] = []  # reading times (ns) of the probes taken
        self.taken = 0
        self._clock = clock
        self._next = 0
        self._last_ms = 0

    def _stamp(self, now_ms: int, behind: int) -> int:
        ms = max(self._last_ms + 1, now_ms - behind)
        self._last_ms = ms
        return ms * 1_000_000

    def poll(self) -> list[Reading]:
        now = self._clock()
        now_ms = int(now * 1000)
        due = max(0, self.schedule.due(now - self.start) - self.taken)
        probe = bool(self.probe and self.pending_probes and now - self.start >= self.pending_probes[0])
        out = []
        for i in range(due):
            sensor, metric, value = self.sensors[self._next]
            self._next = (self._next + 1) % len(self.sensors)
            out.append(Reading(sensor, metric, value, self._stamp(now_ms, due + probe - 1 - i)))
        if probe and self.probe:
            self.pending_probes.pop(0)
            ts = self._stamp(now_ms, 0)
            out.append(Reading(self.probe, "temperature", PROBE_VALUE, ts))
            self.probes_sent.append(ts)
        self.taken += len(out)
        return out


def probe_plan(gateways: Sequence[str], seconds: float, count: int, warmup_s: float = 20.0) -> dict[str, list[float]]:
    """`count` probes spread evenly over the run after a warm-up, each on a
    different gateway's probe fridge (it fires once and stays firing)."""
    if count <= 0 or not gateways:
        return {}
    span = max(1.0, seconds - warmup_s - 10.0)
    plan: dict[str, list[float]] = {}
    for n in range(min(count, len(gateways))):
        gw = gateways[(n * 7919) % len(gateways)]  # spread over hospitals
        while gw in plan:
            gw = gateways[(gateways.index(gw) + 1) % len(gateways)]
        plan[gw] = [warmup_s + span * n / max(1, count)]
    return plan


# --------------------------------------------------------------------------
# Summary maths (pure)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def rates(samples: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Per-interval rates (at the interval's end) of a cumulative counter."""
    return [(t1, (v1 - v0) / (t1 - t0)) for (t0, v0), (t1, v1) in itertools.pairwise(samples) if t1 > t0]


def drain_time(samples: Sequence[tuple[float, float]], after: float, threshold: float = 0.0) -> float | None:
    """Seconds from `after` until a backlog series is back at or below
    `threshold` and stays there; None if it never is."""
    last_high = None
    for t, v in samples:
        if t >= after and v > threshold:
            last_high = t
    if last_high is None:
        return 0.0
    later = [t for t, v in samples if t > last_high and v <= threshold]
    return later[0] - after if later else None


def phase_rates(samples: Sequence[tuple[float, float]], schedule: RateSchedule, settle_s: float = 10.0) -> list[float | None]:
    """Per phase of the schedule, the median rate of a cumulative counter over
    the intervals that end inside it, once `settle_s` into it; None where no
    interval does (a phase shorter than the settling)."""
    out: list[float | None] = []
    begin = 0.0
    for phase in schedule.phases:
        inside = [r for t, r in rates(samples) if begin + settle_s < t <= begin + phase.seconds]
        out.append(statistics.median(inside) if inside else None)
        begin += phase.seconds
    return out


def cores_used(samples: Sequence[Sample]) -> dict[str, float]:
    """Per process, the mean cores it used between the first and last sample
    (CPU seconds over wall seconds; 1.0 is one core kept busy)."""
    if len(samples) < 2 or samples[-1].t <= samples[0].t:
        return {}
    first, last = samples[0], samples[-1]
    wall = last.t - first.t
    return {k: round((last.cpu_s.get(k, 0.0) - first.cpu_s.get(k, 0.0)) / wall, 2) for k in last.cpu_s}


def spread(values: Sequence[float]) -> str:
    """'median (min-max)' of several runs."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


# --------------------------------------------------------------------------
# The gateway host: many real gateways in one process


def _host(argv: Sequence[str]) -> None:
    """Run the gateways of a plan file, each `gateway.Gateway` in a thread
    of its own with its own disk backlog, until SIGTERM; then write how many
    readings each source took. The plan carries the sensors, so this process
    does not parse the whole group's registry."""
    import logging

    from prometheus_client import start_http_server

    from gateway.gateway import Gateway
    from gateway.settings import GatewaySettings
    from vigil.registry import Gateway as GatewayConfig
    from vigil.settings import load_settings

    plan = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(None)
    schedule = RateSchedule(plan["base_per_s"], tuple(Phase(**p) for p in plan["phases"]))
    start_http_server(plan["metrics_port"], addr="127.0.0.1")
    tuning = GatewaySettings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = []
    sources: dict[str, ScheduledSource] = {}
    for gw, spec in plan["gateways"].items():
        sensors = [(sid, metric, value) for sid, metric, value in spec["sensors"]]
        source = ScheduledSource(sensors, schedule, plan["start"], probe_sensor(gw), spec["probes"])
        sources[gw] = source
        gateway = Gateway(GatewayConfig(gw, spec["site"], gw), settings.mqtt_endpoint(gw), source, settings.state_dir, tuning)
        threads.append(threading.Thread(target=gateway.run, args=(stop,), name=gw))
    for t in threads:
        t.start()
    while not stop.wait(1.0):
        pass
    for t in threads:
        t.join(30)
    Path(plan["report"]).write_text(json.dumps({gw: {"taken": s.taken, "probes": s.probes_sent} for gw, s in sources.items()}))


# --------------------------------------------------------------------------
# The run


def _scrape(url: str, prefixes: Sequence[str]) -> dict[str, float]:
    """Sums of the Prometheus samples whose names are in `prefixes` (labels ignored)."""
    sums = dict.fromkeys(prefixes, 0.0)
    with urllib.request.urlopen(url, timeout=5) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in sums:
                sums[name] += float(line.rsplit(" ", 1)[1])
    return sums


def _usage(pid: int | None) -> tuple[float, float]:
    """RSS (MB) and user and system CPU seconds so far of a process and its
    children ((0, 0) if gone)."""
    if pid is None:
        return 0.0, 0.0
    try:
        p = psutil.Process(pid)
        tree = [p, *p.children(recursive=True)]
        return sum(q.memory_info().rss for q in tree) / 2**20, sum(sum(q.cpu_times()[:2]) for q in tree)
    except psutil.NoSuchProcess:
        return 0.0, 0.0


def _count_all(local: LocalServices) -> int:
    """Points in the readings bucket: counted per series, summed in InfluxDB."""
    from influxdb_client import InfluxDBClient

    ep = local.settings.influx_endpoint("reader")
    query = 'from(bucket: "readings") |> range(start: -30d, stop: now()) |> count() |> group() |> sum()'
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=600_000) as client:
        return sum(int(r.get_value()) for t in client.query_api().query(query) for r in t.records)


@dataclass
class Sample:
    t: float  # seconds since the load started
    taken: float  # readings the gateways' sources took
    written: float  # readings ingest wrote to InfluxDB
    backlog: float  # messages on the gateways' disk backlogs
    dropped: float
    lag_s: float  # ingest: now minus sent_at of the newest message written
    api_ms: float  # GET /healthz round trip
    rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds used so far, per process
    judged: float = 0.0  # readings the alerts service has judged, duplicates (after a redelivery) not counted
    alerts_lag_s: float = 0.0  # alerts: now minus sent_at of the last message judged


@dataclass
class Outcome:
    name: str
    shape: GroupShape
    schedule: RateSchedule
    samples: list[Sample]
    taken: int
    in_influx: int
    dropped: int
    drained_s: float | None  # after the load stopped, until every reading was written
    judged_s: float | None  # after the load stopped, until the alerts service had judged every reading
    recorded_ms: list[float]
    recorded_at_s: list[float]  # when each probe of recorded_ms reported, in seconds since the load started
    delivered_ms: list[float]
    probes: int
    # The alerts service's own histogram of gateway publish (sent_at) -> transition recorded: bucket bound -> count.
    since_publish: dict[float, float]
    crashed: list[str]
    startup_s: float
    load: tuple[float, float, float]


def run_group(name: str, shape: GroupShape, schedule: RateSchedule, probes: int, hosts: int, workdir: Path,
              drain_timeout_s: float = 1800.0, sample_s: float = 5.0) -> Outcome:
    from alerts.store import open_store
    from benchmarks.alerts import Webhook
    from vigil.infra.process import free_port
    from vigil.registry import parse_registry
    from vigil.settings import Settings

    layout = group_layout(shape)
    facility = workdir / "group.yaml"
    facility.write_text(hospital_group_yaml(shape))
    webhook = Webhook()
    oncall = workdir / "oncall.yaml"
    oncall.write_text(json.dumps({"oncall": {
        "contact_points": {"hook": f"json://127.0.0.1:{webhook.port}/notify"},
        "people": {"duty": {"name": "Duty", "contact_points": ["hook"]}},
        "escalation_policies": {"page": {"tiers": [{"notify": [{"person": "duty"}], "escalate_after_minutes": 15}]}},
        "default_policy": "page"}}))
    settings = Settings(state_dir=workdir, facility=facility, mqtt_port=free_port(), influx_port=free_port(), oncall=oncall)
    local = LocalServices(settings, parse_registry(gateways_only_yaml(layout)))
    local.up()
    status = local.status()
    logs = workdir / "logs"
    logs.mkdir()
    env = {**os.environ, "VIGIL_STATE_DIR": str(workdir), "VIGIL_FACILITY": str(facility), "VIGIL_ONCALL": str(oncall),
           "VIGIL_LOG_LEVEL": "WARNING"}
    vigil = [sys.executable, "-m", "vigil.cli"]
    ports = {"ingest": free_port(), "alerts": free_port(), "api": free_port()}
    services: dict[str, subprocess.Popen[bytes]] = {}
    gateways_hosts: list[subprocess.Popen[bytes]] = []
    crashed: list[str] = []
    began = time.monotonic()
    try:
        for svc, argv in (("ingest", ["ingest", "run", "--metrics-port", str(ports["ingest"])]),
                          ("alerts", ["alerts", "run", "--metrics-port", str(ports["alerts"])]),
                          ("api", ["api", "serve", "--port", str(ports["api"])])):
            with (logs / f"{svc}.log").open("ab") as log:
                services[svc] = subprocess.Popen([*vigil, *argv], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL)
        # Each service parses the whole registry first: minutes for 100,000 sensors.
        wait_for(f"http://127.0.0.1:{ports['ingest']}/metrics", "ingest", 1800, services["ingest"])
        wait_for(f"http://127.0.0.1:{ports['alerts']}/metrics", "alerts", 1800, services["alerts"])
        wait_for(f"http://127.0.0.1:{ports['api']}/healthz", "api", 1800, services["api"])
        startup_s = time.monotonic() - began
        time.sleep(3.0)  # subscriptions confirmed

        gws = sorted(layout)
        plan_probes = probe_plan(gws, schedule.duration_s, probes)
        start = time.time() + 10.0  # the hosts have started their gateways by then
        host_ports = [free_port() for _ in range(hosts)]
        reports = [workdir / f"host-{i}.json" for i in range(hosts)]
        for i in range(hosts):
            mine = gws[i::hosts]
            plan = {"base_per_s": schedule.base_per_s, "phases": [asdict(p) for p in schedule.phases], "start": start,
                    "metrics_port": host_ports[i], "report": str(reports[i]),
                    "gateways": {gw: {"site": layout[gw][0], "probes": plan_probes.get(gw, []),
                                      "sensors": [(sid, metric, normal_value(profile, metric)) for sid, profile, metric in layout[gw][1]]}
                                 for gw in mine}}
            plan_file = workdir / f"host-{i}.plan.json"
            plan_file.write_text(json.dumps(plan))
            with (logs / f"gateways-{i}.log").open("ab") as log:
                gateways_hosts.append(subprocess.Popen([sys.executable, "-m", "benchmarks.scale", str(plan_file)], env=env,
                                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        time.sleep(max(0.0, start - time.time()))

        pids = {"mosquitto": status["mosquitto"]["pid"], "influxdb": status["influxdb"]["pid"],
                **{svc: p.pid for svc, p in services.items()}}
        samples: list[Sample] = []
        load_end = schedule.duration_s
        drained_s: float | None = None
        judged_s: float | None = None
        while True:
            t = time.time() - start
            gw_sums = {"vigil_gateway_readings_total": 0.0, "vigil_gateway_backlog_messages": 0.0,
                       "vigil_gateway_dropped_messages": 0.0}
            for port in host_ports:
                try:
                    for k, v in _scrape(f"http://127.0.0.1:{port}/metrics", list(gw_sums)).items():
                        gw_sums[k] += v
                except OSError:
                    pass
            try:  # a loaded machine can miss the 5 s timeout: keep the last figures rather than stop
                ing = _scrape(f"http://127.0.0.1:{ports['ingest']}/metrics",
                              ["vigil_ingest_readings_written_total", "vigil_ingest_lag_seconds"])
            except OSError:
                ing = {"vigil_ingest_readings_written_total": samples[-1].written if samples else 0.0,
                       "vigil_ingest_lag_seconds": samples[-1].lag_s if samples else 0.0}
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports['api']}/healthz", timeout=10):
                    api_ms = (time.perf_counter() - t0) * 1000
            except OSError:
                api_ms = float("nan")
            usage = {k: _usage(pid) for k, pid in pids.items()}
            rss = {k: mb for k, (mb, _) in usage.items()}
            cpu = {k: s for k, (_, s) in usage.items()}
            for i, h in enumerate(gateways_hosts):
                rss[f"gateways-{i}"], host_cpu = _usage(h.pid)
                cpu["gateways"] = cpu.get("gateways", 0.0) + host_cpu
            try:
                judging = _scrape(f"http://127.0.0.1:{ports['alerts']}/metrics",
                                  ["vigil_alerts_readings_total", "vigil_alerts_readings_late", "vigil_alerts_lag_seconds"])
                judging["vigil_alerts_readings_total"] -= judging["vigil_alerts_readings_late"]
            except OSError:
                judging = {"vigil_alerts_readings_total": samples[-1].judged if samples else 0.0,
                           "vigil_alerts_lag_seconds": samples[-1].alerts_lag_s if samples else 0.0}
            samples.append(Sample(t, gw_sums["vigil_gateway_readings_total"], ing["vigil_ingest_readings_written_total"],
                                  gw_sums["vigil_gateway_backlog_messages"], gw_sums["vigil_gateway_dropped_messages"],
                                  ing["vigil_ingest_lag_seconds"], api_ms, rss, cpu, judging["vigil_alerts_readings_total"],
                                  judging["vigil_alerts_lag_seconds"]))
            last = samples[-1]
            with (workdir.parent / f"{workdir.name}.samples.jsonl").open("a") as record:  # survives an aborted run
                record.write(json.dumps(asdict(last)) + "\n")
            print(f"{name} t={t:6.0f}s taken {last.taken:>11,.0f} written {last.written:>11,.0f} backlog {last.backlog:>6,.0f} msgs "
                  f"lag {last.lag_s:5.1f}s judged {last.judged:>11,.0f} alerts lag {last.alerts_lag_s:5.1f}s api {api_ms:5.0f}ms "
                  f"rss ingest {rss['ingest']:.0f} alerts {rss['alerts']:.0f} api {rss['api']:.0f} mosquitto {rss['mosquitto']:.0f} MB",
                  flush=True)
            for what, p in [*services.items(), *((f"gateways-{i}", h) for i, h in enumerate(gateways_hosts))]:
                if p.poll() is not None and what not in crashed:
                    crashed.append(what)
            if crashed:
                break
            # Written and judged are counted apart: under overload the alerts
            # service can be minutes behind ingest, its backlog in the broker.
            if drained_s is None and t > load_end + 2 and last.backlog == 0 and last.written >= last.taken > 0:
                drained_s = t - load_end
            if judged_s is None and t > load_end + 2 and last.judged >= last.taken > 0:
                judged_s = t - load_end
            if drained_s is not None and judged_s is not None:
                break
            if t > load_end + drain_timeout_s:
                break
            time.sleep(max(0.0, sample_s - (time.time() - start - t)))

        for h in gateways_hosts:
            h.send_signal(signal.SIGTERM)
        for h in gateways_hosts:
            h.wait(120)
        taken = 0
        probe_times: dict[str, int] = {}
        for report in reports:
            for gw, r in json.loads(report.read_text()).items():
                taken += r["taken"]
                if r["probes"]:
                    probe_times[gw] = r["probes"][0]
        time.sleep(5.0)  # the last notifications
        store = open_store(settings.database)
        recorded, recorded_at, delivered = [], [], []
        try:
            for gw, reading_ns in probe_times.items():
                alerts = store.list_alerts(sensor=probe_sensor(gw))
                fired = [a.fired_at for a in alerts if a.fired_at is not None]
                if fired:
                    at = min(fired)
                    at = at if at.tzinfo else at.replace(tzinfo=UTC)
                    recorded.append((at.timestamp() - reading_ns / NS_PER_S) * 1000)
                    recorded_at.append(reading_ns / NS_PER_S - start)
                arrived = webhook.arrival(probe_asset_name(gw))
                if arrived is not None:
                    wall = time.time() - (time.perf_counter() - arrived)
                    delivered.append((wall - reading_ns / NS_PER_S) * 1000)
        finally:
            store.close()
        in_influx = _count_all(local)
        since_publish = {float(s.labels["le"]): s.value for s in scrape(f"http://127.0.0.1:{ports['alerts']}/metrics",
                                                                        "vigil_alerts_publish_to_recorded_seconds")
                         if s.name.endswith("_bucket")}
    finally:
        for h in gateways_hosts:
            if h.poll() is None:
                h.kill()
        for p in services.values():
            p.terminate()
        for p in services.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        webhook.server.shutdown()
        local.down()
        kept = workdir.parent / f"{workdir.name}.logs"  # the run's directory goes; its logs are worth keeping
        for log_path in workdir.rglob("*.log"):
            (kept / log_path.relative_to(workdir)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log_path, kept / log_path.relative_to(workdir))
        print(f"logs: {kept}")
    return Outcome(name, shape, schedule, samples, taken, in_influx, int(samples[-1].dropped if samples else 0), drained_s,
                   judged_s, recorded, recorded_at, delivered, len(probe_times), since_publish, crashed, startup_s, os.getloadavg())


# --------------------------------------------------------------------------
# Reporting


def _stats_ms(values: Sequence[float]) -> str:
    if not values:
        return "none arrived"
    return f"{statistics.median(values):,.0f} / {percentile(values, 99):,.0f} / {max(values):,.0f} ms"


def summarise(o: Outcome) -> dict[str, object]:
    """The figures of one run, for the table and the JSON record."""
    load = [s for s in o.samples if 0 < s.t <= o.schedule.duration_s]
    lags = [s.lag_s for s in load] or [0.0]
    # Once every reading is judged the gauge counts from the last message (no more come): not lag.
    caught_up = o.schedule.duration_s + o.judged_s if o.judged_s is not None else math.inf
    alerts_lags = [s.alerts_lag_s for s in o.samples if 0 < s.t <= caught_up and not math.isnan(s.alerts_lag_s)] or [0.0]
    written = [(s.t, s.written) for s in o.samples]
    steady = [r for t, r in rates(written) if 30 < t <= o.schedule.duration_s]
    peak_rss = {k: max(s.rss_mb.get(k, 0.0) for s in o.samples) for k in (o.samples[0].rss_mb if o.samples else {})}
    gw_keys = [k for k in peak_rss if k.startswith("gateways-")]
    return {
        "cores_during_load": cores_used(load),
        "run": o.name, "sensors": o.shape.sensors, "gateways": o.shape.gateways,
        "offered_per_s": o.schedule.total() * o.shape.gateways / o.schedule.duration_s if o.schedule.duration_s else 0.0,
        "written_per_s_median": statistics.median(steady) if steady else float("nan"),
        "lag_p50_s": statistics.median(lags), "lag_p99_s": percentile(lags, 99), "lag_max_s": max(lags),
        "backlog_peak_messages": max((s.backlog for s in o.samples), default=0.0),
        "alerts_lag_p50_s": statistics.median(alerts_lags), "alerts_lag_p99_s": percentile(alerts_lags, 99),
        "alerts_lag_max_s": max(alerts_lags),
        "phases": [{"seconds": p.seconds, "factor": p.factor, "offered_per_s": o.schedule.base_per_s * p.factor * o.shape.gateways,
                    "written_per_s": w, "judged_per_s": j}
                   for p, w, j in zip(o.schedule.phases, phase_rates(written, o.schedule),
                                      phase_rates([(s.t, s.judged) for s in o.samples], o.schedule), strict=True)],
        "drained_s": o.drained_s, "judged_s": o.judged_s, "taken": o.taken, "in_influx": o.in_influx, "exact": o.taken == o.in_influx,
        "dropped": o.dropped, "crashed": o.crashed,
        "peak_rss_mb": {k: round(v) for k, v in peak_rss.items() if k not in gw_keys}
        | {f"gateway hosts ({len(gw_keys)}), each at most": round(max((peak_rss[k] for k in gw_keys), default=0.0))},
        "api_healthz_ms_p99": percentile([s.api_ms for s in o.samples if s.api_ms == s.api_ms] or [0.0], 99),
        "recorded_ms": o.recorded_ms, "recorded_at_s": o.recorded_at_s, "delivered_ms": o.delivered_ms, "probes": o.probes,
        "publish_to_recorded_histogram": {str(le): n for le, n in o.since_publish.items()},
        "startup_s": o.startup_s, "loadavg_at_end": o.load,
    }


def _rate(value: object) -> str:
    return "-" if value is None else f"{float(str(value)):,.0f}/s"


def print_summary(rows: Sequence[dict[str, object]]) -> None:
    for r in rows:
        rec = r["recorded_ms"]
        dlv = r["delivered_ms"]
        assert isinstance(rec, list) and isinstance(dlv, list)
        drained = r["drained_s"]
        print(f"\n== {r['run']}: {r['sensors']:,} sensors on {r['gateways']} gateways, {r['offered_per_s']:,.0f} readings/s offered "
              f"(services up after {r['startup_s']:.0f} s)")
        print(f"  written: {r['written_per_s_median']:,.0f} readings/s (median of 5 s intervals after the first 30 s)")
        phases = r["phases"]
        assert isinstance(phases, list)
        if len(phases) > 1:
            for p in phases:
                print(f"    {p['seconds']:.0f} s at {p['factor']:g}x ({p['offered_per_s']:,.0f}/s offered): written {_rate(p['written_per_s'])}, "
                      f"judged by alerts {_rate(p['judged_per_s'])} (medians of 5 s intervals)")
        print(f"  ingest lag during the load: p50 {r['lag_p50_s']:.2f} s, p99 {r['lag_p99_s']:.2f} s, max {r['lag_max_s']:.2f} s")
        print(f"  alerts lag (the service's gauge) until it caught up: p50 {r['alerts_lag_p50_s']:.2f} s, "
              f"p99 {r['alerts_lag_p99_s']:.2f} s, max {r['alerts_lag_max_s']:.2f} s")
        judged = r["judged_s"]
        print(f"  gateway backlog peak: {r['backlog_peak_messages']:,.0f} messages; dropped {r['dropped']}; "
              f"all written {'never (timed out)' if drained is None else f'{drained:.0f} s'} after the load stopped, "
              f"all judged by alerts {'never (timed out)' if judged is None else f'{judged:.0f} s'} after")
        print(f"  taken {r['taken']:,}, in InfluxDB {r['in_influx']:,}: {'exactly N' if r['exact'] else 'MISMATCH'}")
        print(f"  peak RSS MB: {r['peak_rss_mb']}")
        print(f"  cores used during the load (of {os.cpu_count()}): {r['cores_during_load']}")
        print(f"  API /healthz p99 {r['api_healthz_ms_p99']:.0f} ms; crashed: {r['crashed'] or 'none'}")
        print(f"  reading -> alert recorded p50/p99/max: {_stats_ms(rec)} ({len(rec)} of {r['probes']} probes)")
        print(f"  reading -> notification delivered p50/p99/max: {_stats_ms(dlv)} ({len(dlv)} of {r['probes']} probes)")
        at = r["recorded_at_s"]
        assert isinstance(at, list)
        if len(phases) > 1:  # which phase a probe fell in matters more than the pooled figures
            print("  each probe, reported at -> alert recorded: "
                  + ", ".join(f"{t:.0f} s -> {ms:,.0f} ms" for t, ms in sorted(zip(at, rec, strict=True))))
        histogram = r["publish_to_recorded_histogram"]
        assert isinstance(histogram, dict)
        if histogram.get("inf"):
            within = ", ".join(f"{float(le) * 1000:,.0f} ms {n / histogram['inf']:.0%}" for le, n in histogram.items()
                               if le in ("0.1", "0.25", "0.5", "1.0"))
            print(f"  gateway publish -> alert recorded (the alerts service's histogram, {histogram['inf']:,.0f} transitions): within {within}")
        print(f"  load average at the end: {r['loadavg_at_end']}")


def plot(outcomes: Sequence[Outcome], out_dir: Path, prefix: str) -> list[Path]:
    """Throughput, lag, RSS and backlog over time (first run), and the alert latencies (all runs), as PNGs."""
    from benchmarks.plots import latency_histogram, rate_series, throughput_plot

    o = outcomes[0]
    taken = rate_series([(s.t, s.taken) for s in o.samples if s.t >= 0], bin_s=5.0)
    written = rate_series([(s.t, s.written) for s in o.samples if s.t >= 0], bin_s=5.0)
    judged = rate_series([(s.t, s.judged) for s in o.samples if s.t >= 0], bin_s=5.0)
    paths = [
        throughput_plot({"taken by the gateways": taken, "written by ingest": written, "judged by alerts": judged}, out_dir / f"{prefix}-throughput.png",
                        f"{o.name}: readings/s ({o.shape.sensors:,} sensors, {o.shape.gateways} gateways)"),
        throughput_plot({"ingest lag": [(s.t, s.lag_s) for s in o.samples], "alerts lag": [(s.t, s.alerts_lag_s) for s in o.samples]},
                        out_dir / f"{prefix}-lag.png", f"{o.name}: lag (now - sent_at of the last message written / judged)",
                        ylabel="seconds"),
        throughput_plot({k: [(s.t, s.rss_mb.get(k, 0.0)) for s in o.samples] for k in o.samples[0].rss_mb},
                        out_dir / f"{prefix}-rss.png", f"{o.name}: RSS per process", ylabel="MB"),
        throughput_plot({"messages on the gateways' disk backlogs": [(s.t, s.backlog) for s in o.samples]},
                        out_dir / f"{prefix}-backlog.png", f"{o.name}: gateway backlog", ylabel="messages"),
    ]
    rec = [v for x in outcomes for v in x.recorded_ms]
    dlv = [v for x in outcomes for v in x.delivered_ms]
    if rec or dlv:
        paths.append(latency_histogram({"reading -> alert recorded": rec, "reading -> notification delivered": dlv},
                                       out_dir / f"{prefix}-alert-latency.png", f"{o.name}: alert latency under load"))
    return paths


def run(name: str, schedule: RateSchedule, shape: GroupShape, repeats: int, probes: int, hosts: int, out_dir: Path,
        prefix: str) -> None:
    print(f"machine: {machine()}")
    outcomes = []
    for n in range(repeats):
        with tempfile.TemporaryDirectory(prefix="vigil-bench-scale-") as tmp:
            outcomes.append(run_group(f"{name} run {n + 1}", shape, schedule, probes, hosts, Path(tmp)))
    rows = [summarise(o) for o in outcomes]
    print_summary(rows)
    if repeats > 1:
        written = [float(str(r["written_per_s_median"])) for r in rows]
        print(f"\n== {name}, {repeats} runs: written readings/s, median (spread) {spread(written)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    record = out_dir / f"{prefix}.json"
    record.write_text(json.dumps({"rows": rows, "samples": [[asdict(s) for s in o.samples] for o in outcomes]}, indent=1))
    for path in plot(outcomes, out_dir, prefix):
        print(f"plot: {path}")
    print(f"figures: {record}")


if __name__ == "__main__":
    _host(sys.argv[1:])
