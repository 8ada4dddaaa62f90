"""Pure pacing logic: closing batches by count and age, and the token bucket
that bounds the drain rate. No I/O; the clock is injected."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from vigil.contract import Reading

Clock = Callable[[], float]


class Batcher:
    """Collects readings into batches of at most `max_readings`, and closes a
    batch once its first reading has waited `max_age_s` (by `clock`)."""

    def __init__(self, max_readings: int, max_age_s: float, clock: Clock = time.monotonic):
        if max_readings < 1:
            raise ValueError("max_readings must be at least 1")
        if max_age_s <= 0:
            raise ValueError("max_age_s must be positive")
        self.max_readings = max_readings
        self.max_age_s = max_age_s
        self._clock = clock
        self._open: list[Reading] = []
        self._opened_at = 0.0

    def __len__(self) -> int:
        """Readings in the open batch."""
        return len(self._open)

    def add(self, readings: Iterable[Reading]) -> list[list[Reading]]:
        """Add readings; return the batches that reached `max_readings`."""
        full: list[list[Reading]] = []
        for reading in readings:
            if not self._open:
                self._opened_at = self._clock()
            self._open.append(reading)
            if len(self._open) >= self.max_readings:
                full.append(self._open)
                self._open = []
        return full

    def take_due(self) -> list[Reading] | None:
        """The open batch once it is `max_age_s` old, else None."""
        if self._open and self._clock() - self._opened_at >= self.max_age_s:
            return self.flush()
        return None

    def flush(self) -> list[Reading]:
        """Close the open batch now (possibly empty), e.g. at shutdown."""
        batch, self._open = self._open, []
        return batch


class TokenBucket:
    """`rate` tokens per second, holding at most `burst` (at least one)."""

    def __init__(self, rate: float, burst: float | None = None, clock: Clock = time.monotonic):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> int:
        """Whole tokens available now."""
        self._refill()
        return int(self._tokens)

    def take(self, n: int = 1) -> bool:
        """Take `n` tokens if there are that many; False (and take none) if not."""
        self._refill()
        if self._tokens < n:
            return False
        self._tokens -= n
        return True
