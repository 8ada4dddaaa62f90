"""The state machine every rule shares: alarm delay on the way in, flap
damping on the way out.

A rule judges each observation as out of range (True), back in range
(False) or "no news" (None: inside the hysteresis band, where the value is
inside the limit but not yet by the clear band, so the last verdict stands).

    IDLE --True--> PENDING --True for `delay`--> FIRING
      ^               |                             |
      |            False                          False
      |               v                             v
      +--RESOLVED-- clearing, `hold` long --------- +

- PENDING is emitted when the condition starts; FIRING once it has held for
  the alarm delay (delay 0: FIRING at once, no PENDING).
- RESOLVED is emitted only after the condition has stayed clear for `hold`
  (flap damping). If it comes back sooner the alert stays as it is: a FIRING
  alert is not re-emitted, a PENDING one restarts its delay (the delay asks
  for an unbroken run) without emitting PENDING again.
- Silence longer than `max_gap` inside a PENDING run restarts the delay: a
  sensor that went quiet is not evidence that the condition held.

Times are event time (reading timestamps) for reading rules and wall clock
for no-data and gateway rules; the machine does not care which.
"""

from __future__ import annotations

from typing import Any

from alerts.model import AlertState

IDLE = 0
PENDING = 1
FIRING = 2


class Alarm:
    """One rule's alarm state for one sensor."""

    __slots__ = ("clear_since", "last_true", "phase", "run_since", "since")

    def __init__(self) -> None:
        self.phase = IDLE
        self.since = 0  # the episode began (first PENDING or FIRING)
        self.run_since = 0  # the current unbroken run began (for the delay)
        self.last_true = 0  # the last observation with the condition true
        self.clear_since: int | None = None  # clear since, while active

    @property
    def active(self) -> bool:
        """PENDING or FIRING."""
        return self.phase != IDLE

    @property
    def firing(self) -> bool:
        return self.phase == FIRING

    def step(self, cond: bool | None, t: int, delay: int, hold: int, max_gap: int) -> AlertState | None:
        """Judge one observation at `t`; return the state to emit, if any."""
        phase = self.phase
        if cond is None:
            if phase == IDLE:
                return None
            cond = self.clear_since is None  # the band keeps the last verdict
        if cond:
            if phase == IDLE:
                self.since = self.run_since = self.last_true = t
                self.clear_since = None
                if delay <= 0:
                    self.phase = FIRING
                    return AlertState.FIRING
                self.phase = PENDING
                return AlertState.PENDING
            if self.clear_since is not None:
                self.clear_since = None  # back before the hold ran out: absorbed
                if phase == PENDING:
                    self.run_since = t
            elif phase == PENDING and t - self.last_true > max_gap:
                self.run_since = t
            if t > self.last_true:
                self.last_true = t
            if phase == PENDING and t - self.run_since >= delay:
                self.phase = FIRING
                return AlertState.FIRING
            return None
        if phase == IDLE:
            return None
        if self.clear_since is None:
            self.clear_since = t
        if t - self.clear_since >= hold:
            self.phase = IDLE
            self.clear_since = None
            return AlertState.RESOLVED
        return None

    def force_resolve(self) -> bool:
        """End the episode now (a people action such as a product reset);
        True if there was one to end."""
        was = self.phase != IDLE
        self.phase = IDLE
        self.clear_since = None
        return was

    def state(self) -> list[Any]:
        """JSON-ready state."""
        return [self.phase, self.since, self.run_since, self.last_true, self.clear_since]

    def load(self, state: list[Any]) -> None:
        """Restore what `state()` returned."""
        phase, since, run_since, last_true, clear_since = state
        if phase not in (IDLE, PENDING, FIRING):
            raise ValueError(f"unknown alarm phase {phase!r}")
        self.phase, self.since, self.run_since, self.last_true = int(phase), int(since), int(run_since), int(last_true)
        self.clear_since = None if clear_since is None else int(clear_since)
