"""The pure parts of `vigil bench scale / overload`: the generated hospital
group loads through Vigil's own registry loader, the rate schedules add up,
the sources stamp readings the way InfluxDB needs, and the summary maths."""

from __future__ import annotations

import math

import pytest

from benchmarks.scale import (
    PROBE_VALUE,
    GroupShape,
    Outcome,
    Phase,
    RateSchedule,
    Sample,
    ScheduledSource,
    cores_used,
    drain_time,
    gateways_only_yaml,
    group_layout,
    hospital_group_yaml,
    normal_value,
    overload,
    percentile,
    phase_rates,
    probe_asset_name,
    probe_plan,
    probe_sensor,
    rates,
    spread,
    steady,
    summarise,
)
from ingest.points import PointWriter
from vigil.contract import Reading, decode_readings, encode_readings, parse_topic
from vigil.registry import parse_registry

SMALL = GroupShape(hospitals=2, buildings=2, gateways_per_building=2, sensors_per_gateway=60)


@pytest.fixture(scope="module")
def small_group():  # type: ignore[no-untyped-def]
    return parse_registry(hospital_group_yaml(SMALL), "group.yaml")


def test_generated_group_loads_with_the_shape_asked_for(small_group) -> None:  # type: ignore[no-untyped-def]
    assert len(small_group.gateways) == SMALL.gateways == 8
    assert len(small_group.sensors) == SMALL.sensors == 480
    assert {s.site for s in small_group.sensors.values()} == {"h00", "h01"}
    per_gateway = {gw: len(small_group.sensors_of_gateway(gw)) for gw in small_group.gateways}
    assert set(per_gateway.values()) == {60}


def test_layout_matches_what_the_registry_loader_built(small_group) -> None:  # type: ignore[no-untyped-def]
    for gw, (site, sensors) in group_layout(SMALL).items():
        assert small_group.gateways[gw].site == site
        for sensor_id, profile, metric in sensors:
            sensor = small_group.sensors[sensor_id]
            assert (sensor.gateway, sensor.profile, sensor.metrics) == (gw, profile, (metric,))


def test_probe_fridge_fires_at_once_and_has_a_unique_name(small_group) -> None:  # type: ignore[no-untyped-def]
    gw = "gw-h01-b1-0"
    probe = small_group.sensors[probe_sensor(gw)]
    assert probe.thresholds["temperature"].delay.total_seconds() == 0
    assert probe.asset_name == probe_asset_name(gw)
    others = [s.asset_name for s in small_group.sensors.values() if s.id != probe.id]
    assert not any(probe_asset_name(gw) in name for name in others)


def test_normal_values_are_written_and_do_not_alarm(small_group) -> None:  # type: ignore[no-untyped-def]
    writer = PointWriter(small_group)
    now = 1_800_000_000 * 10**9
    for sensor in small_group.sensors.values():
        metric = sensor.metrics[0]
        value = normal_value(sensor.profile, metric)
        limits = sensor.thresholds[metric]
        assert limits.effective_low is None or value > limits.effective_low
        assert limits.effective_high is None or value < limits.effective_high
        line = writer.judge(Reading(sensor.id, metric, value, now), sensor.gateway, now)
        assert f"sensor={sensor.id}" in line
    probe = small_group.sensors[probe_sensor("gw-h00-b0-0")]
    assert (probe.thresholds["temperature"].effective_high or 0) < PROBE_VALUE


def test_gateways_only_config_has_every_gateway_and_no_sensor() -> None:
    layout = group_layout(SMALL)
    light = parse_registry(gateways_only_yaml(layout))
    assert set(light.gateways) == set(layout)
    assert not light.sensors
    assert all(light.gateways[gw].site == site for gw, (site, _) in layout.items())


def test_steady_schedule_integrates_the_rate() -> None:
    s = steady(50.0, 600)
    assert s.duration_s == 600
    assert s.due(0) == 0
    assert s.due(10) == 500
    assert s.total() == 30_000
    assert s.due(10_000) == 30_000  # nothing after the end
    assert s.rate_at(599.9) == 50.0
    assert s.rate_at(600) == 0.0


def test_overload_schedule_is_ten_times_the_rate_during_the_surge() -> None:
    s = overload(50.0, before_s=60, surge_s=120, after_s=60, factor=10)
    assert [s.rate_at(t) for t in (30, 60, 179, 180, 239)] == [50, 500, 500, 50, 50]
    assert s.due(60) == 3_000
    assert s.due(180) == 3_000 + 60_000
    assert s.total() == 3_000 + 60_000 + 3_000


def test_schedule_rounds_down_and_never_goes_back() -> None:
    s = RateSchedule(3.3, (Phase(10, 1.0), Phase(5, 2.0)))
    dues = [s.due(t / 10) for t in range(0, 200)]
    assert dues == sorted(dues)
    assert s.due(1) == 3
    assert s.total() == 66


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_source_takes_what_the_schedule_says_round_robin() -> None:
    clock = Clock(1_800_000_000.0)
    sensors = [(f"s{i}", "temperature", 5.0) for i in range(7)]
    source = ScheduledSource(sensors, steady(20.0, 60), clock.t, clock=clock)
    out = []
    for _ in range(610):  # a little past the end: 0.1 s steps do not add up to 60.0 exactly
        clock.t += 0.1
        out += source.poll()
    assert len(out) == source.taken == 1_200
    assert [r.sensor for r in out[:8]] == ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s0"]
    clock.t += 100
    assert source.poll() == []


def test_source_stamps_survive_the_contract_milliseconds_distinct_per_series() -> None:
    """The contract carries ms: two readings of a series in one millisecond
    would be one InfluxDB point, i.e. a reading lost to the count."""
    clock = Clock(1_800_000_000.0)
    sensors = [(f"s{i}", "temperature", 5.0) for i in range(3)]
    source = ScheduledSource(sensors, steady(500.0, 5), clock.t, probe="s0", probes_at=[2.0], clock=clock)
    seen: set[tuple[str, int]] = set()
    seq = 0
    for _ in range(60):  # past the end of the schedule
        clock.t += 0.1
        readings = source.poll()
        if not readings:
            continue
        seq += 1
        decoded = decode_readings(encode_readings("gw-a", seq, int(clock.t * 1e9), readings)).readings
        for r in decoded:
            assert r.ts_ns <= int(clock.t * 1e9)  # never in the future
            seen.add((r.sensor, r.ts_ns))
    assert len(seen) == source.taken == 2_500
    assert len(source.probes_sent) == 1


def test_source_probe_reports_the_alarm_value_once() -> None:
    clock = Clock(1_800_000_000.0)
    source = ScheduledSource([("s0", "temperature", 5.0)], steady(10.0, 10), clock.t, probe="p", probes_at=[5.0], clock=clock)
    probes = []
    for _ in range(110):
        clock.t += 0.1
        probes += [r for r in source.poll() if r.sensor == "p"]
    assert [(r.value, r.ts_ns) for r in probes] == [(PROBE_VALUE, source.probes_sent[0])]
    assert source.taken == 100  # the probe takes the place of a normal reading


def test_source_refuses_more_than_one_reading_a_millisecond() -> None:
    with pytest.raises(ValueError, match="one per millisecond"):
        ScheduledSource([("s0", "temperature", 5.0)], overload(200.0, 1, 1, 1, factor=10), 0.0)
    with pytest.raises(ValueError, match="at least one sensor"):
        ScheduledSource([], steady(1.0, 1), 0.0)


def test_probe_plan_spreads_probes_over_distinct_gateways_after_the_warm_up() -> None:
    gws = [f"gw-{i}" for i in range(200)]
    plan = probe_plan(gws, 600, 30)
    assert len(plan) == 30
    times = sorted(t for ts in plan.values() for t in ts)
    assert times[0] == 20.0 and times[-1] < 590
    assert probe_plan(gws[:3], 600, 30).keys() == set(gws[:3])
    assert probe_plan(gws, 600, 0) == {}


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_rates_of_a_cumulative_counter() -> None:
    assert rates([(0, 0), (5, 500), (10, 1500), (10, 1500)]) == [(5, 100.0), (10, 200.0)]


def test_drain_time_is_from_the_load_end_until_the_backlog_stays_empty() -> None:
    backlog = [(0, 0), (60, 50), (120, 900), (180, 400), (190, 0), (195, 3), (200, 0), (205, 0)]
    assert drain_time(backlog, after=180) == 20  # it went back up once before staying empty
    assert drain_time(backlog, after=205) == 0.0
    assert drain_time([(0, 5), (10, 5)], after=0) is None


def test_phase_rates_are_medians_of_the_intervals_inside_each_phase_once_settled() -> None:
    schedule = overload(100.0, before_s=30, surge_s=30, after_s=30)
    # 100/s, then 1,000/s, then 100/s, sampled every 5 s; ingest a little late into the surge
    counter, samples = 0.0, [(0.0, 0.0)]
    for t in range(5, 95, 5):
        counter += 5 * (1000 if 35 <= t <= 60 else 100)
        samples.append((float(t), counter))
    before, surge, after = phase_rates(samples, schedule)
    assert (before, surge, after) == (100, 1000, 100)  # the interval ending at 35 s is the surge's settling
    flat = [(float(t), 100.0 * t) for t in range(0, 70, 5)]
    assert phase_rates(flat, overload(100.0, 30, 5, 30)) == [100, None, 100]  # a surge too short to settle


def test_spread_is_median_with_the_range() -> None:
    assert spread([3.0, 1.0, 2.0]) == "2 (1-3)"


def test_topic_of_generated_gateway_parses(small_group) -> None:  # type: ignore[no-untyped-def]
    addr = parse_topic(small_group.gateways["gw-h00-b0-1"].readings_topic)
    assert addr is not None and (addr.site, addr.gateway) == ("h00", "gw-h00-b0-1")


def test_cores_used_is_cpu_seconds_over_the_wall_time_between_first_and_last_sample() -> None:
    samples = [Sample(t, 0, 0, 0, 0, 0.0, 1.0, cpu_s={"alerts": cpu, "ingest": cpu / 4})
               for t, cpu in ((10.0, 5.0), (20.0, 12.0), (30.0, 20.0))]
    assert cores_used(samples) == {"alerts": 0.75, "ingest": 0.19}
    assert cores_used(samples[:1]) == {}


def test_alerts_lag_is_summarised_until_every_reading_was_judged() -> None:
    schedule = steady(100.0, 20)
    samples = [Sample(t, taken=100.0 * min(t, 20), written=100.0 * min(t, 20), backlog=0, dropped=0, lag_s=0.1, api_ms=1.0,
                      rss_mb={"ingest": 1.0}, cpu_s={"ingest": 0.0}, judged=100.0 * min(t, 20), alerts_lag_s=lag)
               for t, lag in [(0.0, math.nan), (5.0, 0.2), (10.0, 3.0), (15.0, 0.1), (20.0, 0.3), (25.0, 5.3), (30.0, 10.3)]]
    outcome = Outcome("run", GroupShape(1, 1, 1, 2), schedule, samples, 2000, 2000, 0, drained_s=5.0, judged_s=5.0,
                      recorded_ms=[], recorded_at_s=[], delivered_ms=[], probes=0, since_publish={}, crashed=[], startup_s=1.0,
                      load=(0.0, 0.0, 0.0))
    row = summarise(outcome)
    assert row["alerts_lag_max_s"] == 5.3  # the sample at 25 s is when it caught up; after that no message came
    assert row["exact"] is True
