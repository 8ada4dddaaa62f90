"""Named fault scenarios, one module per sensor family, registered in
`SCENARIOS` by kebab-case name (`vigil simulate --scenario NAME`)."""

from __future__ import annotations

from collections.abc import Iterable

from simulators.scenarios import cold_chain, electricity, medical_gas, uv_lamp, water
from simulators.scenarios.scenario import Breach, Scenario, Trip


def _register(*families: Iterable[Scenario]) -> dict[str, Scenario]:
    registered: dict[str, Scenario] = {}
    for family in families:
        for scenario in family:
            if scenario.name in registered:
                raise ValueError(f"scenario {scenario.name!r} is defined twice")
            registered[scenario.name] = scenario
    return registered


SCENARIOS: dict[str, Scenario] = _register(
    cold_chain.SCENARIOS, uv_lamp.SCENARIOS, medical_gas.SCENARIOS, electricity.SCENARIOS, water.SCENARIOS
)

__all__ = ["SCENARIOS", "Breach", "Scenario", "Trip"]
