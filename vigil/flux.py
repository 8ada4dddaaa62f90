"""Values written into Flux query text: times as RFC 3339 in UTC, strings
quoted and escaped (registry ids and bucket names never reach a query raw)."""

from __future__ import annotations

from datetime import UTC, datetime


def flux_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
