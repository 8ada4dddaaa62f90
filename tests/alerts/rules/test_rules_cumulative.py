"""Cumulative and product-exposure rules: WHO PQS vaccine indicators, blood
products' time outside their storage range, a sliding window."""

from __future__ import annotations

from collections.abc import Callable

from alerts.model import AlertState, RuleKind
from tests.alerts.rules.rules_kit import DAY, HOUR, MIN, START_NS, engine_for, feed, states, transitions
from vigil.contract import Reading
from vigil.registry import Registry

VACCINE = "vac-fridge-1-temp"
WHO_10C = f"{VACCINE}/temperature/cumulative/who-10c-20h"
WHO_FREEZE = f"{VACCINE}/temperature/threshold/who-freeze-1h"
RED_CELLS = "bb-fridge-1-temp"
RED_CELLS_RULE = f"{RED_CELLS}/temperature/cumulative/outside-2-6c-30min"


def profile(sensor: str, minutes: int, value_at: Callable[[int], float], step_min: int = 10) -> list[Reading]:
    """A reading every `step_min` minutes for `minutes`, valued by minute."""
    return [Reading(sensor, "temperature", value_at(m), START_NS + m * MIN) for m in range(0, minutes, step_min)]


def warm_afternoons(hours_a_day: float) -> Callable[[int], float]:
    """11 °C for the first `hours_a_day` of every day, 5 °C otherwise."""
    return lambda m: 11.0 if m % (24 * 60) < hours_a_day * 60 else 5.0


def test_vaccines_20_hours_at_or_above_10c_in_total_fire_the_who_rule(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, profile(VACCINE, 4 * 24 * 60, warm_afternoons(5.5)))
    (fired,) = transitions(said, WHO_10C, AlertState.FIRING)
    # 5.5 h on each of three days, then the fourth day's 3.5 h make 20 h.
    assert fired.at_ns == START_NS + 3 * DAY + int(3.5 * HOUR)
    assert fired.rule_kind is RuleKind.CUMULATIVE
    assert fired.limit == "at or above 10.0 °C for 20 h in total within 30 days"
    assert fired.details["total_s"] == 20 * 3600
    assert "WHO PQS E006" in fired.summary


def test_vaccines_19_hours_in_total_do_not_fire_the_who_rule(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, profile(VACCINE, 4 * 24 * 60, warm_afternoons(4.75)))
    assert not transitions(said, WHO_10C)


def test_time_out_of_range_slides_out_of_the_window(small: Registry) -> None:
    # Red cells: 30 min outside 2-6 °C in any 24 h. 20 min now, 15 min later.
    def twice(gap_min: int) -> Callable[[int], float]:
        return lambda m: 7.0 if m < 20 or gap_min <= m < gap_min + 15 else 4.0

    within = feed(engine_for(small), profile(RED_CELLS, 25 * 60, twice(23 * 60), step_min=5))
    fired, resolved = transitions(within, RED_CELLS_RULE)
    assert fired.state is AlertState.FIRING and fired.at_ns == START_NS + (23 * 60 + 10) * MIN  # 20 + 10 min = 30
    # From 24 h 10 min the window holds only 25 of those minutes: resolved after the 5 min hold.
    assert resolved.state is AlertState.RESOLVED and resolved.at_ns == START_NS + (24 * 60 + 15) * MIN
    after = feed(engine_for(small), profile(RED_CELLS, 27 * 60, twice(25 * 60), step_min=5))
    assert states(after, RED_CELLS_RULE) == []  # the first 20 min left the 24 h window first


def test_freezing_for_an_hour_fires_the_who_freeze_rule(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, profile(VACCINE, 90, lambda m: -0.6 if m >= 5 else 3.0, step_min=1))
    (fired,) = transitions(said, WHO_FREEZE, AlertState.FIRING)
    assert fired.at_ns == START_NS + 65 * MIN and fired.limit == "<= -0.5 °C for 1 h"


def test_freezing_must_last_an_unbroken_hour_for_the_who_freeze_rule(small: Registry) -> None:
    engine = engine_for(small)
    broken = feed(engine, profile(VACCINE, 90, lambda m: 0.5 if 40 <= m < 45 else -0.6, step_min=1))
    assert not transitions(broken, WHO_FREEZE, AlertState.FIRING)


def test_replacing_the_stock_counts_exposure_from_zero(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, profile(VACCINE, 4 * 24 * 60, warm_afternoons(5.5)))
    assert engine.active_alerts()[WHO_10C] is AlertState.FIRING
    (resolved,) = engine.reset_product(VACCINE, START_NS + 4 * DAY)
    assert (resolved.rule_id, resolved.state) == (WHO_10C, AlertState.RESOLVED)
    assert "counted again from zero" in resolved.summary
    assert WHO_10C not in engine.active_alerts()
