"""Pure ingest logic: judge each decoded reading against the registry and the
clock, convert it to its canonical unit, and render it as an InfluxDB line
protocol point tagged with where it comes from. No I/O here.

A point's time is the reading's `ts` and its tags come from the registry, so
a redelivered reading renders to the very same point and overwrites it in
InfluxDB: exactly one point per reading, however often it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.contract import ContractError, Reading, ReadingsMessage, Reason, RejectedReading, TopicAddress
from vigil.registry import Registry, Sensor
from vigil.validation import TimeWindow, canonical_reading


@dataclass(slots=True)
class JudgedMessage:
    """One readings message, split into line protocol and dead letters."""

    lines: list[str] = field(default_factory=list)
    rejected: list[RejectedReading] = field(default_factory=list)


def _series_prefix(sensor: Sensor) -> str:
    # Ids are restricted (vigil.registry.ID_PATTERN) so no escaping is needed.
    tags = ",".join(f"{k}={v}" for k, v in sorted(sensor.tags.items()))
    return f"{sensor.kind.value},{tags}"


class PointWriter:
    """Judges readings against one registry; caches each sensor's series key."""

    def __init__(self, registry: Registry, window: TimeWindow | None = None):
        self.registry = registry
        self.window = window or TimeWindow()
        self._prefix = {sid: _series_prefix(s) for sid, s in registry.sensors.items()}

    def judge(self, reading: Reading, gateway: str, now_ns: int) -> str:
        """The line protocol for `reading`; raises ContractError if it is unusable."""
        sensor, value = canonical_reading(self.registry, reading, gateway, now_ns, self.window)
        rendered = ("true" if value else "false") if type(value) is bool else repr(float(value))
        return f"{self._prefix[sensor.id]} {reading.metric}={rendered} {reading.ts_ns}"

    def judge_message(self, msg: ReadingsMessage, topic: TopicAddress, now_ns: int) -> JudgedMessage:
        """Every reading of `msg` as a line or a dead letter. A message whose
        envelope names another gateway than its topic is rejected whole."""
        out = JudgedMessage(rejected=list(msg.rejected))
        if msg.gateway != topic.gateway:
            detail = f"message says gateway {msg.gateway!r} but was published on {topic.gateway!r}'s topic"
            out.rejected += [RejectedReading(i, r, Reason.GATEWAY_MISMATCH, detail) for i, r in enumerate(msg.readings)]
            return out
        gw = self.registry.gateways.get(topic.gateway)
        if gw is None or gw.site != topic.site:
            detail = f"no gateway {topic.gateway!r} at site {topic.site!r} in the registry"
            out.rejected += [RejectedReading(i, r, Reason.UNKNOWN_GATEWAY if gw is None else Reason.BAD_TOPIC, detail)
                             for i, r in enumerate(msg.readings)]
            return out
        for i, reading in enumerate(msg.readings):
            try:
                out.lines.append(self.judge(reading, topic.gateway, now_ns))
            except ContractError as exc:
                out.rejected.append(RejectedReading(i, reading, exc.reason, exc.detail))
        return out
