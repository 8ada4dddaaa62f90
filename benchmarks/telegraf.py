"""Telegraf as the usual alternative to Vigil's ingest, for `vigil bench compare`.

`render_config` is pure: the Telegraf TOML that reads Vigil's contract
messages (docs/contract.md) with `inputs.mqtt_consumer` and the `json_v2`
parser and writes them with `outputs.influxdb_v2`, to the same measurement /
field layout as Vigil (one measurement per sensor kind, one field per metric,
the reading's `ts` as the point's time). What json_v2 cannot do, it does not:
no registry enrichment (Vigil's building/floor/room/asset tags), no unit
conversion, no validation, no dead letters, no sequence accounting, only
epoch-millisecond times. `TelegrafProcess` runs the binary built by
scripts/build-telegraf.sh and counts what it wrote from its debug log.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vigil.contract import TOPIC_PREFIX
from vigil.kinds import METRICS, ValueType

# Secrets reach Telegraf through its environment (`${VAR}` in the config), so
# the config file on disk holds none.
MQTT_PASSWORD_ENV = "VIGIL_BENCH_TELEGRAF_MQTT_PASSWORD"
INFLUX_TOKEN_ENV = "VIGIL_BENCH_TELEGRAF_INFLUX_TOKEN"

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "build-telegraf.sh"

_WROTE_BATCH = re.compile(r"Wrote batch of (\d+) metrics")


@dataclass(frozen=True)
class TelegrafConfig:
    """What differs between runs; everything else is fixed in `render_config`."""

    mqtt_host: str
    mqtt_port: int
    mqtt_username: str
    influx_url: str
    influx_org: str
    influx_bucket: str
    readings_per_message: int
    # "kind": Vigil's layout (a measurement per kind, a field per metric), one
    # json_v2 query per metric. "narrow": the cheapest json_v2 can do, one
    # measurement `reading` with `sensor` and `metric` tags and a `value`
    # field (`state` for booleans, as a field's type may not change).
    layout: Literal["kind", "narrow"] = "kind"
    client_id: str = "telegraf-bench"
    # The same batch and wait as Vigil's ingest (IngestOptions.batch_max_readings,
    # batch_max_wait_s), so neither side gets bigger writes or a longer wait.
    batch_size: int = 10_000
    flush_interval_ms: int = 100
    gzip: bool = False

    def __post_init__(self) -> None:
        if self.readings_per_message < 1:
            raise ValueError(f"readings_per_message must be at least 1, not {self.readings_per_message}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.flush_interval_ms < 1:
            raise ValueError(f"flush_interval_ms must be at least 1, not {self.flush_interval_ms}")

    @property
    def max_undelivered_messages(self) -> int:
        """Telegraf's documented rule: enough unacknowledged messages to fill a
        whole `metric_batch_size`, so a write starts without waiting for the
        flush interval; twice that, so the next batch fills while one is written."""
        return 2 * math.ceil(self.batch_size / self.readings_per_message)


def _q(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset TOML accepts)."""
    return json.dumps(value, ensure_ascii=False)


def render_config(cfg: TelegrafConfig) -> str:
    """The Telegraf configuration for one benchmark run."""
    topic = f"{TOPIC_PREFIX}/+/+/readings"
    lines = [
        "# Written by `vigil bench compare`; Telegraf reading Vigil's contract v1.",
        "[agent]",
        "  omit_hostname = true",
        f"  metric_batch_size = {cfg.batch_size}",
        # Room for the undelivered messages' readings, so nothing is dropped.
        f"  metric_buffer_limit = {max(10 * cfg.batch_size, 100_000)}",
        f'  flush_interval = "{cfg.flush_interval_ms}ms"',
        '  flush_jitter = "0s"',
        # Debug logs one line per write ("Wrote batch of N metrics"): how the
        # benchmark counts what Telegraf wrote, as Vigil's /metrics does for Vigil.
        "  debug = true",
        '  logtarget = "stderr"',
        "",
        "[[inputs.mqtt_consumer]]",
        f"  servers = [{_q(f'tcp://{cfg.mqtt_host}:{cfg.mqtt_port}')}]",
        f"  topics = [{_q(topic)}]",
        '  topic_tag = ""',
        # As Vigil's ingest: QoS 1 and a persistent session under a fixed
        # client id, so what arrives while it is down waits for it.
        "  qos = 1",
        "  persistent_session = true",
        f"  client_id = {_q(cfg.client_id)}",
        f"  username = {_q(cfg.mqtt_username)}",
        f'  password = "${{{MQTT_PASSWORD_ENV}}}"',
        f"  max_undelivered_messages = {cfg.max_undelivered_messages}",
        '  data_format = "json_v2"',
        "  [[inputs.mqtt_consumer.topic_parsing]]",
        f"    topic = {_q(topic)}",
        '    tags = "_/_/site/gateway/_"',
    ]
    lines += _kind_layout() if cfg.layout == "kind" else _narrow_layout()
    lines += [
        "",
        "[[outputs.influxdb_v2]]",
        f"  urls = [{_q(cfg.influx_url)}]",
        f'  token = "${{{INFLUX_TOKEN_ENV}}}"',
        f"  organization = {_q(cfg.influx_org)}",
        f"  bucket = {_q(cfg.influx_bucket)}",
        f'  content_encoding = "{"gzip" if cfg.gzip else "identity"}"',
        "",
    ]
    return "\n".join(lines)


def _readings_object(measurement: str, path: str, tags: list[str], value_as: str) -> list[str]:
    """One json_v2 block: the readings that GJSON `path` selects, each a point
    at its `ts` with `tags` and its `value` renamed to `value_as`."""
    return [
        "  [[inputs.mqtt_consumer.json_v2]]",
        f"    measurement_name = {_q(measurement)}",
        "    [[inputs.mqtt_consumer.json_v2.object]]",
        f"      path = {_q(path)}",
        "      optional = true",  # a message may have no reading of this selection
        '      timestamp_key = "ts"',
        '      timestamp_format = "unix_ms"',
        '      timestamp_timezone = "UTC"',
        f"      tags = {json.dumps(tags)}",
        # `unit` is dropped: json_v2 cannot convert units.
        '      included_keys = ["value", "ts"]',
        "      [inputs.mqtt_consumer.json_v2.object.renames]",
        f"        value = {_q(value_as)}",
    ]


def _kind_layout() -> list[str]:
    """json_v2 cannot name a field after a value in the message, so each metric
    gets its own query (`readings.#(metric=="temperature")#`) under its kind's
    measurement, renaming `value` to the metric."""
    lines: list[str] = []
    for kind, specs in METRICS.items():
        for metric in specs:
            lines += _readings_object(str(kind), f"readings.#(metric=={json.dumps(metric)})#", ["sensor"], metric)
    return lines


def _narrow_layout() -> list[str]:
    """One query for the numbers and one per boolean metric."""
    booleans = [m for specs in METRICS.values() for m, spec in specs.items() if spec.value_type is ValueType.BOOL]
    numbers = "readings." + "|".join(f"#(metric!={json.dumps(m)})#" for m in booleans)  # chained GJSON queries
    lines = _readings_object("reading", numbers, ["sensor", "metric"], "value")
    for metric in booleans:
        lines += _readings_object("reading", f"readings.#(metric=={json.dumps(metric)})#", ["sensor", "metric"], "state")
    return lines


def written_in_log_line(line: str) -> int | None:
    """Metrics written by one output write, from a Telegraf debug log line."""
    match = _WROTE_BATCH.search(line)
    return int(match.group(1)) if match else None


def build_telegraf() -> Path:
    """The cached Telegraf binary, building it first if it is missing."""
    result = subprocess.run([str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True)
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class TelegrafProcess:
    """One Telegraf run: started with a rendered config, counting its writes
    from its log as they happen."""

    binary: Path
    config: TelegrafConfig
    workdir: Path
    mqtt_password: str
    influx_token: str
    written: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)  # (perf_counter, cumulative written)
    errors: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("telegraf is not running")
        return self._proc.pid

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "telegraf.conf"
        path.write_text(render_config(self.config))
        env = {**os.environ, MQTT_PASSWORD_ENV: self.mqtt_password, INFLUX_TOKEN_ENV: self.influx_token}
        self._proc = subprocess.Popen([str(self.binary), "--config", str(path)], env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True, name="telegraf-log")
        self._reader.start()

    def _read_log(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            count = written_in_log_line(line)
            if count is not None:
                self.written += count
                self.samples.append((time.perf_counter(), self.written))
            elif " E! " in line:
                self.errors.append(line.strip())

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM: Telegraf flushes its buffer, disconnects and exits."""
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
