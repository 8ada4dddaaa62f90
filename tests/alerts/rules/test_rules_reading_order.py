"""Readings out of order, late, duplicated or malformed: judged correctly
where possible, counted and ignored where not, never a crash."""

from __future__ import annotations

import random

from alerts.model import AlertState
from simulators import Simulation
from tests.alerts.rules.rules_kit import HOUR, MIN, START_NS, engine_for, feed, firing, readings, states, transitions
from vigil.contract import Reading
from vigil.registry import Registry

FRIDGE = "vac-fridge-1-temp"
RULE = f"{FRIDGE}/temperature/threshold"


def test_late_and_duplicate_readings_are_counted_and_ignored(small: Registry) -> None:
    engine = engine_for(small)
    warm = readings(FRIDGE, "temperature", [8.0] * 10)
    feed(engine, warm)
    # At-least-once delivery sends a message twice; a straggler arrives out of order.
    again = feed(engine, [*warm[3:6], Reading(FRIDGE, "temperature", 3.0, START_NS + 4 * MIN + 1)])
    assert again == []
    assert engine.stats()["late"] == 4
    said = feed(engine, readings(FRIDGE, "temperature", [8.0] * 6, start_ns=START_NS + 10 * MIN))
    assert states(said, RULE) == [AlertState.FIRING]  # the straggler's 3.0 °C did not reset the delay
    assert transitions(said, RULE)[0].at_ns == START_NS + 15 * MIN


def test_a_backfill_after_a_gateway_outage_is_judged_in_event_time(small: Registry) -> None:
    sim = Simulation(small, seed=3, start_ns=START_NS)
    sim.inject("vaccine-fridge-compressor-failure", asset="vac-fridge-1", at_ns=START_NS + HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 8 * HOUR))
    live = engine_for(small).observe_many(day)
    # The gateway was cut off for hours; its disk backlog arrives in one burst, in order.
    backfilled = engine_for(small)
    gateway_a = [r for r in day if small.sensors[r.sensor].gateway == "gw-a"]
    gateway_b = [r for r in day if small.sensors[r.sensor].gateway == "gw-b"]
    said = backfilled.observe_many(gateway_b) + backfilled.observe_many(gateway_a)
    fired_live = transitions(live, RULE, AlertState.FIRING)
    assert fired_live and transitions(said, RULE, AlertState.FIRING) == fired_live


def test_shuffled_readings_never_crash_the_engine(small: Registry) -> None:
    sim = Simulation(small, seed=4, start_ns=START_NS)
    sim.inject("cold-room-power-loss", asset="bb-fridge-1", at_ns=START_NS + 2 * HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 12 * HOUR))
    random.Random(1).shuffle(day)
    engine = engine_for(small)
    engine.observe_many(day)
    stats = engine.stats()
    assert stats["observed"] == len(day) and stats["late"] > len(day) // 2
    engine.tick(START_NS + 13 * HOUR)
    engine.snapshot()


def test_almost_sorted_readings_still_raise_the_alarm(small: Registry) -> None:
    sim = Simulation(small, seed=4, start_ns=START_NS)
    sim.inject("cold-room-power-loss", asset="bb-fridge-1", at_ns=START_NS + 2 * HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 8 * HOUR))
    rng = random.Random(2)
    for i in range(0, len(day) - 1, 50):  # a pair swapped here and there, as two gateway batches interleave
        j = i + rng.randrange(1, 4)
        if j < len(day):
            day[i], day[j] = day[j], day[i]
    said = engine_for(small).observe_many(day)
    assert "bb-fridge-1-temp/temperature/threshold" in {t.rule_id for t in firing(said)}


def test_unknown_sensors_unwatched_metrics_and_non_finite_values_are_ignored(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, [
        Reading("no-such-sensor", "temperature", 30.0, START_NS),
        Reading("elec-main-m", "power", 400.0, START_NS),  # watched (counter stalled), judged quietly
        Reading(FRIDGE, "temperature", float("nan"), START_NS + MIN),
        Reading(FRIDGE, "temperature", float("inf"), START_NS + 2 * MIN),
        Reading(FRIDGE, "door_open", True, START_NS + 3 * MIN),  # not a metric this sensor reports
    ])  # fmt: skip
    assert said == []
    stats = engine.stats()
    assert (stats["unknown_sensor"], stats["not_finite"], stats["unwatched_metric"]) == (1, 2, 1)
