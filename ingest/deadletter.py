"""Dead letters: every rejected message or reading, kept with its reason in
the `deadletter` bucket where an operator can list it (`vigil ingest
deadletters`), and counted per reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from vigil.contract import Reading, Reason

MEASUREMENT = "rejected"
MAX_PAYLOAD_CHARS = 2048  # enough to see what was wrong; an oversized payload is not stored whole


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ").replace("\n", "\\n") or "-"


def _field_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _as_text(raw: Any) -> str:
    if isinstance(raw, Reading):
        raw = {"sensor": raw.sensor, "metric": raw.metric, "value": raw.value, "ts_ns": raw.ts_ns, "unit": raw.unit}
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[: MAX_PAYLOAD_CHARS * 4]).decode("utf-8", errors="replace")
    else:
        try:
            text = orjson.dumps(raw, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            text = repr(raw)
    return text[:MAX_PAYLOAD_CHARS]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: Reason
    detail: str
    topic: str
    gateway: str  # as claimed by the topic; "-" when the topic is unreadable
    site: str
    payload: Any  # the whole message (bytes) or the one reading
    seq: int | None = None
    index: int | None = None  # position of the reading in its message

    def line(self, ts_ns: int) -> str:
        """Line protocol for the deadletter bucket. `ts_ns` must be unique per
        dead letter (it is the point's identity together with the tags)."""
        fields = [
            f"detail={_field_str(self.detail[:500])}",
            f"payload={_field_str(_as_text(self.payload))}",
            f"topic={_field_str(self.topic[:200])}",
        ]
        if self.seq is not None:
            fields.append(f"seq={self.seq}i")
        if self.index is not None:
            fields.append(f"index={self.index}i")
        return f"{MEASUREMENT},reason={_tag(self.reason.value)},gateway={_tag(self.gateway)},site={_tag(self.site)} {','.join(fields)} {ts_ns}"
