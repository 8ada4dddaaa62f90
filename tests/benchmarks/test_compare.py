"""The pure parts of `vigil bench compare`: Telegraf's config, its log, the
table and the plots. Telegraf itself is not needed (CI does not build it)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from benchmarks.compare import Turn, format_table, paired_ratios
from benchmarks.plots import latency_histogram, rate_series, throughput_plot
from benchmarks.telegraf import INFLUX_TOKEN_ENV, MQTT_PASSWORD_ENV, TelegrafConfig, render_config, written_in_log_line
from vigil.kinds import METRICS, ValueType


def config(**overrides: Any) -> TelegrafConfig:
    values: dict[str, Any] = dict(mqtt_host="127.0.0.1", mqtt_port=18830, mqtt_username="ingest",
                                  influx_url="http://127.0.0.1:18086", influx_org="vigil", influx_bucket="readings",
                                  readings_per_message=50)
    return TelegrafConfig(**(values | overrides))


def parsed(cfg: TelegrafConfig) -> dict[str, Any]:
    return tomllib.loads(render_config(cfg))


def test_rendered_config_is_toml_with_the_three_plugins_the_custom_build_has() -> None:
    toml = parsed(config())
    assert set(toml) == {"agent", "inputs", "outputs"}
    assert list(toml["inputs"]) == ["mqtt_consumer"]
    assert list(toml["outputs"]) == ["influxdb_v2"]
    assert toml["inputs"]["mqtt_consumer"][0]["data_format"] == "json_v2"


def test_telegraf_subscribes_like_vigil_ingest_qos1_persistent_session_fixed_client_id() -> None:
    mqtt = parsed(config())["inputs"]["mqtt_consumer"][0]
    assert mqtt["servers"] == ["tcp://127.0.0.1:18830"]
    assert mqtt["topics"] == ["vigil/v1/+/+/readings"]
    assert mqtt["qos"] == 1
    assert mqtt["persistent_session"] is True
    assert mqtt["client_id"] == "telegraf-bench"
    assert mqtt["username"] == "ingest"
    assert mqtt["topic_tag"] == ""  # no raw-topic tag: site and gateway come from topic_parsing
    assert mqtt["topic_parsing"] == [{"topic": "vigil/v1/+/+/readings", "tags": "_/_/site/gateway/_"}]


def test_secrets_are_environment_references_never_in_the_file() -> None:
    text = render_config(config())
    toml = tomllib.loads(text)
    assert toml["inputs"]["mqtt_consumer"][0]["password"] == f"${{{MQTT_PASSWORD_ENV}}}"
    assert toml["outputs"]["influxdb_v2"][0]["token"] == f"${{{INFLUX_TOKEN_ENV}}}"


def test_batching_matches_vigil_and_undelivered_messages_fill_two_batches() -> None:
    batched = parsed(config(readings_per_message=50))
    assert batched["agent"]["metric_batch_size"] == 10_000
    assert batched["agent"]["flush_interval"] == "100ms"
    assert batched["agent"]["metric_buffer_limit"] >= 2 * 10_000
    assert batched["inputs"]["mqtt_consumer"][0]["max_undelivered_messages"] == 400
    single = parsed(config(readings_per_message=1))
    assert single["inputs"]["mqtt_consumer"][0]["max_undelivered_messages"] == 20_000
    assert parsed(config(readings_per_message=3))["inputs"]["mqtt_consumer"][0]["max_undelivered_messages"] == 2 * 3334


def test_debug_logging_is_on_because_the_benchmark_counts_writes_from_it() -> None:
    agent = parsed(config())["agent"]
    assert agent["debug"] is True
    assert agent["omit_hostname"] is True  # no `host` tag Vigil's points do not have


def test_gzip_follows_the_option_identity_by_default() -> None:
    assert parsed(config())["outputs"]["influxdb_v2"][0]["content_encoding"] == "identity"
    assert parsed(config(gzip=True))["outputs"]["influxdb_v2"][0]["content_encoding"] == "gzip"


def test_kind_layout_maps_every_metric_to_its_kinds_measurement_and_its_own_field() -> None:
    blocks = parsed(config())["inputs"]["mqtt_consumer"][0]["json_v2"]
    mapped = {(b["measurement_name"], b["object"][0]["renames"]["value"]) for b in blocks}
    assert mapped == {(str(kind), metric) for kind, specs in METRICS.items() for metric in specs}
    temperature = next(b["object"][0] for b in blocks if b["object"][0]["renames"]["value"] == "temperature")
    assert temperature["path"] == 'readings.#(metric=="temperature")#'
    assert temperature["timestamp_key"] == "ts"
    assert temperature["timestamp_format"] == "unix_ms"
    assert temperature["timestamp_timezone"] == "UTC"
    assert temperature["tags"] == ["sensor"]
    assert temperature["included_keys"] == ["value", "ts"]  # ts must be included to become the point's time


def test_narrow_layout_keeps_boolean_metrics_out_of_the_numeric_field() -> None:
    blocks = parsed(config(layout="narrow"))["inputs"]["mqtt_consumer"][0]["json_v2"]
    booleans = {m for specs in METRICS.values() for m, s in specs.items() if s.value_type is ValueType.BOOL}
    assert booleans == {"door_open", "lamp_on"}
    assert {b["measurement_name"] for b in blocks} == {"reading"}
    objects = [b["object"][0] for b in blocks]
    numbers = [o for o in objects if o["renames"]["value"] == "value"]
    assert len(numbers) == 1
    for metric in booleans:
        assert f'#(metric!="{metric}")#' in numbers[0]["path"]
    states = sorted(o["path"] for o in objects if o["renames"]["value"] == "state")
    assert states == sorted(f'readings.#(metric=="{m}")#' for m in booleans)
    assert all(o["tags"] == ["sensor", "metric"] for o in objects)


@pytest.mark.parametrize("bad", [{"readings_per_message": 0}, {"batch_size": 0}, {"flush_interval_ms": 0}])
def test_impossible_settings_are_refused_with_the_setting_named(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        config(**bad)


def test_writes_are_counted_from_telegrafs_debug_log_lines() -> None:
    assert written_in_log_line("2026-11-23T21:24:20Z D! [outputs.influxdb_v2] Wrote batch of 10000 metrics in 84.1ms\n") == 10_000
    assert written_in_log_line("2026-11-23T21:24:20Z D! [outputs.influxdb_v2] Buffer fullness: 0 / 100000 metrics") is None
    assert written_in_log_line("2026-11-23T21:24:19Z I! [inputs.mqtt_consumer] Connected [tcp://127.0.0.1:1883]") is None


def flat(series: list[tuple[float, float]]) -> list[float]:
    return [x for point in series for x in point]


def test_rate_series_of_a_steady_writer_is_flat() -> None:
    samples = [(t / 10, 1000.0 * t / 10) for t in range(31)]  # 1000/s for 3 s
    assert flat(rate_series(samples, 1.0)) == pytest.approx(flat([(1.0, 1000.0), (2.0, 1000.0), (3.0, 1000.0)]))


def test_rate_series_spreads_a_batch_write_over_the_time_since_the_last_one() -> None:
    samples = [(0.0, 0.0), (2.0, 10_000.0), (4.0, 20_000.0)]
    assert flat(rate_series(samples, 1.0)) == pytest.approx(flat([(1.0, 5000.0), (2.0, 5000.0), (3.0, 5000.0), (4.0, 5000.0)]))


def test_rate_series_ends_with_a_short_last_bin_and_handles_no_samples() -> None:
    assert flat(rate_series([(0.0, 0.0), (1.5, 300.0)], 1.0)) == pytest.approx(flat([(1.0, 200.0), (1.5, 200.0)]))
    assert rate_series([], 1.0) == []
    with pytest.raises(ValueError, match="bin_s"):
        rate_series([(0.0, 0.0)], 0)


def turn(system: str, workload: str, seconds: float, cpu_s: float, landed: int = 1000) -> Turn:
    return Turn(system, workload, readings=1000, seconds=seconds, cpu_s=cpu_s, peak_rss_mb=100.0 if system == "Vigil" else 50.0,
                landed=landed, load_before=1.0)


def test_table_gives_medians_with_spread_and_paired_ratios() -> None:
    turns = [
        turn("Vigil", "50 readings/message", 1.0, 0.010), turn("Telegraf", "50 readings/message", 2.0, 0.020),
        turn("Vigil", "50 readings/message", 2.0, 0.010), turn("Telegraf", "50 readings/message", 4.0, 0.030),
        turn("Vigil", "50 readings/message", 4.0, 0.012), turn("Telegraf", "50 readings/message", 4.0, 0.024),
    ]
    table = format_table(turns).splitlines()
    assert table[0].startswith("| workload | consumer | readings/s |")
    assert table[2] == "| 50 readings/message | Vigil | 500 (250–1,000) | 10.0 (10.0–12.0) | 100 | yes |"
    assert table[3] == "| 50 readings/message | Telegraf | 250 (250–500) | 24.0 (20.0–30.0) | 50 | yes |"
    # per-run ratios: speed 2, 2, 1; CPU 0.5, 0.333, 0.5
    assert table[4] == "| 50 readings/message | **Vigil/Telegraf** | **2.00× (1.00–2.00)** | **0.50× (0.33–0.50)** | 2.00× | |"


def test_table_says_when_points_are_missing() -> None:
    table = format_table([turn("Vigil", "1 reading/message", 1.0, 0.1), turn("Telegraf", "1 reading/message", 1.0, 0.1, landed=990)])
    assert "| 1 reading/message | Telegraf | 1,000 (1,000–1,000) | 100.0 (100.0–100.0) | 50 | NO: 990 |" in table


def test_paired_ratios_need_one_turn_of_each_per_run() -> None:
    with pytest.raises(ValueError, match="2 Vigil turns but 1 Telegraf"):
        paired_ratios([turn("Vigil", "w", 1, 1)] * 2, [turn("Telegraf", "w", 1, 1)], lambda t: t.seconds)


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    throughput = throughput_plot({"Vigil": [(0.5, 80_000.0), (1.0, 90_000.0)], "Telegraf": [(0.5, 60_000.0)]},
                                 tmp_path / "t" / "throughput.png", "throughput")
    latency = latency_histogram({"Vigil": [5.0, 7.0, 9.0], "none": []}, tmp_path / "latency.png", "latency")
    for path in (throughput, latency):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 200_000  # small enough to commit
