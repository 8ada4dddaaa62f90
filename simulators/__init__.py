"""Sensor simulators: physical models of every sensor family, deterministic
for a seed, with named fault scenarios.

`Simulation` runs a facility (or one gateway's part of it) and yields
readings in time order; `SimulatedSource` is the same as a gateway's
reading source in real or accelerated time; `SCENARIOS` lists the named
faults. Pure logic, standard library only, no I/O.
"""

from simulators.model import SensorModel
from simulators.plant import Fault, Plant
from simulators.scenarios import SCENARIOS, Breach, Scenario, Trip
from simulators.simulation import Injection, Simulation, build_plant
from simulators.source import SimulatedSource

__all__ = [
    "SCENARIOS", "Breach", "Fault", "Injection", "Plant", "Scenario", "SensorModel", "SimulatedSource", "Simulation",
    "Trip", "build_plant",
]  # fmt: skip
