"""Triage of one MQTT message: the lines to write, the dead letters to keep,
and the (gateway, seq) it carries. Pure, so it can be fuzzed without I/O;
whatever the payload, it returns and never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ingest.deadletter import DeadLetter
from ingest.points import PointWriter
from vigil.contract import ContractError, Reason, TopicAddress, decode_envelope, parse_topic

# A worker sees the same few topics (one per gateway) over and over; their
# addresses are immutable, so parse each once. Bounded: topics are input.
_address = lru_cache(maxsize=4096)(parse_topic)


@dataclass(slots=True)
class Triage:
    lines: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    readings: int = 0  # readings in the message, good or bad
    seq: tuple[str, int] | None = None
    sent_at_ns: int = 0
    late_minutes: set[int] = field(default_factory=set)


def triage(topic: str, payload: bytes | bytearray, points: PointWriter, now_ns: int) -> Triage:
    out = Triage()
    address: TopicAddress | None = _address(topic)
    if address is None or address.channel != "readings":
        out.dead.append(DeadLetter(Reason.BAD_TOPIC, "topic is not vigil/v1/<site>/<gateway>/readings", topic, "-", "-", payload))
        return out
    try:
        envelope = decode_envelope(payload)
    except ContractError as exc:
        out.dead.append(DeadLetter(exc.reason, exc.detail, topic, address.gateway, address.site, payload))
        return out
    judged = points.judge_message(envelope, address, now_ns)
    out.lines = judged.lines
    out.late_minutes = judged.late_minutes
    out.dead = [DeadLetter(r.reason, r.detail, topic, address.gateway, address.site, r.reading, envelope.seq, r.index)
                for r in judged.rejected]
    out.readings = len(envelope.readings)
    out.sent_at_ns = envelope.sent_at_ns
    if envelope.gateway == address.gateway:
        out.seq = (envelope.gateway, envelope.seq)
    return out
