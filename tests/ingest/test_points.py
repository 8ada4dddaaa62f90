"""Judging readings against the registry and rendering line protocol."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.points import PointWriter
from tests.support.edge_readings import NOW, WINDOW, edge_readings
from vigil.contract import ContractError, Envelope, Reading, Reason, TopicAddress, decode_envelope, encode_readings
from vigil.registry import Registry

TOPIC_A = TopicAddress("north", "gw-a", "readings")


def envelope(gateway: str, readings: list[Reading]) -> Envelope:
    return decode_envelope(encode_readings(gateway, 1, NOW, readings))


@pytest.fixture
def writer(small_registry: Registry) -> PointWriter:
    return PointWriter(small_registry, WINDOW)


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
# judge), reading by reading, on readings built to sit on its edges.


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
