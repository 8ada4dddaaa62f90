"""Electricity fault scenarios, and the meter fault shared with water."""

from __future__ import annotations

from simulators.scenarios.scenario import Breach, Scenario, Trip, hours, minutes

SUPPLIES = frozenset({"electricity_main", "electricity_submeter"})
METERS = SUPPLIES | {"water_main", "water_submeter"}

BUILDING_POWER_OUTAGE = Scenario(
    name="building-power-outage",
    description="Utility power fails and the generator does not start automatically: 90 s without voltage, then generator.",
    profiles=SUPPLIES,
    fault="outage",
    params={"changeover_s": 90.0},
    duration=minutes(30),
    trips=(Trip("voltage", Breach.LOW, minutes(3)),),
)

GENERATOR_CHANGEOVER = Scenario(
    name="generator-changeover",
    description="Utility power fails and the generator takes the load in 8 s (NFPA 110: within 10 s): no voltage alarm.",
    profiles=SUPPLIES,
    fault="outage",
    params={"changeover_s": 8.0},
    duration=minutes(30),
    trips=(),
)

ELECTRICITY_OVERLOAD = Scenario(
    name="electricity-overload",
    description="Load surges to 160% of normal and the feeder sags 15%: undervoltage.",
    profiles=SUPPLIES,
    fault="overload",
    trips=(Trip("voltage", Breach.LOW, minutes(2)),),
)

PHASE_IMBALANCE = Scenario(
    name="phase-imbalance",
    description="A neutral shift leaves this phase lightly loaded: its voltage rises 18%, its current falls.",
    profiles=SUPPLIES,
    fault="phase-imbalance",
    trips=(Trip("voltage", Breach.HIGH, minutes(2)),),
)

METER_STUCK = Scenario(
    name="meter-stuck",
    description="The meter register sticks: energy or volume stops advancing while power or flow goes on.",
    profiles=METERS,
    fault="stuck",
    trips=(Trip("energy", Breach.STALLED, hours(1)), Trip("volume", Breach.STALLED, hours(1))),
)

SCENARIOS = (BUILDING_POWER_OUTAGE, GENERATOR_CHANGEOVER, ELECTRICITY_OVERLOAD, PHASE_IMBALANCE, METER_STUCK)
