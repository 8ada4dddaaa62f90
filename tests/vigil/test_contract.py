from __future__ import annotations

import json

import pytest

from vigil.contract import (
    MAX_PAYLOAD_BYTES,
    ContractError,
    GatewayState,
    Reading,
    Reason,
    decode_readings,
    decode_status,
    encode_readings,
    encode_status,
    format_time,
    parse_time_ns,
    parse_topic,
    readings_topic,
)

T0 = "2026-11-23T08:00:00+08:00"
T0_NS = 1_795_392_000 * 10**9  # 2026-11-23T00:00:00Z


def message(**over: object) -> bytes:
    body: dict[str, object] = {
        "gateway": "gw-a", "seq": 7, "sent_at": T0,
        "readings": [{"sensor": "s1", "metric": "temperature", "value": 4.5, "ts": T0}],
    }
    body.update(over)
    return json.dumps(body).encode()


def test_time_accepts_rfc3339_with_offset_and_epoch_milliseconds() -> None:
    assert parse_time_ns(T0) == T0_NS
    assert parse_time_ns("2026-11-23T00:00:00Z") == T0_NS
    assert parse_time_ns("2026-11-23T00:00:00.250Z") == T0_NS + 250_000_000
    assert parse_time_ns(T0_NS // 1_000_000) == T0_NS
    assert format_time(T0_NS) == "2026-11-23T00:00:00.000Z"


@pytest.mark.parametrize("bad", ["2026-11-23T08:00:00", "2026-11-23", "yesterday", 1.5e12, True, 1_795_392_000])
def test_time_without_offset_or_in_wrong_unit_is_rejected(bad: object) -> None:
    with pytest.raises(ContractError) as exc:
        parse_time_ns(bad)
    assert exc.value.reason is Reason.BAD_TIME


def test_valid_message_decodes_every_reading() -> None:
    msg = decode_readings(message())
    assert (msg.gateway, msg.seq, msg.sent_at_ns) == ("gw-a", 7, T0_NS)
    assert msg.readings == [Reading("s1", "temperature", 4.5, T0_NS)]
    assert msg.rejected == []


def test_one_bad_reading_is_rejected_with_its_reason_and_the_others_kept() -> None:
    readings = [
        {"sensor": "s1", "metric": "temperature", "value": 4.5, "ts": T0},
        {"sensor": "s1", "metric": "temperature", "value": "4.5", "ts": T0},
        {"sensor": "s1", "metric": "temperature", "ts": T0},
        {"sensor": "s1", "metric": "temperature", "value": 1e400, "ts": T0},
        {"sensor": "s1", "metric": "temperature", "value": 4.5, "ts": "noon"},
        "not an object",
        {"sensor": 12, "metric": "temperature", "value": 4.5, "ts": T0},
        {"sensor": "s2", "metric": "door_open", "value": True, "ts": T0_NS // 10**6},
    ]
    msg = decode_readings(message(readings=readings))
    assert [r.sensor for r in msg.readings] == ["s1", "s2"]
    assert msg.readings[1].value is True
    assert [(r.index, r.reason) for r in msg.rejected] == [
        (1, Reason.WRONG_TYPE), (2, Reason.MISSING_FIELD), (3, Reason.NON_FINITE),
        (4, Reason.BAD_TIME), (5, Reason.NOT_AN_OBJECT), (6, Reason.WRONG_TYPE),
    ]
    assert msg.rejected[0].reading == readings[1]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])  # the last an integer beyond any float
def test_non_finite_value_rejects_only_its_reading(literal: str) -> None:
    payload = (
        '{"gateway": "gw-a", "seq": 1, "sent_at": 1795392000000, "readings": ['
        '{"sensor": "s1", "metric": "temperature", "value": 4.5, "ts": 1795392000000},'
        f'{{"sensor": "s1", "metric": "temperature", "value": {literal}, "ts": 1795392000000}}]}}'
    ).encode()
    msg = decode_readings(payload)
    assert [r.value for r in msg.readings] == [4.5]
    assert [(r.index, r.reason) for r in msg.rejected] == [(1, Reason.NON_FINITE)]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", Reason.MALFORMED_JSON),
        (b'{"gateway": "gw-a", "seq": 1, "sent_at": 0, "readings": [}', Reason.MALFORMED_JSON),
        (b"\xff\xfe not utf-8", Reason.MALFORMED_JSON),
        (b"[1, 2]", Reason.NOT_AN_OBJECT),
        (message(seq="7"), Reason.WRONG_TYPE),
        (message(seq=True), Reason.WRONG_TYPE),
        (message(seq=-1), Reason.WRONG_TYPE),
        (message(readings={"a": 1}), Reason.WRONG_TYPE),
        (json.dumps({"gateway": "gw-a", "seq": 1, "sent_at": T0}).encode(), Reason.MISSING_FIELD),
        (message(sent_at="soon"), Reason.BAD_TIME),
        (message(readings=[{}] * 5001), Reason.TOO_MANY_READINGS),
        (b" " * (MAX_PAYLOAD_BYTES + 1), Reason.OVERSIZED),
    ],
)
def test_unusable_envelope_is_rejected_with_a_reason(payload: bytes, reason: Reason) -> None:
    with pytest.raises(ContractError) as exc:
        decode_readings(payload)
    assert exc.value.reason is reason


def test_encoded_readings_decode_to_the_same_readings() -> None:
    readings = [Reading("s1", "temperature", 4.25, T0_NS, unit="degC"), Reading("s2", "door_open", False, T0_NS + 10**6)]
    msg = decode_readings(encode_readings("gw-a", 3, T0_NS, readings))
    assert msg.readings == readings and msg.seq == 3 and msg.sent_at_ns == T0_NS


def test_status_roundtrip_and_rejects_unknown_state() -> None:
    status = decode_status(encode_status(GatewayState.OFFLINE, T0_NS, backlog=12))
    assert status.state is GatewayState.OFFLINE and status.ts_ns == T0_NS and status.extra == {"backlog": 12}
    with pytest.raises(ContractError):
        decode_status(b'{"state": "sleeping", "ts": 0}')


def test_topics_parse_only_the_contract_shape() -> None:
    address = parse_topic(readings_topic("north", "gw-a"))
    assert address is not None and (address.site, address.gateway, address.channel) == ("north", "gw-a", "readings")
    assert parse_topic("vigil/v1/north/gw-a/status") is not None
    for bad in ["vigil/v2/north/gw-a/readings", "vigil/v1/north/readings", "vigil/v1/north/gw-a/other", "vigil/v1//gw-a/readings"]:
        assert parse_topic(bad) is None
