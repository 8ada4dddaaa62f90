"""Preventive maintenance: each plan opens routine work orders for the right
assets or rooms; the APScheduler jobs are registered under explicit ids in
the persistent job store, survive a restart without duplicates, and run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from alerts.preventive import PLANS, PreventiveScheduler, job_id, plan_orders, run_plan
from alerts.store import AlertStore, open_store
from alerts.store.db import normalise_url
from alerts.workorders import Priority
from tests.alerts.store.store_kit import CONSOLE, FakeClock, oncall_config
from vigil.registry import Registry

PLAN = {p.id: p for p in PLANS}


def _subjects(store: AlertStore) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for order in store.list_work_orders():
        found.setdefault(order.problem, []).append(order.asset or order.room or "?")
    return {k: sorted(v) for k, v in found.items()}


def test_the_quarterly_uv_plan_orders_one_test_per_room_with_uv_lamps(store: AlertStore, clock: FakeClock) -> None:
    orders = run_plan(store, PLAN["uv-intensity-quarterly"], "north", clock())
    assert sorted(o.room or "" for o in orders) == ["or-1", "ward-2"]
    operating_room = next(o for o in orders if o.room == "or-1")
    assert operating_room.asset is None and operating_room.details["assets"] == ["uv-or-1", "uv-or-1b"]
    assert operating_room.priority is Priority.ROUTINE and operating_room.response_due - operating_room.opened_at == timedelta(hours=24)
    assert "70 μW/cm²" in (operating_room.description or "") and operating_room.source == "preventive:uv-intensity-quarterly"


def test_the_monthly_uv_plan_covers_only_the_key_departments(facility: Registry) -> None:
    from alerts.store.places import Places

    planned = plan_orders(PLAN["uv-intensity-monthly-key-departments"], Places(facility), "north")
    assert [p.place.room for p in planned] == ["or-1"]  # surgery, not the internal-medicine ward


def test_the_monthly_and_annual_plans_order_work_for_the_right_assets(store: AlertStore, clock: FakeClock) -> None:
    for plan in ("cold-chain-monthly", "medical-gas-alarm-annual", "generator-monthly"):
        run_plan(store, PLAN[plan], "north", clock())
    assert _subjects(store) == {
        "cold_chain_check": ["bb-fridge-1", "vac-fridge-1"],
        "medical_gas_alarm_test": ["o2-zone-b1"],
        "generator_test": ["elec-annex", "elec-main"],
    }
    assert {o.priority for o in store.list_work_orders()} == {Priority.ROUTINE}


def test_running_a_plan_again_while_its_orders_are_open_does_not_duplicate_them(store: AlertStore, clock: FakeClock) -> None:
    first = run_plan(store, PLAN["cold-chain-monthly"], "north", clock())
    again = run_plan(store, PLAN["cold-chain-monthly"], "north", clock.advance(days=31))
    assert [o.id for o in again] == [o.id for o in first]
    assert len(store.list_work_orders()) == 2


def test_preventive_orders_notify_the_maintenance_team(store: AlertStore, clock: FakeClock) -> None:
    run_plan(store, PLAN["generator-monthly"], "north", clock())
    pending = store.due_notifications(clock())
    assert {(n.kind, n.recipient) for n in pending} == {("work_order_opened", "wang-mail")}
    assert len(pending) == 2 and "generator test" in pending[0].title


@pytest.fixture
def scheduler_db(store_url: str, facility: Registry, clock: FakeClock) -> Iterator[tuple[str, AlertStore]]:
    store = open_store(store_url, registry=facility, oncall=oncall_config(), clock=clock, console_url=CONSOLE)
    yield store_url, store
    store.close()


def _stored_job_ids(url: str) -> list[str]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return sorted(row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs")))
    finally:
        engine.dispose()


def test_the_scheduler_registers_its_jobs_with_explicit_ids_in_the_persistent_store(
        scheduler_db: tuple[str, AlertStore]) -> None:
    url, store = scheduler_db
    expected = sorted(f"vigil.preventive.{plan.id}.north" for plan in PLANS)
    first = PreventiveScheduler(store, url)
    assert sorted(first.start(paused=True)) == expected
    runs = first.next_runs()
    quarterly = runs["vigil.preventive.uv-intensity-quarterly.north"]
    assert quarterly is not None and quarterly.month in (1, 4, 7, 10) and quarterly.day == 1
    assert quarterly.astimezone(UTC).hour == 0  # 08:00 in Shanghai
    first.shutdown()
    assert _stored_job_ids(url) == expected

    second = PreventiveScheduler(store, url)  # a restart: replaced, not duplicated
    second.start(paused=True)
    second.shutdown()
    assert _stored_job_ids(url) == expected


def test_a_scheduled_plan_runs_and_opens_its_orders(scheduler_db: tuple[str, AlertStore]) -> None:
    url, store = scheduler_db
    scheduler = PreventiveScheduler(store, url)
    try:
        scheduler.start(paused=True)
        assert job_id(PLAN["generator-monthly"], "north") in scheduler.next_runs()
        scheduler.run_soon("generator-monthly", "north", datetime.now(UTC) + timedelta(milliseconds=50))
        scheduler.resume()
        deadline = time.monotonic() + 10
        while not store.list_work_orders(problem="generator_test") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert sorted(o.asset or "" for o in store.list_work_orders(problem="generator_test")) == ["elec-annex", "elec-main"]
