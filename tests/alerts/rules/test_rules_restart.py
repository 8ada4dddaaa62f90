"""Restart safety: the whole state survives a snapshot as JSON; durations
continue where they were; nothing already open is emitted again."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from alerts.model import AlertState
from alerts.rules import RulesEngine, state_group
from simulators import Simulation
from tests.alerts.rules.rules_kit import HOUR, MIN, START_NS, Said, engine_for, excursions, feed, readings, states, transitions
from vigil.registry import Registry

FRIDGE = "vac-fridge-1-temp"
RULE = f"{FRIDGE}/temperature/threshold"
DOOR = "vac-fridge-1-door"


def through_json(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a snapshot looks like after being written to disk and read back."""
    loaded: dict[str, Any] = json.loads(json.dumps(snapshot))
    return loaded


def restarted(small: Registry, engine: RulesEngine, now_ns: int = START_NS) -> RulesEngine:
    return RulesEngine.restore(small, through_json(engine.snapshot()), clock=lambda: now_ns)


def test_restart_in_the_middle_of_a_pending_delay_fires_after_the_rest_of_it(small: Registry) -> None:
    engine = engine_for(small)
    said = feed(engine, readings(FRIDGE, "temperature", [5.0] + [8.0] * 11))  # above 7.5 °C for 10 min
    assert states(said, RULE) == [AlertState.PENDING]
    engine = restarted(small, engine, now_ns=START_NS + 3 * HOUR)
    said = feed(engine, readings(FRIDGE, "temperature", [8.0] * 10, start_ns=START_NS + 12 * MIN))
    (fired,) = transitions(said, RULE)
    assert fired.state is AlertState.FIRING
    assert fired.at_ns == START_NS + 16 * MIN  # 15 min after the condition began at minute 1, not 15 after the restart
    assert fired.since_ns == START_NS + MIN


def test_restart_does_not_emit_firing_alerts_again(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [8.4] * 20))
    assert engine.active_alerts()[RULE] is AlertState.FIRING
    engine = restarted(small, engine)
    assert engine.active_alerts()[RULE] is AlertState.FIRING
    still_warm = feed(engine, readings(FRIDGE, "temperature", [8.4] * 30, start_ns=START_NS + 20 * MIN))
    assert not transitions(still_warm, RULE)
    recovered = feed(engine, readings(FRIDGE, "temperature", [5.0] * 20, start_ns=START_NS + 50 * MIN))
    assert states(recovered, RULE) == [AlertState.RESOLVED]


def test_an_open_excursion_continues_across_a_restart(small: Registry) -> None:
    engine = engine_for(small)
    (opened,) = excursions(feed(engine, readings(FRIDGE, "temperature", [5.0] + [8.0] * 10)))
    engine = restarted(small, engine)
    rest = excursions(feed(engine, readings(FRIDGE, "temperature", [8.0] * 10 + [5.0] * 6, start_ns=START_NS + 11 * MIN)))
    assert [e.started_ns for e in rest] == [opened.started_ns] * 2  # an update and the close: no second opening
    assert rest[-1].ended_ns == START_NS + 21 * MIN and rest[-1].minutes_out_of_range == pytest.approx(20.0)


def test_a_day_replayed_with_restarts_says_exactly_what_an_uninterrupted_run_says(small: Registry) -> None:
    sim = Simulation(small, seed=5, start_ns=START_NS)
    sim.inject("vaccine-fridge-compressor-failure", asset="vac-fridge-1", at_ns=START_NS + 6 * HOUR)
    sim.inject("water-burst", asset="water-main", at_ns=START_NS + 9 * HOUR)
    sim.clear("water-burst", asset="water-main", at_ns=START_NS + 10 * HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 24 * HOUR))

    uninterrupted = engine_for(small).observe_many(day)
    engine = engine_for(small)
    with_restarts: list[Said] = []
    for i, reading in enumerate(day):
        if i % 20_000 == 19_999:
            engine = restarted(small, engine)
        with_restarts.extend(engine.observe(reading))
    assert with_restarts == uninterrupted
    assert {t.rule_id for t in transitions(uninterrupted, state=AlertState.FIRING)} >= {RULE, "water-main-m/flow/threshold"}


def test_no_data_waits_for_a_grace_period_after_a_restart(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [5.0] * 5))
    # The service was down for two hours; the broker's backlog has not drained yet.
    back_at = START_NS + 2 * HOUR
    engine = restarted(small, engine, now_ns=back_at)
    assert not [t for t in engine.tick(back_at + MIN) if t.sensor == FRIDGE]
    (stale,) = [t for t in engine.tick(back_at + 6 * MIN) if t.sensor == FRIDGE]
    assert stale.state is AlertState.FIRING and stale.since_ns == START_NS + 4 * MIN


def test_a_snapshot_of_another_format_is_refused(small: Registry) -> None:
    with pytest.raises(ValueError, match="not a rules engine snapshot"):
        RulesEngine.restore(small, {"format": "something-else/9"})


def test_state_of_rules_no_longer_in_the_book_is_dropped_and_listed(small: Registry) -> None:
    engine = engine_for(small)
    feed(engine, readings(FRIDGE, "temperature", [8.4] * 20))
    snapshot = through_json(engine.snapshot())
    snapshot["evaluators"]["retired-sensor/temperature/threshold"] = {"alarm": [2, 0, 0, 0, None]}
    snapshot["evaluators"][RULE] = {"alarm": "garbled"}
    engine = RulesEngine.restore(small, snapshot, clock=lambda: START_NS)
    assert sorted(engine.dropped_on_restore) == ["retired-sensor/temperature/threshold", RULE]
    assert RULE not in engine.active_alerts()  # a state that cannot be read starts afresh


def _lay(saved: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """What the store does with a checkpoint: changes laid over what it holds."""
    if changes["complete"]:
        return through_json(changes)
    laid = {**saved, **{k: v for k, v in changes.items() if k not in ("sensors", "evaluators")}}
    for section in ("sensors", "evaluators"):
        laid[section] = {**saved[section], **through_json(changes[section])}
    return laid


def _holds_whole_groups(changes: dict[str, Any], whole: dict[str, Any]) -> bool:
    """Each state group in `changes` comes with every evaluator of the group:
    the store rewrites a group's row from it alone."""
    groups = {state_group(k) for k in changes["evaluators"]} | set(changes["sensors"])
    return all({k for k in changes["evaluators"] if state_group(k) == g} == {k for k in whole["evaluators"] if state_group(k) == g}
               for g in groups)


def _state(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in through_json(snapshot).items() if k not in ("taken_ns", "complete")}


def test_checkpoints_of_the_changes_alone_add_up_to_the_whole_snapshot(small: Registry) -> None:
    sim = Simulation(small, seed=11, start_ns=START_NS)
    sim.inject("vaccine-fridge-compressor-failure", asset="vac-fridge-1", at_ns=START_NS + 2 * HOUR)
    sim.inject("water-burst", asset="water-main", at_ns=START_NS + 3 * HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 8 * HOUR))
    gateway = sorted(small.gateways)[0]
    silent = "bb-fridge-1-temp"  # stops reporting after hour 5: no-data goes pending, then firing
    engine = engine_for(small)
    first = engine.take_changes()
    assert first["complete"] and first["sensors"].keys() == engine.snapshot()["sensors"].keys()
    saved = _lay({}, first)
    for i, reading in enumerate(day):
        if reading.sensor == silent and reading.ts_ns > START_NS + 5 * HOUR:
            continue
        engine.observe(reading)
        if i % 500 == 0:
            engine.tick(reading.ts_ns)
        if i == 30_000:
            engine.observe_status(gateway, False, reading.ts_ns)
        if i == 40_000:
            engine.observe_status(gateway, True, reading.ts_ns)
        if i % 2_000 == 0:
            changes = engine.take_changes()
            assert not changes["complete"] and _holds_whole_groups(changes, engine.snapshot())
            saved = _lay(saved, changes)
            assert _state(saved) == _state(engine.snapshot())
    assert engine.active_alerts()  # the faults and the silence did raise alerts along the way
    saved = _lay(saved, engine.take_changes())
    assert _state(saved) == _state(engine.snapshot())
    # Changes that come without a reading: a status, a product reset.
    end = day[-1].ts_ns
    assert saved["evaluators"][f"{FRIDGE}/temperature/cumulative/who-10c-20h"]["total"] > 0  # what the reset clears
    engine.observe_status(gateway, False, end)
    engine.reset_product(FRIDGE, end)
    changes = engine.take_changes()
    # The fridge comes with its door: the door-and-temperature rule reads both, so they are saved together.
    assert set(changes["sensors"]) == {FRIDGE, DOOR} and {state_group(k) for k in changes["evaluators"]} == {gateway, FRIDGE, DOOR}
    assert _holds_whole_groups(changes, engine.snapshot())
    saved = _lay(saved, changes)
    assert _state(saved) == _state(engine.snapshot())
    quiet = engine.take_changes()
    assert quiet["sensors"] == {} and quiet["evaluators"] == {}  # nothing happened since the last call
    # A restart from the laid-up parts is a restart from the whole snapshot.
    assert _state(RulesEngine.restore(small, saved, clock=lambda: START_NS).snapshot()) == _state(restarted(small, engine).snapshot())


def test_a_checkpoint_written_in_slices_while_readings_arrive_restarts_like_one_taken_at_once(small: Registry) -> None:
    """The alerts service's rounds: the changed groups are named at once, then
    saved one linked set at a time with readings judged in between. A crash
    after the round: the restored engine, given again every reading from the
    round's start (what the broker redelivers), ends where the engine that
    never stopped is. The round here begins just before the fridge door opens,
    and saves the fridge first: the door and the fridge rule that reads it
    must be saved together, or the redelivered opening is taken for a
    duplicate and the restored fridge never sees its door open."""
    sim = Simulation(small, seed=5, start_ns=START_NS)
    sim.inject("vaccine-fridge-door-left-open", asset="vac-fridge-1", at_ns=START_NS + 2 * HOUR)
    day = list(sim.readings_between(START_NS, START_NS + 4 * HOUR))
    opens = next(i for i, r in enumerate(day) if r.sensor == DOOR and r.value)
    engine = engine_for(small)
    saved = _lay({}, engine.take_changes())
    for reading in day[:opens - 5]:
        engine.observe(reading)
    linked, complete = engine.take_changed()
    assert not complete and (FRIDGE, DOOR) in linked
    linked.sort(key=lambda groups: FRIDGE not in groups)
    redelivered = iter(day[opens - 5:])
    for groups in linked:
        saved = _lay(saved, engine.state_of(groups))
        for reading in itertools.islice(redelivered, 40):  # judged while the round is written
            engine.observe(reading)
    for reading in redelivered:
        engine.observe(reading)
    again = RulesEngine.restore(small, saved, clock=lambda: START_NS)
    for reading in day[opens - 5:]:
        again.observe(reading)
    assert _state(again.snapshot())["evaluators"] == _state(engine.snapshot())["evaluators"]
    assert _state(again.snapshot())["sensors"] == _state(engine.snapshot())["sensors"]
