"""Medical gas fault scenarios: pipelines, vacuum and the bulk oxygen tank."""

from __future__ import annotations

from simulators.scenarios.scenario import Breach, Scenario, Trip, hours, minutes

OXYGEN = frozenset({"oxygen_line"})

OXYGEN_SLOW_LEAK = Scenario(
    name="oxygen-slow-leak",
    description="A leaking joint bleeds the zone: pressure falls 6% of nominal an hour until the -20% area alarm.",
    profiles=OXYGEN,
    fault="slow-leak",
    trips=(Trip("pressure", Breach.LOW, hours(5)),),
)

OXYGEN_SUDDEN_DROP = Scenario(
    name="oxygen-sudden-drop",
    description="A zone valve is shut or a pipe breaks: pressure falls to 30% of nominal within a minute.",
    profiles=OXYGEN,
    fault="sudden-drop",
    trips=(Trip("pressure", Breach.LOW, minutes(2)),),
)

OXYGEN_REGULATOR_FAILURE = Scenario(
    name="oxygen-regulator-failure",
    description="The line regulator fails open: pressure rises 35% above its setting, past the +20% alarm.",
    profiles=OXYGEN,
    fault="regulator-failure",
    trips=(Trip("pressure", Breach.HIGH, minutes(3)),),
)

MEDICAL_AIR_REGULATOR_FAILURE = Scenario(
    name="medical-air-regulator-failure",
    description="The medical air regulator fails open: pressure rises past the +20% alarm.",
    profiles=frozenset({"medical_air_line"}),
    fault="regulator-failure",
    trips=(Trip("pressure", Breach.HIGH, minutes(3)),),
)

NITROUS_OXIDE_SLOW_LEAK = Scenario(
    name="nitrous-oxide-slow-leak",
    description="A leak on the nitrous oxide line: pressure falls slowly to the -20% alarm.",
    profiles=frozenset({"nitrous_oxide_line"}),
    fault="slow-leak",
    trips=(Trip("pressure", Breach.LOW, hours(5)),),
)

VACUUM_PUMP_FAILURE = Scenario(
    name="vacuum-pump-failure",
    description="Both vacuum pumps stop: suction use bleeds the vacuum below the 40.6 kPa (12 inHg) alarm.",
    profiles=frozenset({"vacuum_line"}),
    fault="pump-failure",
    trips=(Trip("vacuum", Breach.LOW, hours(1.5)),),
)

LOX_TANK_DELIVERY_MISSED = Scenario(
    name="lox-tank-delivery-missed",
    description="The tanker does not come: the liquid oxygen tank runs down past the 20% low level.",
    profiles=frozenset({"lox_tank"}),
    fault="delivery-missed",
    trips=(Trip("tank_level", Breach.LOW, hours(24 * 20)),),
)

SCENARIOS = (
    OXYGEN_SLOW_LEAK,
    OXYGEN_SUDDEN_DROP,
    OXYGEN_REGULATOR_FAILURE,
    MEDICAL_AIR_REGULATOR_FAILURE,
    NITROUS_OXIDE_SLOW_LEAK,
    VACUUM_PUMP_FAILURE,
    LOX_TANK_DELIVERY_MISSED,
)
