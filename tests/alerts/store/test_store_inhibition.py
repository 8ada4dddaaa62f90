"""Inhibition by topology: a building's power outage explains the cold-chain,
medical-gas and water alarms in that building. One incident, not forty pages."""

from __future__ import annotations

from datetime import timedelta

from alerts.model import AlertState, Transition
from alerts.store import Alert, AlertStore
from tests.alerts.store.store_kit import FakeClock, recipients, transition

FIRING, RESOLVED = AlertState.FIRING, AlertState.RESOLVED


def _outage(building: str = "main", state: AlertState = FIRING) -> Transition:
    sensor = "elec-main-m" if building == "main" else "elec-annex-m"
    return transition(sensor, state, value=0.0, limit="< 198 V for 10 s", summary=f"Power outage: {building} incomer at 0 V")


def _alert(store: AlertStore, sensor: str) -> Alert:
    (alert,) = store.list_alerts(sensor=sensor)
    return alert


def test_an_outage_links_and_silences_the_fridge_in_its_building_but_not_in_another(store: AlertStore, clock: FakeClock) -> None:
    outage_pages = store.apply(_outage("main"), clock())
    same_building = store.apply(transition("vac-fridge-1-temp"), clock.advance(minutes=20))
    other_building = store.apply(transition("bb-fridge-1-temp"), clock())

    outage = _alert(store, "elec-main-m")
    fridge = _alert(store, "vac-fridge-1-temp")
    assert recipients(outage_pages) == ["wang-mail"]
    assert same_building == [] and fridge.caused_by == outage.id
    assert fridge.suppressed_by is not None and f"alert {outage.id}" in fridge.suppressed_by
    assert recipients(other_building) == ["wang-mail"] and _alert(store, "bb-fridge-1-temp").caused_by is None
    assert any(e.action == "linked" for e in store.alert_events(fridge.id))


def test_gas_and_water_alarms_in_the_building_are_held_as_well(store: AlertStore, clock: FakeClock) -> None:
    store.apply(_outage("main"), clock())
    assert store.apply(transition("o2-b1-p", value=250.0), clock.advance(minutes=1)) == []
    assert store.apply(transition("water-main-m", value=0.0), clock()) == []
    assert store.apply(transition("uv-or-1-s", value=0.0), clock()) != []  # UV lamps are not power-dependent plant here


def test_when_the_outage_resolves_the_dependents_still_firing_are_notified(store: AlertStore, clock: FakeClock) -> None:
    store.apply(_outage("main"), clock())
    store.apply(transition("vac-fridge-1-temp"), clock.advance(minutes=20))
    store.apply(transition("o2-b1-p", value=250.0), clock())
    store.apply(transition("o2-b1-p", RESOLVED), clock.advance(minutes=5))  # gas recovered during the outage

    released = store.apply(_outage("main", RESOLVED), clock.advance(minutes=10))
    paged_alerts = {n.alert_id for n in released}
    assert paged_alerts == {_alert(store, "vac-fridge-1-temp").id}  # the gas alarm that cleared is never paged
    assert "probably alert" in released[0].body.lower()  # the message names the cause


def test_an_outage_after_a_dependent_was_paged_holds_its_escalation(store: AlertStore, clock: FakeClock) -> None:
    store.apply(transition("vac-fridge-1-temp"), clock())
    store.apply(_outage("main"), clock.advance(minutes=5))
    fridge = _alert(store, "vac-fridge-1-temp")
    assert fridge.caused_by == _alert(store, "elec-main-m").id

    due = store.process_due(clock.advance(minutes=10))  # the fridge's tier 2 would be due now
    assert all(n.alert_id != fridge.id for n in due)
    escalation = store.escalation(fridge.id)
    assert escalation is not None and escalation.held


def test_acknowledging_the_outage_keeps_its_dependents_held(store: AlertStore, clock: FakeClock) -> None:
    store.apply(_outage("main"), clock())
    store.acknowledge(_alert(store, "elec-main-m").id, "Chen Jing", "generator starting", now=clock.advance(minutes=1))
    assert store.apply(transition("vac-fridge-1-temp"), clock.advance(minutes=1)) == []
    assert store.process_due(clock.advance(minutes=30)) == []


def test_the_outage_alert_escalates_on_its_own(store: AlertStore, clock: FakeClock) -> None:
    store.apply(_outage("main"), clock())
    store.apply(transition("vac-fridge-1-temp"), clock())
    later = store.process_due(clock.advance(minutes=15))
    assert [(n.alert_id, n.recipient) for n in later] == [(_alert(store, "elec-main-m").id, "chen-mail")]
    assert timedelta(minutes=15) == clock() - store.get_alert(_alert(store, "elec-main-m").id).opened_at
