"""Maintenance work orders: priorities with response SLAs, the lifecycle, and
the catalogue of problem codes the rules engine and the preventive schedule
raise. Pure: the alert store persists orders (alerts.store).

Response windows are the hospital plans' commitments (shared/domain.md):
emergency faults answered within 30 minutes, ordinary faults on site within
2 hours; routine (planned) work within a day. An order nobody has responded
to when half its window has passed is escalated. Response and resolution are
tracked separately; the resolution targets are local policy, not a standard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from vigil.profiles import Severity


class Priority(StrEnum):
    EMERGENCY = "emergency"  # respond within 30 min
    URGENT = "urgent"  # on site within 2 h
    ROUTINE = "routine"  # within 24 h (planned and preventive work)


class WorkOrderState(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESPONDED = "responded"  # someone answered / is on site
    RESOLVED = "resolved"  # the fault is fixed
    CLOSED = "closed"  # verified and closed (the PDCA "check")


OPEN_STATES = frozenset({WorkOrderState.OPEN, WorkOrderState.ASSIGNED, WorkOrderState.RESPONDED})

# Which state may follow which. Resolving an order nobody marked as responded
# counts the resolution as the response.
TRANSITIONS: dict[WorkOrderState, frozenset[WorkOrderState]] = {
    WorkOrderState.OPEN: frozenset({WorkOrderState.ASSIGNED, WorkOrderState.RESPONDED, WorkOrderState.RESOLVED}),
    WorkOrderState.ASSIGNED: frozenset({WorkOrderState.ASSIGNED, WorkOrderState.RESPONDED, WorkOrderState.RESOLVED}),
    WorkOrderState.RESPONDED: frozenset({WorkOrderState.ASSIGNED, WorkOrderState.RESOLVED}),
    WorkOrderState.RESOLVED: frozenset({WorkOrderState.CLOSED, WorkOrderState.RESPONDED}),  # reopen if not fixed
    WorkOrderState.CLOSED: frozenset(),
}


class InvalidWorkOrderTransition(ValueError):
    """A lifecycle step the order's state does not allow."""


def check_transition(order_id: int, current: WorkOrderState, target: WorkOrderState) -> None:
    """Raise InvalidWorkOrderTransition unless `current` may become `target`."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is closed)"
        raise InvalidWorkOrderTransition(f"work order {order_id} is {current}: it can become {allowed}, not {target}")


@dataclass(frozen=True)
class WorkOrderPolicy:
    """Response and resolution windows per priority, and when to escalate."""

    response: dict[Priority, timedelta] = field(default_factory=lambda: {
        Priority.EMERGENCY: timedelta(minutes=30),
        Priority.URGENT: timedelta(hours=2),
        Priority.ROUTINE: timedelta(hours=24),
    })
    resolution: dict[Priority, timedelta] = field(default_factory=lambda: {
        Priority.EMERGENCY: timedelta(hours=4),
        Priority.URGENT: timedelta(hours=24),
        Priority.ROUTINE: timedelta(days=7),
    })
    escalate_fraction: float = 0.5  # of the response window, unanswered

    def response_due(self, priority: Priority, opened_at: datetime) -> datetime:
        """When a response is due."""
        return opened_at + self.response[priority]

    def resolution_due(self, priority: Priority, opened_at: datetime) -> datetime:
        """When the fix is due."""
        return opened_at + self.resolution[priority]

    def escalate_at(self, priority: Priority, opened_at: datetime) -> datetime:
        """When an order nobody answered escalates."""
        return opened_at + self.response[priority] * self.escalate_fraction


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    title: str
    priority: Priority | None  # None: from the alert's severity


PROBLEMS: dict[str, Problem] = {
    p.code: p
    for p in [
        Problem("replace_uv_lamp", "Replace UV lamp (intensity below the in-use limit of 70 μW/cm²)", Priority.URGENT),
        Problem("planned_uv_lamp_replacement", "Plan UV lamp replacement (intensity trending to 70 μW/cm²)", Priority.ROUTINE),
        Problem("inspect_leak", "Inspect for a water leak", Priority.URGENT),
        Problem("service_fridge", "Service the refrigerator", None),
        Problem("uv_intensity_test", "UV lamp intensity test", Priority.ROUTINE),
        Problem("cold_chain_check", "Cold-chain equipment check", Priority.ROUTINE),
        Problem("medical_gas_alarm_test", "Medical gas alarm test", Priority.ROUTINE),
        Problem("generator_test", "Generator test under load (>= 30 min)", Priority.ROUTINE),
    ]
}

_BY_SEVERITY = {Severity.CRITICAL: Priority.EMERGENCY, Severity.WARNING: Priority.URGENT, Severity.INFO: Priority.ROUTINE}


def priority_for(problem: str, severity: Severity | None) -> Priority:
    """The priority of an order for `problem` raised by an alert of `severity`."""
    known = PROBLEMS.get(problem)
    if known is not None and known.priority is not None:
        return known.priority
    return _BY_SEVERITY.get(severity, Priority.URGENT) if severity is not None else Priority.URGENT


def problem_title(problem: str) -> str:
    """A person's name for a problem code ("inspect_leak" -> "Inspect for a water leak")."""
    known = PROBLEMS.get(problem)
    return known.title if known else problem.replace("_", " ").capitalize()


@dataclass(frozen=True)
class WorkOrder:
    """A work order as the CLI and API see it."""

    id: int
    problem: str
    title: str
    description: str | None
    priority: Priority
    state: WorkOrderState
    source: str
    asset: str | None
    site: str | None
    building: str | None
    floor: str | None
    room: str | None
    place: dict[str, Any]
    alert_id: int | None
    details: dict[str, Any]
    opened_at: datetime
    opened_by: str
    response_due: datetime
    resolution_due: datetime
    assigned_to: str | None
    assigned_at: datetime | None
    responded_at: datetime | None
    responded_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    escalated_at: datetime | None
    response_breached_at: datetime | None

    @property
    def number(self) -> str:
        """"WO-12"."""
        return f"WO-{self.id}"

    @property
    def response_met(self) -> bool | None:
        """Whether the response came within its window (None: not yet responded)."""
        return None if self.responded_at is None else self.responded_at <= self.response_due

    @property
    def resolution_met(self) -> bool | None:
        """Whether the fix came within its window (None: not yet resolved)."""
        return None if self.resolved_at is None else self.resolved_at <= self.resolution_due


@dataclass(frozen=True)
class WorkOrderEvent:
    id: int
    work_order_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    details: dict[str, Any]


__all__ = [
    "OPEN_STATES", "PROBLEMS", "InvalidWorkOrderTransition", "Priority", "Problem", "WorkOrder", "WorkOrderEvent",
    "WorkOrderPolicy", "WorkOrderState", "check_transition", "priority_for", "problem_title",
]
