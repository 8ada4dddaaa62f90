"""On-call schedules and escalation policies, read only. Contact points are
shown by name: their URLs carry secrets and never leave the server."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from alerts.oncall import Target
from api import schemas
from api.deps import StoreDep, Viewer

router = APIRouter(prefix="/oncall", tags=["on call"])


def _target(t: Target) -> schemas.TargetOut:
    return schemas.TargetOut(schedule=t.schedule, person=t.person, contact_point=t.contact_point)


@router.get("/schedules")
def list_schedules(store: StoreDep, _: Viewer) -> list[schemas.ScheduleOut]:
    """Rotations, with who is on call now."""
    now = datetime.now(UTC)
    return [schemas.ScheduleOut(name=name, timezone=s.timezone, handover=s.handover.strftime("%H:%M"), shift_days=s.shift_days, start=s.start,
                                rotation=list(s.rotation),
                                overrides=[schemas.OverrideOut(person=o.person, start=o.start, end=o.end) for o in s.overrides],
                                on_call_now=s.on_call(now))
            for name, s in store.oncall.schedules.items()]


@router.get("/escalation-policies")
def list_escalation_policies(store: StoreDep, _: Viewer) -> list[schemas.EscalationPolicyOut]:
    """Escalation policies: whom each tier notifies and when it escalates."""
    return [schemas.EscalationPolicyOut(name=name, repeat=p.repeat, is_default=name == store.oncall.default_policy,
                                        tiers=[schemas.TierOut(notify=[_target(t) for t in tier.notify],
                                                               escalate_after_minutes=tier.escalate_after_minutes)
                                               for tier in p.tiers])
            for name, p in store.oncall.escalation_policies.items()]
