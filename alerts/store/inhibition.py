"""Inhibition by topology. Pure.

A building's power outage (a firing voltage threshold alert on its
`electricity_main` asset) explains the cold-chain, medical-gas and water
alerts in the same building: those are linked to the outage as their cause
and page nobody while it lasts. One incident, not forty pages. When the
outage resolves, the dependents still firing are notified normally.
"""

from __future__ import annotations

from alerts.model import AlertState, RuleKind
from vigil.kinds import SensorKind

OUTAGE_PROFILES = frozenset({"electricity_main"})
OUTAGE_METRICS = frozenset({"voltage"})
# Plant that stops or drifts when the building loses power.
POWER_DEPENDENT_FAMILIES = frozenset({SensorKind.COLD_CHAIN.value, SensorKind.MEDICAL_GAS.value, SensorKind.WATER_METER.value})
ACTIVE_STATES = frozenset({AlertState.FIRING.value, AlertState.ACKNOWLEDGED.value})


def is_power_outage(*, profile: str | None, rule_kind: str, metric: str | None, state: str) -> bool:
    """An alert that says a building's supply is out (firing or acknowledged)."""
    return (profile in OUTAGE_PROFILES and rule_kind == RuleKind.THRESHOLD.value and metric in OUTAGE_METRICS
            and state in ACTIVE_STATES)


def could_be_power_outage(*, profile: str | None, rule_kind: str, metric: str | None) -> bool:
    """An alert of the outage kind, whatever its state."""
    return profile in OUTAGE_PROFILES and rule_kind == RuleKind.THRESHOLD.value and metric in OUTAGE_METRICS


def depends_on_power(family: str | None) -> bool:
    """Whether alerts of this family are explained by a power outage in their building."""
    return family in POWER_DEPENDENT_FAMILIES
