"""Site-local time for rules that follow the hospital's day (night flow).

The UTC offset is cached per quarter hour, so judging a reading costs an
integer division, not a zoneinfo lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_NS_PER_S = 1_000_000_000
_BUCKET_NS = 15 * 60 * _NS_PER_S  # every zone in use changes offset on a quarter hour
_NS_PER_DAY = 86_400 * _NS_PER_S


class LocalClock:
    """Local time at one site."""

    __slots__ = ("_bucket", "_offset_ns", "timezone")

    def __init__(self, timezone: str) -> None:
        self.timezone = ZoneInfo(timezone)
        self._bucket = -1
        self._offset_ns = 0

    def local_ns(self, t_ns: int) -> int:
        """`t_ns` shifted by the site's UTC offset at that moment."""
        bucket = t_ns // _BUCKET_NS
        if bucket != self._bucket:
            offset = datetime.fromtimestamp(bucket * _BUCKET_NS / _NS_PER_S, UTC).astimezone(self.timezone).utcoffset()
            self._offset_ns = int(offset.total_seconds()) * _NS_PER_S if offset else 0
            self._bucket = bucket
        return t_ns + self._offset_ns

    def day_and_hour(self, t_ns: int) -> tuple[int, float]:
        """(local day number since 1970-01-01, local hour 0 <= h < 24)."""
        local = self.local_ns(t_ns)
        day, into = divmod(local, _NS_PER_DAY)
        return day, into / (3600 * _NS_PER_S)
