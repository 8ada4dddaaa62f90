"""Judging readings against the registry and rendering line protocol."""

from __future__ import annotations

import pytest

from ingest.points import PointWriter
from vigil.contract import ContractError, Reading, ReadingsMessage, Reason, TopicAddress
from vigil.registry import Registry
from vigil.validation import TimeWindow

NOW = 1_795_392_000 * 10**9
TOPIC_A = TopicAddress("north", "gw-a", "readings")


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
    msg = ReadingsMessage("gw-a", 1, NOW, readings=[
        Reading("bb-fridge-1-temp", "temperature", 4.0, NOW),
        Reading("water-main-m", "flow", 1.0, NOW),  # belongs to gw-b
    ])
    judged = writer.judge_message(msg, TOPIC_A, NOW)
    assert len(judged.lines) == 1
    assert [(r.index, r.reason) for r in judged.rejected] == [(1, Reason.FOREIGN_SENSOR)]


def test_envelope_naming_another_gateway_than_its_topic_is_rejected_whole(writer: PointWriter) -> None:
    msg = ReadingsMessage("gw-b", 1, NOW, readings=[Reading("bb-fridge-1-temp", "temperature", 4.0, NOW)])
    judged = writer.judge_message(msg, TOPIC_A, NOW)
    assert judged.lines == [] and [r.reason for r in judged.rejected] == [Reason.GATEWAY_MISMATCH]


def test_unknown_gateway_topic_is_rejected(writer: PointWriter) -> None:
    msg = ReadingsMessage("gw-x", 1, NOW, readings=[Reading("bb-fridge-1-temp", "temperature", 4.0, NOW)])
    judged = writer.judge_message(msg, TopicAddress("north", "gw-x", "readings"), NOW)
    assert [r.reason for r in judged.rejected] == [Reason.UNKNOWN_GATEWAY]
