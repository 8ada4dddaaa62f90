"""Site-local time for the physics: plant behaviour follows the hospital's
day (door openings in working hours, water use, electrical load), which is
the local time of the site, not UTC.

`SiteClock` converts epoch nanoseconds to the local hour and weekday with the
UTC offset cached per hour, so a model stepping every few seconds does not
pay for a zoneinfo lookup each step.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NS_PER_S = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_S
NS_PER_DAY = 24 * NS_PER_HOUR
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


class SiteClock:
    """Local wall-clock time at one site."""

    def __init__(self, timezone: str | ZoneInfo = "UTC") -> None:
        self.timezone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self._bucket = -1
        self._offset_ns = 0

    def _local_ns(self, t_ns: int) -> int:
        bucket = t_ns // NS_PER_HOUR
        if bucket != self._bucket:
            # Offsets change on whole hours in every zone a hospital is likely in.
            offset = datetime.fromtimestamp(bucket * 3600, UTC).astimezone(self.timezone).utcoffset()
            self._offset_ns = int(offset.total_seconds()) * NS_PER_S if offset else 0
            self._bucket = bucket
        return t_ns + self._offset_ns

    def hour(self, t_ns: int) -> float:
        """Local time of day in hours, 0 <= h < 24."""
        return (self._local_ns(t_ns) % NS_PER_DAY) / NS_PER_HOUR

    def weekday(self, t_ns: int) -> int:
        """Local day of the week, Monday = 0."""
        return int((self._local_ns(t_ns) // NS_PER_DAY + _EPOCH_WEEKDAY) % 7)

    def local_day(self, t_ns: int) -> int:
        """Local calendar day as days since 1970-01-01, for grouping by night."""
        return self._local_ns(t_ns) // NS_PER_DAY


def hospital_activity(hour: float, weekday: int) -> float:
    """How busy the hospital is, 0 (small hours) to 1 (weekday early afternoon).

    A smooth bump from 06:00 to 22:00 peaking at 14:00; weekends run at 60%
    (wards and emergency keep going, clinics and theatres mostly stop).
    """
    if not 6.0 < hour < 22.0:
        return 0.0
    bump = math.sin(math.pi * (hour - 6.0) / 16.0) ** 2
    return bump * (0.6 if weekday >= 5 else 1.0)


def is_working_hours(hour: float, weekday: int) -> bool:
    """Weekday day shift, when stores and fridges are busiest."""
    return weekday < 5 and 8.0 <= hour < 18.0
