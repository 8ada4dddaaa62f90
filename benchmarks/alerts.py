"""`vigil bench alerts`: how fast an excursion reaches the alert store and the
on-call person, under a steady background load.

On private Mosquitto and InfluxDB instances, with a generated facility of
vaccine fridges whose alarm delay is zero (so a probe fires at once):
- background load: normal readings from every gateway at `--rate` readings/s
  (50 per message), paced, timestamped now;
- probes: once a second, one fridge reports 12 °C; the time from its publish
  to the alert row in the store (polled every 5 ms), and to the webhook
  receiving the notification (a real local HTTP server, apprise json://);
- the real `vigil alerts run` process does the work.
Prints p50 and p99 of both latencies.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from alerts.store import open_store
from benchmarks.machine import machine, scrape, wait_for
from vigil.contract import Reading, encode_readings
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry, load_registry
from vigil.settings import Settings


def bench_facility(path: Path, gateways: int, fridges_per_gateway: int) -> None:
    lines = ["name: Bench Hospital", "sites:", "  - id: bench", "    name: Bench", "    timezone: Asia/Shanghai", "    gateways:"]
    lines += [f"      - id: gw-{g}" for g in range(gateways)]
    lines += ["    buildings:", "      - id: b", "        name: Bench building", "        floors:"]
    for g in range(gateways):
        lines += [f"          - id: f{g}", f"            name: Floor {g}", "            rooms:",
                  f"              - id: store-{g}", f"                name: Vaccine store {g}", "                assets:"]
        for f in range(fridges_per_gateway):
            lines += [f"                  - id: fridge-{g}-{f}", f"                    name: Fridge {g:02d}{f:03d}X",  # a token no other name contains
                      "                    profile: vaccine_fridge",
                      "                    thresholds: {temperature: {delay: 0}}",
                      f"                    sensors: [{{id: t-{g}-{f}, gateway: gw-{g}, metrics: [temperature]}}]"]
    path.write_text("\n".join(lines) + "\n")


class Webhook:
    """A local HTTP receiver that records when each notification arrived."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.posts.append((time.perf_counter(), raw.decode(errors="replace")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrival(self, token: str) -> float | None:
        with self.lock:
            return next((at for at, text in self.posts if token in text), None)


def _client(local: LocalServices, gateway: str) -> mqtt.Client:
    ep = local.settings.mqtt_endpoint(gateway)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{gateway}", protocol=mqtt.MQTTv311)
    c.username_pw_set(ep.username, ep.password.get_secret_value() if ep.password else None)
    c.max_inflight_messages_set(1000)
    c.connect(ep.host, ep.port)
    c.loop_start()
    return c


def _readings_evaluated(metrics_url: str) -> float:
    return sum(s.value for s in scrape(metrics_url, "vigil_alerts_readings") if s.name.endswith("_total"))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(rate: int = 10_000, probes: int = 60, gateways: int = 10, fridges_per_gateway: int = 100) -> None:
    with tempfile.TemporaryDirectory(prefix="vigil-bench-alerts-") as tmp:
        state = Path(tmp)
        facility = state / "facility.yaml"
        bench_facility(facility, gateways, fridges_per_gateway)
        registry: Registry = load_registry(facility)
        webhook = Webhook()
        oncall = state / "oncall.yaml"
        oncall.write_text(json.dumps({"oncall": {
            "contact_points": {"hook": f"json://127.0.0.1:{webhook.port}/notify"},
            "people": {"duty": {"name": "Duty", "contact_points": ["hook"]}},
            "escalation_policies": {"page": {"tiers": [{"notify": [{"person": "duty"}], "escalate_after_minutes": 15}]}},
            "default_policy": "page"}}))
        settings = Settings(state_dir=state, facility=facility, mqtt_port=free_port(), influx_port=free_port())
        local = LocalServices(settings, registry)
        local.up()
        env = {**os.environ, "VIGIL_STATE_DIR": str(state), "VIGIL_FACILITY": str(facility), "VIGIL_ONCALL": str(oncall),
               "VIGIL_LOG_LEVEL": "WARNING"}
        metrics_port = free_port()
        began = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "vigil.cli", "alerts", "run", "--metrics-port", str(metrics_port)], env=env)
        store = open_store(settings.database, registry=registry)
        stop = threading.Event()
        sent = [0]
        try:
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            wait_for(metrics_url, "alerts", 1800, proc)
            time.sleep(2)  # connect and subscribe
            up_s = time.perf_counter() - began
            clients = {gw: _client(local, gw) for gw in registry.gateways}
            sensors = {gw: [s.id for s in registry.sensors_of_gateway(gw)] for gw in registry.gateways}
            probe_sensors = [s for gw in sorted(sensors) for s in sensors[gw][:10]]
            background_sensors = {gw: [s for s in ids if s not in set(probe_sensors)] for gw, ids in sensors.items()}

            def background() -> None:
                per_message = 50
                interval = per_message * len(clients) / rate  # seconds between rounds of one message per gateway
                seq = {gw: 0 for gw in clients}
                k = 0
                next_round = time.perf_counter()
                while not stop.is_set():
                    now = time.time_ns()
                    for gw, c in clients.items():
                        ids = background_sensors[gw]
                        readings = [Reading(ids[(k + i) % len(ids)], "temperature", 5.0 + (i % 10) * 0.01, now - i * 1000)
                                    for i in range(per_message)]
                        seq[gw] += 1
                        c.publish(registry.gateways[gw].readings_topic, encode_readings(gw, seq[gw], now, readings), qos=1)
                        sent[0] += per_message
                    k += per_message
                    next_round += interval
                    delay = next_round - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)

            load = threading.Thread(target=background, daemon=True)
            load.start()
            started = time.perf_counter()
            time.sleep(3)  # the load settles
            while sent[0] - _readings_evaluated(metrics_url) > rate:  # the first checkpoint (complete) holds it up
                if time.perf_counter() - started > 600:
                    raise RuntimeError("the alerts service did not catch up with the load within 10 minutes")
                time.sleep(1)
            caught_up_s = time.perf_counter() - started
            recorded: list[float] = []
            delivered: list[float] = []
            missed: list[str] = []
            for n in range(min(probes, len(probe_sensors))):
                sensor = registry.sensors[probe_sensors[n]]
                t0 = time.perf_counter()
                now = time.time_ns()
                got_before = (len(recorded), len(delivered))
                clients[sensor.gateway].publish(registry.gateways[sensor.gateway].readings_topic,
                                                encode_readings(sensor.gateway, 10**9 + n, now, [Reading(sensor.id, "temperature", 12.0, now)]), qos=1)
                deadline = t0 + 10
                while time.perf_counter() < deadline:
                    if store.list_alerts(sensor=sensor.id):
                        recorded.append(time.perf_counter() - t0)
                        break
                    time.sleep(0.005)
                while time.perf_counter() < deadline:
                    at = webhook.arrival(sensor.asset_name)
                    if at is not None:
                        delivered.append(at - t0)
                        break
                    time.sleep(0.005)
                if (len(recorded), len(delivered)) != (got_before[0] + 1, got_before[1] + 1):
                    missed.append(f"probe {n} ({sensor.id}): recorded {len(recorded) > got_before[0]}, delivered {len(delivered) > got_before[1]}")
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            proc.terminate()
            proc.wait(30)
            store.close()
            local.down()
        print(f"machine: {machine()}")
        print(f"background load: {sent[0] / elapsed:,.0f} readings/s offered ({rate:,}/s asked), "
              f"{len(registry.sensors)} sensors on {len(registry.gateways)} gateways; alerts service up in {up_s:.0f} s, "
              f"caught up with the load {caught_up_s:.0f} s after it began")
        for name, values in (("publish -> alert recorded", recorded), ("publish -> notification delivered", delivered)):
            if values:
                print(f"{name}: p50 {statistics.median(values) * 1000:.0f} ms, p99 {_percentile(values, 99) * 1000:.0f} ms, "
                      f"max {max(values) * 1000:.0f} ms ({len(values)} of {min(probes, len(probe_sensors))} probes)")
            else:
                print(f"{name}: no probe arrived within 10 s")
        for line in missed:
            print(f"missed within 10 s: {line}")
        print("targets: p99 under 250 ms recorded and under 1 s delivered; Grafana alerting evaluates every 10 s at best (60 s by default)")


if __name__ == "__main__":
    run()
