"""Every number the rule book uses that does not come from an asset profile,
with where it comes from. Thresholds, alarm delays and clear bands come from
the profiles (vigil.profiles), resolved per asset by the registry; what is
here is what the profiles do not say: product exposure budgets, how long
silence or a flat line may last, leak and stall windows, the flap damping.

Figures marked "(unverified)" need a second source before they are presented
to users as a standard (shared/domain.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vigil.kinds import SensorKind
from vigil.profiles import Severity

# ---------------------------------------------------------------- flap damping

# A condition must stay clear this long (event time) before RESOLVED is
# emitted; if it comes back sooner the alert simply stays open. Threshold
# rules hold for their alarm delay when that is longer: what took 15 minutes
# to believe bad takes 15 minutes to believe good, so a fridge cycling across
# its limit stays one alert. Together with the profiles' clear bands this is
# what stops a value hovering at a limit from mailing people every few
# seconds (shared/domain.md, peer complaints).
RESOLVE_HOLD = timedelta(minutes=5)

# ---------------------------------------------------------------- no data

# How long a sensor may be silent (wall clock) before it is "no data". Also
# the longest gap between two readings that still counts as one continuous
# run for alarm delays, cumulative time and excursions: silence is not
# evidence that a fridge stayed warm.
NO_DATA_AFTER: dict[SensorKind, timedelta] = {
    # CDC/VFC: a data logger records at least every 30 min; two missed records.
    SensorKind.COLD_CHAIN: timedelta(minutes=60),
    # GB 50751 §7.1: a broken sensor circuit must alarm; gas lines report every 10 s.
    SensorKind.MEDICAL_GAS: timedelta(minutes=5),
    SensorKind.ELECTRICITY_METER: timedelta(minutes=10),
    SensorKind.WATER_METER: timedelta(minutes=15),
    # The lamp state is reported every minute, on or off.
    SensorKind.UV_LAMP: timedelta(minutes=15),
}
NO_DATA_SOURCE = {
    SensorKind.COLD_CHAIN: "CDC/VFC logger interval <= 30 min: two records missed",
    SensorKind.MEDICAL_GAS: "GB 50751 §7.1: a broken sensor circuit must alarm",
}
NO_DATA_DEFAULT_SOURCE = "Vigil default: several reporting intervals missed"

# After a (re)start the engine waits this long (wall clock) before calling
# anything stale, so the broker's backlog can drain first.
RESTART_GRACE = timedelta(minutes=5)

# ---------------------------------------------------------------- gateways

GATEWAY_OFFLINE_AFTER = timedelta(minutes=2)
GATEWAY_OFFLINE_SOURCE = "Vigil default: a gateway restart reconnects within seconds"

# ---------------------------------------------------------------- stuck sensor

# A numeric value repeated exactly for this long (event time) and at least
# STUCK_MIN_READINGS times is a stuck probe or transmitter: real plant always
# fluctuates at the resolution these sensors report. Exactly zero is a rest
# state (no flow, no load, no supply), never "stuck". Counters have their own
# rule (counter_stalled) and booleans legitimately hold for hours.
STUCK_AFTER: dict[tuple[SensorKind, str], timedelta] = {
    (SensorKind.COLD_CHAIN, "temperature"): timedelta(hours=2),  # fridges cycle every 20-30 min
    (SensorKind.MEDICAL_GAS, "pressure"): timedelta(hours=1),
    (SensorKind.MEDICAL_GAS, "vacuum"): timedelta(hours=1),  # vacuum pumps cycle
    (SensorKind.MEDICAL_GAS, "tank_level"): timedelta(hours=12),  # a full tank is used slowly at night
    (SensorKind.ELECTRICITY_METER, "voltage"): timedelta(hours=1),
    (SensorKind.ELECTRICITY_METER, "current"): timedelta(hours=1),
    (SensorKind.WATER_METER, "flow"): timedelta(hours=6),  # non-zero flow only
    (SensorKind.UV_LAMP, "intensity"): timedelta(hours=2),
}
STUCK_MIN_READINGS = 10
STUCK_SOURCE = "Vigil default (issue: cold chain 2 h; real plant always fluctuates)"

# ---------------------------------------------------------------- cold chain


@dataclass(frozen=True, slots=True)
class ExposureBudget:
    """A product's allowance of time outside a temperature range: `budget` of
    time at or beyond the bounds (`inclusive`: ">= 10 °C") within `window`,
    in total (cumulative) or as one unbroken run (single event)."""

    variant: str  # the rule id suffix, stable: "who-10c-20h"
    low: float | None
    high: float | None
    inclusive: bool
    budget: timedelta
    window: timedelta | None  # None: a single unbroken event of `budget`
    source: str


# WHO PQS E006 indicator types, judged over a 30-day window as the WHO
# 30-day electronic temperature recorder does.
_WHO = "WHO PQS E006"
_WHO_WINDOW = timedelta(days=30)


def _budget(
    variant: str, low: float | None, high: float | None, budget: timedelta, window: timedelta | None, source: str,
    *, inclusive: bool = False,
) -> ExposureBudget:  # fmt: skip
    return ExposureBudget(variant, low, high, inclusive, budget, window, source)


PRODUCT_BUDGETS: dict[str, tuple[ExposureBudget, ...]] = {
    "vaccine": (
        _budget("who-10c-20h", None, 10.0, timedelta(hours=20), _WHO_WINDOW, f"{_WHO}: >= 10 °C for 20 h cumulative", inclusive=True),
        _budget("who-30c-10h", None, 30.0, timedelta(hours=10), _WHO_WINDOW, f"{_WHO}: >= 30 °C for 10 h cumulative", inclusive=True),
        _budget("who-45c-1h", None, 45.0, timedelta(hours=1), None, f"{_WHO}: >= 45 °C for 1 h, single event", inclusive=True),
        _budget("who-freeze-1h", -0.5, None, timedelta(hours=1), None, f"{_WHO}: <= -0.5 °C for 1 h (freezing)", inclusive=True),
    ),
    # Storage ranges from AABB / the Australian guidelines (shared/domain.md);
    # the time budgets are Vigil defaults (unverified) pending a second source.
    "red_cells": (
        _budget("outside-2-6c-30min", 2.0, 6.0, timedelta(minutes=30), timedelta(hours=24),
                "AABB red cells 2-6 °C; 30 min in 24 h (unverified, cf. the UK 30-minute rule)"),
    ),
    "plasma": (
        _budget("above-minus25c-1h", None, -25.0, timedelta(hours=1), timedelta(hours=24),
                "AU/UK plasma <= -25 °C; 1 h in 24 h (unverified)"),
    ),
    "platelets": (
        _budget("outside-20-24c-1h", 20.0, 24.0, timedelta(hours=1), timedelta(hours=24),
                "platelets 20-24 °C; 1 h in 24 h (unverified)"),
    ),
}  # fmt: skip

# An open excursion record is re-sent at most this often (event time), so the
# store sees its peak, minutes and MKT grow without a message per reading.
EXCURSION_UPDATE_EVERY = timedelta(minutes=15)

# The door of a cold-chain unit open at least its door delay while the
# temperature is out of range: the alarm that says "close the door".
DOOR_AND_TEMPERATURE_SOURCE = "Vigil combination: door left open (profile delay) and temperature out of range"

# ---------------------------------------------------------------- medical gas

# Pressure falling faster than this share of nominal per minute is a sudden
# drop (a shut zone valve, a broken pipe): the NFPA 99 ±20% area band crossed
# within a minute. Normal demand dips and cylinder changeovers stay under 15%.
GAS_DROP_SHARE_PER_MINUTE = 0.20
GAS_DROP_WINDOW = timedelta(minutes=1)
GAS_DROP_SOURCE = "Vigil default: the NFPA 99 ±20% area band crossed within 1 min"

# ---------------------------------------------------------------- water


NIGHT_START_HOUR = 0  # local time of the site
NIGHT_END_HOUR = 5
# A night is judged only when readings cover most of it.
NIGHT_MIN_COVERAGE = timedelta(hours=4)
NIGHT_FLOW_SOURCE = "utility leak-detection practice: night flow that never reaches zero"

# ---------------------------------------------------------------- meters

COUNTER_STALLED_AFTER = timedelta(minutes=30)
COUNTER_STALLED_SOURCE = "Vigil default: register unchanged 30 min while the rate is above zero"
COUNTER_RATE_OF: dict[SensorKind, tuple[str, str]] = {
    SensorKind.ELECTRICITY_METER: ("energy", "power"),
    SensorKind.WATER_METER: ("volume", "flow"),
}

# ---------------------------------------------------------------- UV lamps

UV_WARM_UP = timedelta(minutes=5)  # WS/T 367-2012: measure after 5 min warm-up
UV_REPLACE_WORK_ORDER = "replace_uv_lamp"
LEAK_WORK_ORDER = "inspect_leak"  # night flow that never stops, or a burst
FRIDGE_SERVICE_WORK_ORDER = "service_fridge"  # a cold-chain unit out of its band
UV_PLANNED_WORK_ORDER = "planned_uv_lamp_replacement"
UV_PREDICT_HORIZON = timedelta(days=30)  # order a lamp when the crossing is this close
UV_PREDICT_CLEAR_HORIZON = timedelta(days=45)  # hysteresis: the prediction jitters
UV_FIT_WINDOW = timedelta(days=90)  # one point per lamp cycle
UV_FIT_MIN_POINTS = 10
UV_FIT_MIN_SPAN = timedelta(days=7)
# A cycle mean this far (share) from the previous one is a new lamp, a
# cleaned sensor or a failure, not ageing: the trend starts again.
UV_TREND_BREAK = 0.15
UV_CYCLE_GAP = timedelta(minutes=10)  # readings further apart belong to another cycle
UV_PREDICT_SOURCE = "WS/T 367-2012 in use >= 70 μW/cm²; linear trend of warmed-up intensity"

SEVERITY_ORDER = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
