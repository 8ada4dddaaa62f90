"""The streaming rules engine of the alerts service: pure logic, no I/O.

    engine = RulesEngine(registry)                  # rules from build_rules(registry)
    for item in engine.observe(reading):            # Transition | ExcursionEvent
        ...
    engine.observe_status("gw-a", online=False, ts_ns=...)
    engine.tick(now_ns)                              # no data, gateway offline (wall clock)
    state = engine.snapshot()                        # JSON; RulesEngine.restore(registry, state)

See README.md in this folder for the rule list, the numbers and their
sources, and the flap-damping, late-reading and restart policies.
"""

from alerts.rules.book import build_rules, with_resolve_hold
from alerts.rules.defaults import RESOLVE_HOLD
from alerts.rules.engine import SNAPSHOT_FORMAT, RulesEngine, state_group
from alerts.rules.mkt import mean_kinetic_temperature
from alerts.rules.spec import (
    CounterStalledParams,
    CumulativeParams,
    DoorAndTemperatureParams,
    ExcursionSpec,
    GatewayOfflineParams,
    LampGate,
    NightFlowParams,
    NoDataParams,
    PredictedCrossingParams,
    RateOfChangeParams,
    RuleBook,
    RuleParams,
    RuleSpec,
    StuckParams,
    ThresholdParams,
)

__all__ = [
    "RESOLVE_HOLD", "SNAPSHOT_FORMAT", "CounterStalledParams", "CumulativeParams", "DoorAndTemperatureParams",
    "ExcursionSpec", "GatewayOfflineParams", "LampGate", "NightFlowParams", "NoDataParams", "PredictedCrossingParams",
    "RateOfChangeParams", "RuleBook", "RuleParams", "RuleSpec", "RulesEngine", "StuckParams", "ThresholdParams",
    "build_rules", "mean_kinetic_temperature", "state_group", "with_resolve_hold",
]  # fmt: skip
