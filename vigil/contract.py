"""The wire contract between gateways (ours or anyone's) and the platform.

Readings: topic ``vigil/v1/<site>/<gateway>/readings``, QoS 1::

    {"gateway": ID, "seq": N, "sent_at": TIME,
     "readings": [{"sensor": ID, "metric": NAME, "value": NUMBER|BOOL,
                   "unit": UNIT?, "ts": TIME}, ...]}

Status: ``vigil/v1/<site>/<gateway>/status``, retained: ``{"state": "online"|
"offline", "ts": TIME}``. TIME is RFC 3339 with an offset, or integer epoch
milliseconds. See docs/contract.md; the JSON Schemas are in vigil/schemas/.

Decoding is split in two so that one bad reading never costs the good ones
beside it: an envelope that cannot be read raises `ContractError`; a reading
that cannot be read is returned in `ReadingsMessage.rejected` with its reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

TOPIC_PREFIX = "vigil/v1"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS_PER_MESSAGE = 5000
# Epoch-millisecond timestamps outside these years are a unit mistake
# (seconds or microseconds sent as milliseconds), not a real time.
MIN_TS_NS = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) * 10**9
MAX_TS_NS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()) * 10**9


class Reason(StrEnum):
    """Why a message or a reading was rejected: a dead letter's label."""

    OVERSIZED = "oversized"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NON_FINITE = "non_finite"
    BAD_TIME = "bad_time"
    TOO_MANY_READINGS = "too_many_readings"
    BAD_TOPIC = "bad_topic"
    GATEWAY_MISMATCH = "gateway_mismatch"
    # Judged against the registry and the clock by ingest:
    UNKNOWN_GATEWAY = "unknown_gateway"
    UNKNOWN_SENSOR = "unknown_sensor"
    FOREIGN_SENSOR = "foreign_sensor"
    UNKNOWN_METRIC = "unknown_metric"
    BAD_UNIT = "bad_unit"
    IMPOSSIBLE_VALUE = "impossible_value"
    FUTURE_TIME = "future_time"
    STALE_TIME = "stale_time"


class ContractError(ValueError):
    def __init__(self, reason: Reason, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


@dataclass(frozen=True, slots=True)
class TopicAddress:
    site: str
    gateway: str
    channel: str  # "readings" or "status"


def readings_topic(site: str, gateway: str) -> str:
    return f"{TOPIC_PREFIX}/{site}/{gateway}/readings"


def status_topic(site: str, gateway: str) -> str:
    return f"{TOPIC_PREFIX}/{site}/{gateway}/status"


def parse_topic(topic: str) -> TopicAddress | None:
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_PREFIX or parts[4] not in ("readings", "status"):
        return None
    if not parts[2] or not parts[3]:
        return None
    return TopicAddress(site=parts[2], gateway=parts[3], channel=parts[4])


# --------------------------------------------------------------------------
# Time


def parse_time_ns(value: Any) -> int:
    """TIME (RFC 3339 with offset, or integer epoch ms) as epoch nanoseconds, UTC."""
    if type(value) is int:
        ns = value * 1_000_000
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise ContractError(Reason.BAD_TIME, f"{value!r} is not an RFC 3339 time") from None
        if dt.tzinfo is None or "T" not in value.upper():
            raise ContractError(Reason.BAD_TIME, f"{value!r} has no UTC offset (RFC 3339 needs one, e.g. 'Z' or '+08:00')")
        delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
        ns = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    else:
        raise ContractError(Reason.BAD_TIME, "time must be an RFC 3339 string or integer epoch milliseconds")
    if not MIN_TS_NS <= ns < MAX_TS_NS:
        raise ContractError(Reason.BAD_TIME, f"{value!r} is not between 2000 and 2100 (epoch milliseconds expected)")
    return ns


def format_time(ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# Readings


@dataclass(frozen=True, slots=True)
class Reading:
    sensor: str
    metric: str
    value: float | bool
    ts_ns: int
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedReading:
    index: int
    reading: Any  # the reading as it arrived, for the dead letter
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Envelope:
    """A readings message whose envelope is valid, its readings as they
    arrived (decoded JSON, each still to be judged)."""

    gateway: str
    seq: int
    sent_at_ns: int
    readings: list[Any]


@dataclass(slots=True)
class ReadingsMessage:
    gateway: str
    seq: int
    sent_at_ns: int
    readings: list[Reading] = field(default_factory=list)
    rejected: list[RejectedReading] = field(default_factory=list)


def _loads(payload: bytes | bytearray | str) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(Reason.OVERSIZED, f"{len(payload)} bytes, at most {MAX_PAYLOAD_BYTES}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses NaN, Infinity and 1e400 outright, which would lose every
    # reading beside one such value; the stdlib parser reads them as floats so
    # that only the reading that carries one is rejected (non_finite).
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise ContractError(Reason.MALFORMED_JSON, str(exc)) from None


def _required(obj: dict[str, Any], name: str, types: type | tuple[type, ...], what: str) -> Any:
    if name not in obj:
        raise ContractError(Reason.MISSING_FIELD, f"'{name}' is missing")
    value = obj[name]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        raise ContractError(Reason.WRONG_TYPE, f"'{name}' must be {what}, got {type(value).__name__}")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def decode_reading(raw: Any) -> Reading:
    """One reading object; raises ContractError with the reason it is unusable."""
    if not isinstance(raw, dict):
        raise ContractError(Reason.NOT_AN_OBJECT, "a reading must be a JSON object")
    sensor = raw.get("sensor")
    metric = raw.get("metric")
    if type(sensor) is not str or type(metric) is not str:  # the usual case skips _required; it names what is wrong
        sensor = _required(raw, "sensor", str, "a string")
        metric = _required(raw, "metric", str, "a string")
    if "value" not in raw:
        raise ContractError(Reason.MISSING_FIELD, "'value' is missing")
    value = raw["value"]
    if type(value) is bool:
        pass
    elif type(value) in (int, float):
        try:
            value = float(value)
        except OverflowError:  # an integer literal beyond any float (JSON allows 1 followed by 400 zeros)
            value = math.inf
        if not math.isfinite(value):
            raise ContractError(Reason.NON_FINITE, "value must be a finite number")
    else:
        raise ContractError(Reason.WRONG_TYPE, f"'value' must be a number or a boolean, got {type(value).__name__}")
    unit = raw.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise ContractError(Reason.WRONG_TYPE, "'unit' must be a string")
    if "ts" not in raw:
        raise ContractError(Reason.MISSING_FIELD, "'ts' is missing")
    return Reading(sensor=sensor, metric=metric, value=value, ts_ns=parse_time_ns(raw["ts"]), unit=unit)


def decode_envelope(payload: bytes | bytearray | str) -> Envelope:
    """A readings message's envelope; raises ContractError when it is unusable."""
    obj = _loads(payload)
    if not isinstance(obj, dict):
        raise ContractError(Reason.NOT_AN_OBJECT, "a readings message must be a JSON object")
    gateway = _required(obj, "gateway", str, "a string")
    seq = _required(obj, "seq", int, "an integer")
    if seq < 0:
        raise ContractError(Reason.WRONG_TYPE, "'seq' must not be negative")
    sent_at_ns = parse_time_ns(_required(obj, "sent_at", (str, int), "a time"))
    raw_readings = _required(obj, "readings", list, "a list")
    if len(raw_readings) > MAX_READINGS_PER_MESSAGE:
        raise ContractError(Reason.TOO_MANY_READINGS, f"{len(raw_readings)} readings, at most {MAX_READINGS_PER_MESSAGE}")
    return Envelope(gateway, seq, sent_at_ns, raw_readings)


def decode_readings(payload: bytes | bytearray | str) -> ReadingsMessage:
    """A readings message. Raises ContractError when the envelope is unusable;
    readings that are unusable are listed in `rejected`, the rest in `readings`."""
    envelope = decode_envelope(payload)
    msg = ReadingsMessage(gateway=envelope.gateway, seq=envelope.seq, sent_at_ns=envelope.sent_at_ns)
    for i, raw in enumerate(envelope.readings):
        try:
            msg.readings.append(decode_reading(raw))
        except ContractError as exc:
            msg.rejected.append(RejectedReading(i, raw, exc.reason, exc.detail))
    return msg


def encode_readings(gateway: str, seq: int, sent_at_ns: int, readings: list[Reading]) -> bytes:
    """A contract readings message (times as epoch milliseconds)."""
    body = {
        "gateway": gateway,
        "seq": seq,
        "sent_at": sent_at_ns // 1_000_000,
        "readings": [
            {"sensor": r.sensor, "metric": r.metric, "value": r.value, "ts": r.ts_ns // 1_000_000}
            | ({"unit": r.unit} if r.unit is not None else {})
            for r in readings
        ],
    }
    return orjson.dumps(body)


# --------------------------------------------------------------------------
# Status


class GatewayState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    state: GatewayState
    ts_ns: int
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. backlog, dropped


def decode_status(payload: bytes | bytearray | str) -> GatewayStatus:
    obj = _loads(payload)
    if not isinstance(obj, dict):
        raise ContractError(Reason.NOT_AN_OBJECT, "a status message must be a JSON object")
    state = _required(obj, "state", str, "a string")
    try:
        gw_state = GatewayState(state)
    except ValueError:
        raise ContractError(Reason.WRONG_TYPE, f"'state' must be 'online' or 'offline', got {state!r}") from None
    ts_ns = parse_time_ns(_required(obj, "ts", (str, int), "a time"))
    extra = {k: v for k, v in obj.items() if k not in ("state", "ts")}
    return GatewayStatus(gw_state, ts_ns, extra)


def encode_status(state: GatewayState, ts_ns: int, **extra: Any) -> bytes:
    return orjson.dumps({"state": state.value, "ts": ts_ns // 1_000_000, **extra})
