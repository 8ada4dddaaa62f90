"""Restart safety: everything is in the database. A new AlertStore on the
same database keeps open alerts open, continues escalation where it was, and
notifies nobody twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from alerts.model import AlertState, ExcursionEvent
from alerts.notify import Dispatcher
from alerts.store import AlertStore
from alerts.store.schema import KeyValueRow
from tests.alerts.conftest import StoreFactory
from tests.alerts.store.store_kit import T0, FakeClock, RecordingNotifier, recipients, transition


def _dispatcher(store: AlertStore, sent: list[tuple[str, str]]) -> Dispatcher:
    names = ["wang-mail", "zhang-mail", "chen-mail", "ops-hook"]
    return Dispatcher(store, {n: RecordingNotifier(n, sent) for n in names})


def test_a_restart_mid_escalation_continues_without_notifying_anyone_twice(make_store: StoreFactory, clock: FakeClock) -> None:
    sent: list[tuple[str, str]] = []
    before: AlertStore = make_store()
    _dispatcher(before, sent).deliver(before.apply(transition(), clock()), clock())
    _dispatcher(before, sent).deliver(before.process_due(clock.advance(minutes=5)), clock())
    before.close()  # the service stops at t0+5, tier 2 due at t0+15

    after: AlertStore = make_store()
    dispatcher = _dispatcher(after, sent)
    # The rules engine, restored from its snapshot, says the alert still fires.
    dispatcher.deliver(after.apply(transition(), clock.advance(minutes=1)), clock())
    dispatcher.deliver(after.process_due(clock.advance(minutes=1)), clock())
    dispatcher.deliver_due(clock())
    assert [who for who, _ in sent] == ["wang-mail"]

    dispatcher.deliver(after.process_due(clock.set(T0 + timedelta(minutes=15))), clock())
    assert [who for who, _ in sent] == ["wang-mail", "chen-mail"]
    (alert,) = after.list_alerts()
    assert alert.state is AlertState.FIRING and alert.episode == 1


def test_open_alerts_and_acknowledgements_survive_a_restart(make_store: StoreFactory, clock: FakeClock) -> None:
    before: AlertStore = make_store()
    before.apply(transition("vac-fridge-1-temp"), clock())
    before.apply(transition("bb-fridge-1-temp"), clock())
    (acked,) = before.list_alerts(sensor="bb-fridge-1-temp")
    before.acknowledge(acked.id, "Zhang Wei", "moving blood units")
    before.close()

    after: AlertStore = make_store()
    states = {a.sensor: a.state for a in after.list_alerts(open_only=True)}
    assert states == {"vac-fridge-1-temp": AlertState.FIRING, "bb-fridge-1-temp": AlertState.ACKNOWLEDGED}
    assert after.process_due(clock.advance(minutes=15)) != []  # the unacknowledged one still escalates
    assert {n.alert_id for n in after.process_due(clock.advance(hours=2))} <= {after.list_alerts(sensor="vac-fridge-1-temp")[0].id}


def test_notifications_recorded_before_a_crash_are_sent_once_after_it(make_store: StoreFactory, clock: FakeClock) -> None:
    before: AlertStore = make_store()
    assert recipients(before.apply(transition(), clock())) == ["wang-mail"]
    before.close()  # crashed before the dispatcher ran

    sent: list[tuple[str, str]] = []
    after: AlertStore = make_store()
    dispatcher = _dispatcher(after, sent)
    dispatcher.deliver_due(clock.advance(seconds=5))
    dispatcher.deliver_due(clock.advance(seconds=5))
    assert [who for who, _ in sent] == ["wang-mail"]


def test_a_send_interrupted_by_a_crash_is_retried(make_store: StoreFactory, clock: FakeClock) -> None:
    before: AlertStore = make_store()
    (intent,) = before.apply(transition(), clock())
    assert before.claim_notification(intent.id, "test", clock()) is not None  # recorded before the send...
    before.close()  # ...and the process died during it

    sent: list[tuple[str, str]] = []
    after: AlertStore = make_store()
    _dispatcher(after, sent).deliver_due(clock.advance(minutes=1))
    assert sent == []  # it may still be in flight elsewhere
    _dispatcher(after, sent).deliver_due(clock.advance(minutes=5))
    assert [who for who, _ in sent] == ["wang-mail"]
    attempts = after.delivery_attempts(intent.id)
    assert [(a.attempt, a.ok) for a in attempts] == [(1, False), (2, True)]
    assert attempts[0].error is not None and "interrupted" in attempts[0].error


def _snapshot(**sections: dict[str, object]) -> dict[str, object]:
    return {"format": "vigil.alerts.rules/1", "taken_ns": 1_700_000_000_000_000_000, "stats": {"observed": 3},
            "unicode": "°C μW/cm²", "sensors": {}, "evaluators": {}, **sections}


def test_the_rules_engine_snapshot_round_trips(store: AlertStore) -> None:
    assert store.load_engine_state() is None
    snapshot = _snapshot(sensors={"vac-fridge-1-temp": {"last_ts": 5, "series": {"temperature": 5}}},
                         evaluators={"vac-fridge-1-temp/temperature/threshold": {"alarm": [1, 5, 5, 5, None]}})
    store.save_engine_state(snapshot)
    assert store.load_engine_state() == snapshot


def test_changes_are_laid_over_the_saved_snapshot_and_a_complete_one_replaces_it(store: AlertStore) -> None:
    rule_a, rule_b = "fridge-a/temperature/threshold", "fridge-b/temperature/threshold"
    store.save_engine_state({**_snapshot(sensors={"fridge-a": {"last_ts": 1, "series": {}}, "fridge-b": {"last_ts": 1, "series": {}}},
                                         evaluators={rule_a: {"alarm": [0, 0, 0, 0, None]}, rule_b: {"alarm": [0, 0, 0, 0, None]}}),
                             "complete": True})
    # Only fridge-b changed: its parts are rewritten, fridge-a's kept.
    store.save_engine_state({**_snapshot(sensors={"fridge-b": {"last_ts": 9, "series": {}}},
                                         evaluators={rule_b: {"alarm": [2, 9, 9, 9, None]}}, stats={"observed": 4}),
                             "complete": False})
    loaded = store.load_engine_state()
    assert loaded is not None
    assert loaded["sensors"] == {"fridge-a": {"last_ts": 1, "series": {}}, "fridge-b": {"last_ts": 9, "series": {}}}
    assert loaded["evaluators"] == {rule_a: {"alarm": [0, 0, 0, 0, None]}, rule_b: {"alarm": [2, 9, 9, 9, None]}}
    assert loaded["stats"] == {"observed": 4}
    # A complete snapshot (after a restart with fridge-a taken out of the registry) drops what it lacks.
    store.save_engine_state({**_snapshot(sensors={"fridge-b": {"last_ts": 10, "series": {}}},
                                         evaluators={rule_b: {"alarm": [2, 9, 9, 10, None]}}), "complete": True})
    loaded = store.load_engine_state()
    assert loaded is not None
    assert set(loaded["sensors"]) == {"fridge-b"} and set(loaded["evaluators"]) == {rule_b}


def test_a_whole_snapshot_saved_before_the_parts_is_read_and_then_replaced(store: AlertStore) -> None:
    legacy = _snapshot(evaluators={"fridge-a/temperature/threshold": {"alarm": [2, 1, 1, 1, None]}})
    with store.engine.begin() as conn:  # what a store before migration 0002 wrote
        conn.execute(KeyValueRow.__table__.insert().values(key="rules_engine", value=legacy, updated_at=T0))
    assert store.load_engine_state() == legacy
    store.save_engine_state(_snapshot(sensors={"fridge-a": {"last_ts": 2, "series": {}}}))
    with store.engine.connect() as conn:
        assert conn.execute(select(KeyValueRow.key)).all() == []


def test_a_complete_snapshot_saved_in_slices_is_pruned_of_retired_groups_at_its_end(store: AlertStore) -> None:
    rule_a, rule_b = "fridge-a/temperature/threshold", "fridge-b/temperature/threshold"
    legacy = _snapshot(evaluators={rule_a: {"alarm": [2, 1, 1, 1, None]}, rule_b: {"alarm": [1, 1, 1, 1, None]}})
    with store.engine.begin() as conn:
        conn.execute(KeyValueRow.__table__.insert().values(key="rules_engine", value=legacy, updated_at=T0))
    # A crash after the first slice: the rows laid over the legacy snapshot, group by group.
    store.save_engine_state({**_snapshot(sensors={"fridge-b": {"last_ts": 7, "series": {}}},
                                         evaluators={rule_b: {"alarm": [0, 0, 0, 0, None]}}), "complete": False})
    loaded = store.load_engine_state()
    assert loaded is not None
    assert loaded["evaluators"] == {rule_a: {"alarm": [2, 1, 1, 1, None]}, rule_b: {"alarm": [0, 0, 0, 0, None]}}
    assert loaded["sensors"] == {"fridge-b": {"last_ts": 7, "series": {}}}
    # The round ends (fridge-a no longer configured): only fridge-b's group is kept, and the legacy snapshot goes.
    store.save_engine_state({**_snapshot(sensors={"fridge-c": {"last_ts": 8, "series": {}}}), "complete": False})
    store.prune_engine_state({"fridge-b", "fridge-c"})
    loaded = store.load_engine_state()
    assert loaded is not None
    assert set(loaded["sensors"]) == {"fridge-b", "fridge-c"} and set(loaded["evaluators"]) == {rule_b}
    with store.engine.connect() as conn:
        assert conn.execute(select(KeyValueRow.key)).all() == []
    store.prune_engine_state({"fridge-c"})
    loaded = store.load_engine_state()
    assert loaded is not None and set(loaded["sensors"]) == {"fridge-c"} and loaded["evaluators"] == {}


def test_excursions_are_records_of_their_own(store: AlertStore) -> None:
    start = int(T0.timestamp() * 1e9)
    open_event = ExcursionEvent(sensor="vac-fridge-1-temp", asset="vac-fridge-1", product="vaccine", started_ns=start,
                                ended_ns=None, peak=9.1, minutes_out_of_range=12.0, mean_kinetic_temperature=8.7,
                                low=2.0, high=8.0)
    store.record_excursion(open_event)
    closed = store.record_excursion(replace(open_event, ended_ns=start + 40 * 60 * 10**9, peak=10.2,
                                            minutes_out_of_range=40.0))
    (only,) = store.list_excursions(sensor="vac-fridge-1-temp")
    assert only.id == closed.id and only.peak == 10.2 and only.ended_at == T0 + timedelta(minutes=40)
    signed = store.set_excursion_disposition(only.id, "usable", "Pharmacist Liu", "stability data allow 40 min at 10 °C")
    assert (signed.disposition, signed.disposition_by) == ("usable", "Pharmacist Liu")
