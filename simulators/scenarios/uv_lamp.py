"""UV lamp fault scenarios. A lamp is judged only while it is on, so each
trips at its next disinfection cycle, at most about half a day away."""

from __future__ import annotations

from simulators.scenarios.scenario import Breach, Scenario, Trip, hours

UV_LAMPS = frozenset({"uv_lamp"})

UV_LAMP_SUDDEN_FAILURE = Scenario(
    name="uv-lamp-sudden-failure",
    description="The tube fails: the lamp is energised on schedule but gives almost no UV-C.",
    profiles=UV_LAMPS,
    fault="lamp-failure",
    trips=(Trip("intensity", Breach.LOW, hours(24)),),
)

UV_LAMP_AGEING = Scenario(
    name="uv-lamp-ageing",
    description="The lamp is past its life (10,000 burn hours): intensity below the 70 μW/cm² in-use limit; replace it.",
    profiles=UV_LAMPS,
    fault="ageing",
    trips=(Trip("intensity", Breach.LOW, hours(24)),),
)

UV_SENSOR_DIRTY = Scenario(
    name="uv-sensor-dirty",
    description="Dust on the sensor window passes 60% of the light: a low reading from a good lamp (clean, then re-test).",
    profiles=UV_LAMPS,
    fault="dirty-sensor",
    params={"metric": "intensity", "transmission": 0.6},
    trips=(Trip("intensity", Breach.LOW, hours(24)),),
)

SCENARIOS = (UV_LAMP_SUDDEN_FAILURE, UV_LAMP_AGEING, UV_SENSOR_DIRTY)
