"""Cold-chain fault scenarios: fridges, freezers and the platelet incubator."""

from __future__ import annotations

from simulators.scenarios.scenario import Breach, Scenario, Trip, hours, minutes

FRIDGES = frozenset({"vaccine_fridge", "pharmacy_fridge"})
COLD_CHAIN = frozenset({"vaccine_fridge", "pharmacy_fridge", "blood_bank_fridge", "plasma_freezer", "platelet_incubator"})

VACCINE_FRIDGE_COMPRESSOR_FAILURE = Scenario(
    name="vaccine-fridge-compressor-failure",
    description="The compressor runs at a fifth of its capacity: the temperature creeps above 8 °C over an hour or two.",
    profiles=FRIDGES,
    fault="compressor-failure",
    trips=(Trip("temperature", Breach.HIGH, hours(6)),),
)

VACCINE_FRIDGE_DOOR_LEFT_OPEN = Scenario(
    name="vaccine-fridge-door-left-open",
    description="The door is not closed after a pick: the door alarm fires, then the temperature leaves 2-8 °C.",
    profiles=FRIDGES,
    fault="door-left-open",
    trips=(Trip("door_open", Breach.STATE, minutes(12)), Trip("temperature", Breach.HIGH, minutes(45))),
)

VACCINE_FRIDGE_THERMOSTAT_DRIFT = Scenario(
    name="vaccine-fridge-thermostat-drift",
    description="The thermostat drifts down by 1 °C an hour: the vaccines are at risk of freezing.",
    profiles=FRIDGES,
    fault="thermostat-drift",
    trips=(Trip("temperature", Breach.LOW, hours(6)),),
)

FRIDGE_PROBE_STUCK = Scenario(
    name="fridge-probe-stuck",
    description="The temperature probe sticks and repeats its last value; only a flat-line check can see it.",
    profiles=COLD_CHAIN,
    fault="stuck",
    params={"metric": "temperature"},
    # The stuck rule waits 2 h of an exactly flat value (a working fridge never holds still that long).
    trips=(Trip("temperature", Breach.FLATLINE, hours(2) + minutes(2)),),
)

BLOOD_FRIDGE_DOOR_LEFT_OPEN = Scenario(
    name="blood-fridge-door-left-open",
    description="The blood-bank fridge door is left open: door alarm, then red cells above 5.5 °C.",
    profiles=frozenset({"blood_bank_fridge"}),
    fault="door-left-open",
    trips=(Trip("door_open", Breach.STATE, minutes(12)), Trip("temperature", Breach.HIGH, minutes(30))),
)

BLOOD_FRIDGE_COMPRESSOR_FAILURE = Scenario(
    name="blood-fridge-compressor-failure",
    description="The blood-bank fridge compressor loses most of its capacity: red cells warm past 5.5 °C.",
    profiles=frozenset({"blood_bank_fridge"}),
    fault="compressor-failure",
    trips=(Trip("temperature", Breach.HIGH, hours(3)),),
)

COLD_ROOM_POWER_LOSS = Scenario(
    name="cold-room-power-loss",
    description="The unit loses power (the logger runs on its battery): it warms towards room temperature.",
    profiles=COLD_CHAIN,
    fault="power-loss",
    trips=(Trip("temperature", Breach.HIGH, hours(3)),),
)

PLASMA_FREEZER_COMPRESSOR_FAILURE = Scenario(
    name="plasma-freezer-compressor-failure",
    description="The plasma freezer compressor loses most of its capacity: plasma warms above -25 °C.",
    profiles=frozenset({"plasma_freezer"}),
    fault="compressor-failure",
    trips=(Trip("temperature", Breach.HIGH, hours(6)),),
)

PLASMA_FREEZER_DOOR_LEFT_OPEN = Scenario(
    name="plasma-freezer-door-left-open",
    description="The plasma freezer lid is left open: door alarm, then plasma above -25 °C.",
    profiles=frozenset({"plasma_freezer"}),
    fault="door-left-open",
    trips=(Trip("door_open", Breach.STATE, minutes(12)), Trip("temperature", Breach.HIGH, hours(1.5))),
)

SCENARIOS = (
    VACCINE_FRIDGE_COMPRESSOR_FAILURE,
    VACCINE_FRIDGE_DOOR_LEFT_OPEN,
    VACCINE_FRIDGE_THERMOSTAT_DRIFT,
    FRIDGE_PROBE_STUCK,
    BLOOD_FRIDGE_DOOR_LEFT_OPEN,
    BLOOD_FRIDGE_COMPRESSOR_FAILURE,
    COLD_ROOM_POWER_LOSS,
    PLASMA_FREEZER_COMPRESSOR_FAILURE,
    PLASMA_FREEZER_DOOR_LEFT_OPEN,
)
