"""Judging readings against the registry and rendering line protocol."""

from __future__ import annotations

import json
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.points import PointWriter
from vigil.contract import ContractError, Envelope, Reading, Reason, TopicAddress, decode_envelope, encode_readings
from vigil.kinds import ValueType
from vigil.registry import Registry
from vigil.validation import TimeWindow

T = TypeVar("T")
NOW = 1_795_392_000 * 10**9
TOPIC_A = TopicAddress("north", "gw-a", "readings")


def envelope(gateway: str, readings: list[Reading]) -> Envelope:
    return decode_envelope(encode_readings(gateway, 1, NOW, readings))


@pytest.fixture
def writer(small_registry: Registry) -> PointWriter:
    return PointWriter(small_registry, TimeWindow(max_future_s=300, max_past_s=86_400))


def test_reading_renders_as_one_point_with_registry_tags_and_reading_time(writer: PointWriter) -> None:
    line = writer.judge(Reading("bb-fridge-1-temp", "temperature", 4.0, NOW - 10**9), "gw-a", NOW)
    assert line == (
        "cold_chain,asset=bb-fridge-1,building=main,floor=b1,gateway=gw-a,room=blood-bank,"
        f"sensor=bb-fridge-1-temp,site=north temperature=4.0 {NOW - 10**9}"
    )


def test_units_are_converted_and_booleans_kept(writer: PointWriter) -> None:
    assert writer.judge(Reading("vac-fridge-1-temp", "temperature", 41, NOW, unit="°F"), "gw-a", NOW).split(" ")[1] == "temperature=5.0"
    assert writer.judge(Reading("bb-fridge-1-temp", "door_open", True, NOW), "gw-a", NOW).split(" ")[1] == "door_open=true"


def test_integer_values_are_written_as_floats_so_the_field_type_never_changes(writer: PointWriter) -> None:
    assert " temperature=4.0 " in writer.judge(Reading("bb-fridge-1-temp", "temperature", 4, NOW), "gw-a", NOW)


@pytest.mark.parametrize(
    ("reading", "gateway", "reason"),
    [
        (Reading("no-such-sensor", "temperature", 4.0, NOW), "gw-a", Reason.UNKNOWN_SENSOR),
        (Reading("o2-b1-p", "pressure", 400.0, NOW), "gw-a", Reason.FOREIGN_SENSOR),
        (Reading("bb-fridge-1-temp", "pressure", 4.0, NOW), "gw-a", Reason.UNKNOWN_METRIC),
        (Reading("vac-fridge-1-temp", "door_open", True, NOW), "gw-a", Reason.UNKNOWN_METRIC),  # this sensor reports temperature only
        (Reading("bb-fridge-1-temp", "temperature", 4.0, NOW, unit="kPa"), "gw-a", Reason.BAD_UNIT),
        (Reading("bb-fridge-1-temp", "temperature", -300.0, NOW), "gw-a", Reason.IMPOSSIBLE_VALUE),
        (Reading("bb-fridge-1-temp", "temperature", True, NOW), "gw-a", Reason.WRONG_TYPE),
        (Reading("bb-fridge-1-temp", "door_open", 1.0, NOW), "gw-a", Reason.WRONG_TYPE),
        (Reading("bb-fridge-1-temp", "temperature", 4.0, NOW + 3600 * 10**9), "gw-a", Reason.FUTURE_TIME),
        (Reading("bb-fridge-1-temp", "temperature", 4.0, NOW - 2 * 86_400 * 10**9), "gw-a", Reason.STALE_TIME),
        (Reading("o2-b1-p", "pressure", -5.0, NOW), "gw-b", Reason.IMPOSSIBLE_VALUE),
    ],
)
def test_unusable_reading_is_rejected_with_its_reason(writer: PointWriter, reading: Reading, gateway: str, reason: Reason) -> None:
    with pytest.raises(ContractError) as exc:
        writer.judge(reading, gateway, NOW)
    assert exc.value.reason is reason


def test_gateway_publishing_for_another_gateways_sensors_loses_only_those_readings(writer: PointWriter) -> None:
    msg = envelope("gw-a", [
        Reading("bb-fridge-1-temp", "temperature", 4.0, NOW),
        Reading("water-main-m", "flow", 1.0, NOW),  # belongs to gw-b
    ])
    judged = writer.judge_message(msg, TOPIC_A, NOW)
    assert len(judged.lines) == 1
    assert [(r.index, r.reason) for r in judged.rejected] == [(1, Reason.FOREIGN_SENSOR)]


def test_envelope_naming_another_gateway_than_its_topic_is_rejected_whole(writer: PointWriter) -> None:
    msg = envelope("gw-b", [Reading("bb-fridge-1-temp", "temperature", 4.0, NOW)])
    judged = writer.judge_message(msg, TOPIC_A, NOW)
    assert judged.lines == [] and [r.reason for r in judged.rejected] == [Reason.GATEWAY_MISMATCH]


def test_unknown_gateway_topic_is_rejected(writer: PointWriter) -> None:
    msg = envelope("gw-x", [Reading("bb-fridge-1-temp", "temperature", 4.0, NOW)])
    judged = writer.judge_message(msg, TopicAddress("north", "gw-x", "readings"), NOW)
    assert [r.reason for r in judged.rejected] == [Reason.UNKNOWN_GATEWAY]


# The fast path in judge_message against the definition (decode_reading, then
# judge), reading by reading, on readings built to sit on its edges: window and
# range bounds, ints, -0.0, huge ints, non-finite values, unit spellings.
WINDOW_MS = (NOW // 10**6 - 86_400_000, NOW // 10**6 + 300_000)
edge_times = st.one_of(st.sampled_from([WINDOW_MS[0] - 1, WINDOW_MS[0], WINDOW_MS[1], WINDOW_MS[1] + 1, NOW // 10**6]),
                       st.integers(WINDOW_MS[0] - 5, WINDOW_MS[1] + 5), st.just(True), st.text(max_size=4),
                       st.just("2026-11-23T08:00:00Z"), st.floats())
edge_values = st.one_of(st.sampled_from([0, -0.0, 0.0, -1, 1, -100, -100.0000001, 80, 80.0000001, 3000, 5000, 1e12, 10**400,
                                         -(10**400), 2**53 + 1, 1.0, 100.0, 101.325, 101.33]),
                        st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.none(), st.text(max_size=3))
edge_units = st.one_of(st.none(), st.sampled_from(["degC", "°C", "degF", "kPa", "uW/cm2", "%", "h", "kWh", "1", "", "bogus"]),
                       st.integers())


def usual_or(draw: st.DrawFn, usual: st.SearchStrategy[T], edge: st.SearchStrategy[T]) -> T:
    """Mostly the usual case, so that the fast path is taken, sometimes an edge."""
    return draw(edge) if draw(st.integers(0, 4)) == 0 else draw(usual)


@st.composite
def edge_readings(draw: st.DrawFn, registry: Registry, gateway: str) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.none(), st.text(max_size=3), st.lists(st.integers(), max_size=2)))
    sensor = usual_or(draw, st.sampled_from([s.id for s in registry.sensors_of_gateway(gateway)]), st.sampled_from([*registry.sensors, "nope"]))
    metrics = registry.sensors[sensor].metrics if sensor in registry.sensors else ["temperature"]
    metric = usual_or(draw, st.sampled_from(metrics), st.just("bogus"))
    spec = registry.sensors[sensor].metric_spec(metric) if sensor in registry.sensors else None
    if spec is None or spec.value_type is ValueType.BOOL:
        usual_value: st.SearchStrategy[object] = st.booleans()
    else:
        usual_value = st.one_of(st.floats(spec.minimum, spec.maximum), st.integers(int(spec.minimum or 0), int(spec.maximum or 10)))
    raw = {"sensor": sensor, "metric": metric, "value": usual_or(draw, usual_value, edge_values),
           "ts": usual_or(draw, st.integers(*WINDOW_MS), edge_times)}
    if draw(st.integers(0, 2)) == 0:
        raw["unit"] = usual_or(draw, st.just(spec.unit if spec else "degC"), edge_units)
    if draw(st.integers(0, 9)) == 0:
        del raw[draw(st.sampled_from(["sensor", "metric", "value", "ts"]))]
    return raw


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), gateway=st.sampled_from(["gw-a", "gw-b"]))
def test_fast_path_writes_exactly_what_the_full_judgement_writes(writer: PointWriter, small_registry: Registry,
                                                                 data: st.DataObject, gateway: str) -> None:
    raws = data.draw(st.lists(edge_readings(small_registry, gateway), min_size=1, max_size=6))
    msg = decode_envelope(json.dumps({"gateway": gateway, "seq": 1, "sent_at": NOW // 10**6, "readings": raws}, allow_nan=True))
    judged = writer.judge_message(msg, TopicAddress("north", gateway, "readings"), NOW)

    expected_lines, expected_rejected = [], []
    for i, raw in enumerate(msg.readings):
        try:
            expected_lines.append(writer.judge_raw(raw, gateway, NOW))
        except ContractError as exc:
            expected_rejected.append((i, exc.reason))
    assert judged.lines == expected_lines
    assert [(r.index, r.reason) for r in judged.rejected] == expected_rejected


def test_readings_older_than_the_minute_rollup_covers_are_noted_by_minute(writer: PointWriter) -> None:
    old = NOW - 30 * 60 * 10**9
    msg = envelope("gw-a", [
        Reading("bb-fridge-1-temp", "temperature", 4.0, NOW - 10**9),  # fresh: the regular task rolls it up
        Reading("bb-fridge-1-temp", "temperature", 4.0, old),  # fast path
        Reading("vac-fridge-1-temp", "temperature", 41.0, old + 60 * 10**9, unit="°F"),  # full path (a unit to convert)
        Reading("bb-fridge-1-temp", "temperature", -500.0, old - 60 * 10**9),  # rejected: nothing to roll up
    ])
    judged = writer.judge_message(msg, TOPIC_A, NOW)
    assert len(judged.lines) == 3
    assert judged.late_minutes == {old // 60 // 10**9, old // 60 // 10**9 + 1}
