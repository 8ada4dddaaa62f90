"""Pure ingest logic: judge each decoded reading against the registry and the
clock, convert it to its canonical unit, and render it as an InfluxDB line
protocol point tagged with where it comes from. No I/O here.

A point's time is the reading's `ts` and its tags come from the registry, so
a redelivered reading renders to the very same point and overwrites it in
InfluxDB: exactly one point per reading, however often it arrives.

Ingest's CPU goes mostly here, so the usual reading (a known sensor of this
gateway, a number in range or a boolean, canonical or no unit, integer epoch
ms in the window) is judged straight from the decoded JSON against
precomputed `_Series`. Anything else takes the full path (`decode_reading`,
`canonical_reading`), which is the definition: the fast path accepts exactly
what it accepts and renders the same line (tests/ingest/test_points.py
checks the two agree on fuzzed readings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.contract import (
    ContractError,
    Envelope,
    Reading,
    Reason,
    RejectedReading,
    TopicAddress,
    decode_reading,
)
from vigil.registry import Registry, Sensor
from vigil.validation import TimeWindow, UsualSeries, canonical_reading, window_ns

MINUTE_MS = 60_000
# A reading older than this when written may miss the minute roll-up, which
# covers only its last 5 minutes (vigil/infra/downsampling.py): its minute
# is noted for the catch-up (ingest/catchup.py).
LATE_AFTER_S = 240


@dataclass(slots=True)
class JudgedMessage:
    """One readings message, split into line protocol and dead letters."""

    lines: list[str] = field(default_factory=list)
    rejected: list[RejectedReading] = field(default_factory=list)
    late_minutes: set[int] = field(default_factory=set)  # epoch minutes of late readings written


@dataclass(frozen=True, slots=True)
class _Series(UsualSeries):
    head: str  # "<kind>,<tags> <metric>=": the line up to the value


def _series_prefix(sensor: Sensor) -> str:
    # Ids are restricted (vigil.registry.ID_PATTERN) so no escaping is needed.
    tags = ",".join(f"{k}={v}" for k, v in sorted(sensor.tags.items()))
    return f"{sensor.kind.value},{tags}"


def _series(registry: Registry) -> dict[tuple[str, str], _Series]:
    table = {}
    for sensor in registry.sensors.values():
        prefix = _series_prefix(sensor)
        for metric in sensor.metrics:
            table[sensor.id, metric] = _Series(*UsualSeries.fields(sensor, metric), head=f"{prefix} {metric}=")
    return table


class PointWriter:
    """Judges readings against one registry; caches each series' line head."""

    def __init__(self, registry: Registry, window: TimeWindow | None = None):
        self.registry = registry
        self.window = window or TimeWindow()
        self._prefix = {sid: _series_prefix(s) for sid, s in registry.sensors.items()}
        self._series = _series(registry)

    def judge(self, reading: Reading, gateway: str, now_ns: int) -> str:
        """The line protocol for `reading`; raises ContractError if it is unusable."""
        sensor, value = canonical_reading(self.registry, reading, gateway, now_ns, self.window)
        rendered = ("true" if value else "false") if type(value) is bool else repr(float(value))
        return f"{self._prefix[sensor.id]} {reading.metric}={rendered} {reading.ts_ns}"

    def judge_raw(self, raw: Any, gateway: str, now_ns: int) -> str:
        """`judge` of a reading as it arrived (decoded JSON); the definition
        the fast path in `judge_message` must agree with."""
        return self.judge(decode_reading(raw), gateway, now_ns)

    def judge_message(self, envelope: Envelope, topic: TopicAddress, now_ns: int) -> JudgedMessage:
        """Every reading of a message as a line or a dead letter. A message
        whose envelope names another gateway than its topic is rejected whole."""
        out = JudgedMessage()
        gateway = topic.gateway
        refusal = self._refuse(envelope, topic)
        if refusal is not None:
            reason, detail = refusal
            for i, raw in enumerate(envelope.readings):
                try:
                    decode_reading(raw)
                except ContractError as exc:  # unreadable anyway: say why
                    out.rejected.append(RejectedReading(i, raw, exc.reason, exc.detail))
                else:
                    out.rejected.append(RejectedReading(i, raw, reason, detail))
            return out
        series = self._series
        lines = out.lines
        late = out.late_minutes
        late_ms = now_ns // 1_000_000 - LATE_AFTER_S * 1000
        earliest, latest = window_ns(now_ns, self.window)
        # vigil.validation.usual_reading's test, inlined: this loop is ingest's hottest.
        for i, raw in enumerate(envelope.readings):
            try:
                s = series[raw["sensor"], raw["metric"]]
                value = raw["value"]
                ts = raw["ts"]
                unit = raw.get("unit")
            except (KeyError, TypeError, AttributeError):  # not a dict, a field missing, unknown series
                s = None
            if (s is not None and s.gateway == gateway and type(ts) is int and earliest <= ts * 1_000_000 <= latest
                    and (unit is None or unit == s.unit)):
                kind = type(value)
                if s.boolean:
                    if kind is bool:
                        lines.append(f"{s.head}{'true' if value else 'false'} {ts}000000")
                        if ts < late_ms:
                            late.add(ts // MINUTE_MS)
                        continue
                elif (kind is float or kind is int) and s.lowest <= value <= s.highest:
                    # + 0.0 as the identity conversion does: an int becomes a float, -0.0 becomes 0.0
                    lines.append(f"{s.head}{value + 0.0!r} {ts}000000")
                    if ts < late_ms:
                        late.add(ts // MINUTE_MS)
                    continue
            try:
                reading = decode_reading(raw)
                lines.append(self.judge(reading, gateway, now_ns))
            except ContractError as exc:
                out.rejected.append(RejectedReading(i, raw, exc.reason, exc.detail))
                continue
            if reading.ts_ns // 1_000_000 < late_ms:
                late.add(reading.ts_ns // 1_000_000 // MINUTE_MS)
        return out

    def _refuse(self, envelope: Envelope, topic: TopicAddress) -> tuple[Reason, str] | None:
        """Why no reading of this message can be written, if none can."""
        if envelope.gateway != topic.gateway:
            return Reason.GATEWAY_MISMATCH, f"message says gateway {envelope.gateway!r} but was published on {topic.gateway!r}'s topic"
        gw = self.registry.gateways.get(topic.gateway)
        if gw is None or gw.site != topic.site:
            return (Reason.UNKNOWN_GATEWAY if gw is None else Reason.BAD_TOPIC,
                    f"no gateway {topic.gateway!r} at site {topic.site!r} in the registry")
        return None
