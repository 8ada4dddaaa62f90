"""The work-order SLA report: per order opened in the period, the response
and resolution times against their targets (the order's due times, set by
alerts.workorders.WorkOrderPolicy when it was opened) and whether each was
met or breached; an order still waiting past its due time is a breach. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.workorders import WorkOrder
from reports.model import Cell, Column, Scope, local_iso

COLUMNS = (
    Column("work_order", "Order", width=0.7), Column("priority", "Priority", width=0.9), Column("problem", "Problem", width=1.5),
    Column("site", "Site"), Column("building", "Building"), Column("asset", "Asset", width=1.3),
    Column("state", "State", width=0.9), Column("opened_local", "Opened", width=1.8),
    Column("response_target_min", "Resp. target min", 0), Column("response_min", "Resp. min", 1),
    Column("response", "Response", width=1.1), Column("resolution_target_min", "Resol. target min", 0),
    Column("resolution_min", "Resol. min", 1), Column("resolution", "Resolution", width=1.1),
)


def _minutes(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 60, 1)


def verdict(done_at: datetime | None, due: datetime, now: datetime) -> str:
    """`met`, `breached`, `pending` (not yet due) or `overdue` (due and not done: a breach)."""
    if done_at is not None:
        return "met" if done_at <= due else "breached"
    return "overdue" if now > due else "pending"


def is_breach(verdict_text: str) -> bool:
    return verdict_text in ("breached", "overdue")


def sla_rows(orders: Iterable[WorkOrder], scope: Scope, start: datetime, stop: datetime, now: datetime,
             zones: dict[str, ZoneInfo], default_zone: ZoneInfo) -> list[tuple[Cell, ...]]:
    """Rows for the orders in scope opened in [start, stop), oldest first."""
    rows: list[tuple[Cell, ...]] = []
    for o in sorted(orders, key=lambda x: (x.opened_at, x.id)):
        if not (start <= o.opened_at < stop) or not scope.admits(o.site, o.building, o.asset):
            continue
        tz = zones.get(o.site, default_zone) if o.site else default_zone
        # Resolving an order nobody marked as responded counts as its response (alerts.workorders).
        responded = o.responded_at or o.resolved_at
        rows.append((o.number, o.priority.value, o.problem, o.site, o.building, o.asset, o.state.value,
                     local_iso(o.opened_at, tz), _minutes(o.opened_at, o.response_due),
                     _minutes(o.opened_at, responded) if responded else None, verdict(responded, o.response_due, now),
                     _minutes(o.opened_at, o.resolution_due),
                     _minutes(o.opened_at, o.resolved_at) if o.resolved_at else None,
                     verdict(o.resolved_at, o.resolution_due, now)))
    return rows


def sla_summary(rows: list[tuple[Cell, ...]]) -> str:
    """"12 orders; response breached 2, resolution breached 1"."""
    response = sum(1 for r in rows if is_breach(str(r[10])))
    resolution = sum(1 for r in rows if is_breach(str(r[13])))
    return f"{len(rows)} orders; response breached {response}, resolution breached {resolution}"
