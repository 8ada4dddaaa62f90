"""Preventive maintenance plans on a calendar: each run opens routine work
orders for the right assets (or rooms).

- quarterly UV lamp intensity tests per ward (every room with UV lamps), and
  monthly in the key departments (operating rooms, delivery, neonatal,
  endoscopy, dialysis, sterile supply);
- monthly cold-chain equipment checks;
- annual medical gas alarm tests;
- monthly generator tests under load (NFPA 110), per building supply.

Scheduling is APScheduler 3: one BackgroundScheduler whose jobs live in a
persistent SQLAlchemyJobStore on the alert store's own database, with
explicit job ids (`vigil.preventive.<plan>.<site>`), so a restart neither
loses nor duplicates a plan, and a run missed while the service was down is
made up once when it starts again (within a week). The planning itself is
pure (`plan_orders`) and `run_plan` can be called directly (tests, CLI).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from alerts.store import AlertStore, Place
from alerts.store.db import normalise_url
from alerts.store.places import Places
from alerts.workorders import Priority, WorkOrder
from vigil.kinds import SensorKind
from vigil.profiles import PROFILES

log = logging.getLogger(__name__)

JOB_PREFIX = "vigil.preventive."
JOBSTORE_TABLE = "apscheduler_jobs"
MISFIRE_GRACE_S = 7 * 24 * 3600  # a run missed while the service was down is made up within a week

# Departments whose UV lamps are inspected monthly (shared/domain.md), matched
# case-insensitively as words or parts of the room's department name.
KEY_DEPARTMENT_WORDS = ("operating", "surgery", "theatre", "delivery", "obstetric", "neonat", "nicu", "endoscop",
                        "dialysis", "sterile", "cssd")


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """A work order a plan asks for."""

    subject: str  # the "one open order per subject and problem" key
    asset: str | None
    place: Place
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Planner = Callable[[Places, str], list[PlannedOrder]]


def _kind_of(profile: str) -> SensorKind | None:
    found = PROFILES.get(profile)
    return found.kind if found else None


def _room_subject(place: Place) -> str:
    # Room ids are unique only within their floor.
    return f"room:{place.building}/{place.floor}/{place.room}"


def _uv_rooms(places: Places, site: str, *, key_only: bool) -> list[PlannedOrder]:
    orders = []
    for room in places.rooms():
        if room.place.site != site:
            continue
        lamps = [a for a in room.assets if a.profile == "uv_lamp"]
        if not lamps:
            continue
        department = (room.place.department or "").lower()
        if key_only and not any(word in department for word in KEY_DEPARTMENT_WORDS):
            continue
        names = ", ".join(f"{a.name} ({a.id})" for a in lamps)
        orders.append(PlannedOrder(
            subject=_room_subject(room.place), asset=None, place=room.place,
            description=(f"Measure each UV lamp at 1 m below its centre after 5 min warm-up (253.7 nm): in use >= 70 μW/cm², "
                         f"new >= 90 μW/cm²; replace lamps below 70. Lamps: {names}"),
            details={"assets": [a.id for a in lamps]},
        ))
    return orders


def plan_uv_quarterly(places: Places, site: str) -> list[PlannedOrder]:
    """One intensity test per room with UV lamps (WS/T 367: quarterly)."""
    return _uv_rooms(places, site, key_only=False)


def plan_uv_key_departments(places: Places, site: str) -> list[PlannedOrder]:
    """Monthly intensity tests in the key departments."""
    return _uv_rooms(places, site, key_only=True)


def _per_asset(places: Places, site: str, kinds: frozenset[SensorKind], profiles: frozenset[str] | None,
               description: str) -> list[PlannedOrder]:
    orders = []
    for room in places.rooms():
        if room.place.site != site:
            continue
        for asset in room.assets:
            if _kind_of(asset.profile) not in kinds or (profiles is not None and asset.profile not in profiles):
                continue
            place = Place.from_json({**room.place.to_json(), "asset": asset.id, "asset_name": asset.name})
            orders.append(PlannedOrder(subject=asset.id, asset=asset.id, place=place, description=description,
                                       details={"profile": asset.profile}))
    return orders


def plan_cold_chain_checks(places: Places, site: str) -> list[PlannedOrder]:
    """Every fridge, freezer and incubator: a monthly check."""
    return _per_asset(places, site, frozenset({SensorKind.COLD_CHAIN}), None,
                      "Check the probe against a reference thermometer, the door seal, the alarm (forced alarm test) "
                      "and the min/max log.")


def plan_medical_gas_alarm_tests(places: Places, site: str) -> list[PlannedOrder]:
    """Every medical gas zone and source: the annual alarm test."""
    return _per_asset(places, site, frozenset({SensorKind.MEDICAL_GAS}), None,
                      "Test the pressure alarms (high, low, sensor-circuit break) and their latching, per NFPA 99 / GB 50751.")


def plan_generator_tests(places: Places, site: str) -> list[PlannedOrder]:
    """Each building supply: the monthly generator test."""
    return _per_asset(places, site, frozenset({SensorKind.ELECTRICITY_METER}), frozenset({"electricity_main"}),
                      "Run the emergency generator under load for at least 30 minutes; confirm transfer within 10 s (NFPA 110).")


@dataclass(frozen=True, slots=True)
class PreventivePlan:
    id: str
    problem: str  # work-order problem code (alerts.workorders.PROBLEMS)
    title: str
    planner: Planner
    cron: dict[str, str | int]  # APScheduler CronTrigger fields, in the site's time zone


PLANS: tuple[PreventivePlan, ...] = (
    PreventivePlan("uv-intensity-quarterly", "uv_intensity_test", "Quarterly UV lamp intensity test",
                   plan_uv_quarterly, {"month": "1,4,7,10", "day": 1, "hour": 8, "minute": 0}),
    PreventivePlan("uv-intensity-monthly-key-departments", "uv_intensity_test", "Monthly UV lamp intensity test",
                   plan_uv_key_departments, {"day": 1, "hour": 8, "minute": 5}),
    PreventivePlan("cold-chain-monthly", "cold_chain_check", "Monthly cold-chain equipment check",
                   plan_cold_chain_checks, {"day": 1, "hour": 9, "minute": 0}),
    PreventivePlan("medical-gas-alarm-annual", "medical_gas_alarm_test", "Annual medical gas alarm test",
                   plan_medical_gas_alarm_tests, {"month": 1, "day": 15, "hour": 9, "minute": 0}),
    PreventivePlan("generator-monthly", "generator_test", "Monthly generator test",
                   plan_generator_tests, {"day": 1, "hour": 10, "minute": 0}),
)


def plan_orders(plan: PreventivePlan, places: Places, site: str) -> list[PlannedOrder]:
    """The orders `plan` asks for at `site` (pure)."""
    return plan.planner(places, site)


def run_plan(store: AlertStore, plan: PreventivePlan, site: str, now: datetime | None = None) -> list[WorkOrder]:
    """Open the plan's routine work orders at `site` (an order already open
    for the same subject and problem is kept, not duplicated)."""
    orders = []
    for planned in plan_orders(plan, store.places, site):
        orders.append(store.open_work_order(
            plan.problem, asset=planned.asset, place=planned.place, subject=planned.subject, priority=Priority.ROUTINE,
            title=plan.title, description=planned.description, source=f"preventive:{plan.id}", details=planned.details,
            now=now,
        ))
    return orders


def job_id(plan: PreventivePlan, site: str) -> str:
    """The explicit, stable APScheduler job id of a plan at a site."""
    return f"{JOB_PREFIX}{plan.id}.{site}"


# The scheduler of this process. APScheduler persists jobs by reference to a
# module-level function with plain arguments; the store is not picklable.
_active: PreventiveScheduler | None = None
_active_lock = threading.Lock()


def run_scheduled_plan(plan_id: str, site: str) -> None:
    """APScheduler's entry point for a plan run (by reference, in the job store)."""
    scheduler = _active
    if scheduler is None:
        log.error("preventive plan %s for %s is due but no PreventiveScheduler is running", plan_id, site)
        return
    scheduler.run(plan_id, site)


class PreventiveScheduler:
    """The preventive plans on an APScheduler BackgroundScheduler with a
    persistent SQLAlchemy job store on `database_url` (the store's own)."""

    def __init__(self, store: AlertStore, database_url: str, *, plans: Sequence[PreventivePlan] = PLANS,
                 sites: Sequence[str] | None = None) -> None:
        self.store = store
        self.plans = {p.id: p for p in plans}
        self.sites = list(sites) if sites is not None else store.places.site_ids()
        self._timezones = {site: _site_timezone(store, site) for site in self.sites}
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=normalise_url(database_url), tablename=JOBSTORE_TABLE)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
            timezone="UTC",
        )

    def job_ids(self) -> list[str]:
        """The ids of the jobs this scheduler registers."""
        return [job_id(plan, site) for site in self.sites for plan in self.plans.values()]

    def start(self, *, paused: bool = False) -> list[str]:
        """Start the scheduler and (re-)register every plan under its explicit
        id; plans no longer configured are removed from the job store."""
        global _active
        with _active_lock:
            if _active is not None and _active is not self:
                raise RuntimeError("a PreventiveScheduler is already running in this process")
            _active = self
        self._scheduler.start(paused=paused)
        wanted = set(self.job_ids())
        for job in self._scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                log.info("removing preventive job %s: its plan is no longer configured", job.id)
                job.remove()
        for site in self.sites:
            for plan in self.plans.values():
                self._scheduler.add_job(
                    "alerts.preventive:run_scheduled_plan", CronTrigger(timezone=self._timezones[site], **plan.cron),
                    id=job_id(plan, site), name=f"{plan.title} ({site})", args=[plan.id, site], replace_existing=True,
                )
        return self.job_ids()

    def resume(self) -> None:
        """Resume a scheduler started paused."""
        self._scheduler.resume()

    def next_runs(self) -> dict[str, datetime | None]:
        """Each registered job's next run time."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}

    def run_soon(self, plan_id: str, site: str, when: datetime) -> None:
        """Move a plan's next run to `when` (a forced run, or tests)."""
        self._scheduler.modify_job(job_id(self.plans[plan_id], site), next_run_time=when)

    def run(self, plan_id: str, site: str, now: datetime | None = None) -> list[WorkOrder]:
        """Run one plan now (what the scheduled job does)."""
        plan = self.plans.get(plan_id)
        if plan is None:
            log.error("unknown preventive plan %s", plan_id)
            return []
        orders = run_plan(self.store, plan, site, now)
        log.info("preventive plan %s at %s: %d work order(s)", plan_id, site, len(orders))
        return orders

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler (jobs stay in the job store)."""
        global _active
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        with _active_lock:
            if _active is self:
                _active = None


def _site_timezone(store: AlertStore, site: str) -> ZoneInfo:
    registry = store.registry
    if registry is not None:
        for s in registry.config.sites:
            if s.id == site:
                return ZoneInfo(s.timezone)
    return ZoneInfo("UTC")


__all__ = [
    "PLANS", "PlannedOrder", "PreventivePlan", "PreventiveScheduler", "job_id", "plan_orders", "run_plan",
    "run_scheduled_plan",
]
