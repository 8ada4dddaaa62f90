"""The simulator as a gateway's reading source: `poll()` returns the readings
that have come due since the last poll, with simulation time running `speed`
times as fast as the clock (`speed=60` runs an hour a minute)."""

from __future__ import annotations

import time
from collections.abc import Callable

from simulators.scenarios import Scenario
from simulators.simulation import Injection, Simulation
from simulators.site_time import NS_PER_S
from vigil.contract import Reading
from vigil.registry import Registry

MAX_LEAD_S = 7 * 86_400.0  # well inside the raw bucket's 30 days


class SimulatedSource:
    """Simulated sensors of gateway `gateway_id`, a `ReadingSource` for the gateway.

    Simulation time is `start_ns` plus the clock's elapsed time times
    `speed`. Without `start_ns`, a run at `speed` > 1 starts far enough in
    the past to reach the clock's time after `catch_up_s` wall seconds (at
    most a week back), and never runs ahead of the clock. A `start_ns` in the past makes the
    first poll return the backlog since then. `clock` returns epoch seconds
    and is injectable for tests.
    """

    def __init__(
        self,
        registry: Registry,
        gateway_id: str,
        seed: int | str = 0,
        speed: float = 1.0,
        start_ns: int | None = None,
        clock: Callable[[], float] = time.time,
        catch_up_s: float = 3600.0,
    ) -> None:
        if gateway_id not in registry.gateways:
            raise ValueError(f"unknown gateway {gateway_id!r} (known: {', '.join(sorted(registry.gateways))})")
        if not speed > 0:
            raise ValueError(f"speed must be above zero, got {speed}")
        self.gateway_id = gateway_id
        self.speed = speed
        self._clock = clock
        self._wall_start = clock()
        # Anchored to the clock, an accelerated run starts in the past and
        # catches up with the clock after `catch_up_s`, then goes on in real
        # time: readings never lie in the future, where ingest rejects them.
        self._anchored = start_ns is None
        if start_ns is None:
            lead_s = min((speed - 1) * catch_up_s, MAX_LEAD_S) if speed > 1 else 0.0
            start_ns = int((self._wall_start - lead_s) * NS_PER_S)
        self.start_ns = start_ns
        self.simulation = Simulation(registry, seed, self.start_ns, gateways=[gateway_id])
        self._polled_to_ns = self.start_ns

    @property
    def poll_interval_s(self) -> float:
        """How often (wall seconds) to poll so that no sensor's reading waits longer than its interval."""
        intervals = [m.interval_s for m in self.simulation.models.values()]
        return min(intervals, default=60.0) / self.speed

    def now_ns(self) -> int:
        """Simulation time now."""
        now = self._clock()
        sim = self.start_ns + int((now - self._wall_start) * self.speed * NS_PER_S)
        return min(sim, int(now * NS_PER_S)) if self._anchored else sim

    def poll(self) -> list[Reading]:
        """The readings due since the last poll, up to and including now."""
        now = self.now_ns()
        if now < self._polled_to_ns:
            return []  # the clock stepped back: wait until it catches up
        readings = list(self.simulation.readings_between(self._polled_to_ns, now + 1))
        self._polled_to_ns = now + 1
        return readings

    def inject(
        self, scenario: str | Scenario, asset: str | None = None, at_ns: int | None = None, **params: float | str
    ) -> Injection:
        """Apply a named scenario now (or at `at_ns`); see `Simulation.inject`."""
        return self.simulation.inject(scenario, asset, self.now_ns() if at_ns is None else at_ns, **params)

    def clear(self, scenario: str | Scenario, asset: str | None = None, at_ns: int | None = None) -> None:
        """End a scenario now (or at `at_ns`)."""
        self.simulation.clear(scenario, asset, self.now_ns() if at_ns is None else at_ns)
