"""Stand-in `SimulatedSource`: the real one's signature, trivial readings."""

from __future__ import annotations

import time
from collections.abc import Callable

from vigil.contract import Reading
from vigil.registry import Registry


class SimulatedSource:
    def __init__(self, registry: Registry, gateway_id: str, seed: int, speed: float = 1.0,
                 start_ns: int | None = None, clock: Callable[[], float] = time.time):
        self.sensors = [s.id for s in registry.sensors.values() if s.gateway == gateway_id and "temperature" in s.metrics]
        self.clock = clock
        self.count = 0

    def poll(self) -> list[Reading]:
        self.count += 1
        now_ns = int(self.clock() * 1e9)
        return [Reading(sensor, "temperature", float(self.count), now_ns) for sensor in self.sensors]
