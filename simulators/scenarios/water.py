"""Water fault scenarios."""

from __future__ import annotations

from simulators.scenarios.scenario import Breach, Scenario, Trip, hours, minutes

WATER = frozenset({"water_main", "water_submeter"})

WATER_NIGHT_LEAK = Scenario(
    name="water-night-leak",
    description="A constant leak (4% of the peak flow): night flow never reaches zero.",
    profiles=WATER,
    fault="leak",
    trips=(Trip("flow", Breach.CONTINUOUS_FLOW, hours(30)),),
)

WATER_BURST = Scenario(
    name="water-burst",
    description="A pipe bursts: flow far above the day's peak, past the flow alarm.",
    profiles=WATER,
    fault="burst",
    trips=(Trip("flow", Breach.HIGH, minutes(10)),),
)

SCENARIOS = (WATER_NIGHT_LEAK, WATER_BURST)
