"""The alert store: alerts with a lifecycle and an audit trail, silences,
inhibition by topology, escalation, the notification outbox, maintenance
work orders, excursions and the rules engine's snapshot, all in one
database, so that a restarted service continues exactly where it was.

Time comes in as `now` (timezone-aware), defaulting to the store's clock;
nothing waits on an in-memory timer. The service calls `apply()` for every
transition and `process_due(now)` periodically; both return the
notification intents they recorded in the outbox, which the dispatcher
(alerts.notify.dispatch) delivers.

What people were told is part of the state (`announced`, `episode`), which
is what keeps three promises peer systems break:
- an alert already firing before a restart is not announced again;
- a flapping alert reopens the same alert, its "resolved" message is held
  until the condition stays clear, and it is not re-announced within the
  cooldown;
- each (alert, step, recipient) has one outbox row under a unique key.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.model import AlertState, ExcursionEvent, Transition
from alerts.notify.base import Notification, NotificationKind
from alerts.oncall import EscalationPolicy, Recipient, RoutingFacts, Target
from alerts.store import engine_state
from alerts.store.changes import ChangeFeed
from alerts.store.core import (
    ENGINE,
    FAILED,
    SYSTEM,
    AlertNotFound,
    InvalidAlertTransition,
    json_safe,
)
from alerts.store.db import as_utc, create_store_engine, migrate
from alerts.store.escalation import first_step, next_step, step_name
from alerts.store.inhibition import (
    ACTIVE_STATES,
    OUTAGE_METRICS,
    OUTAGE_PROFILES,
    POWER_DEPENDENT_FAMILIES,
    could_be_power_outage,
    depends_on_power,
    is_power_outage,
)
from alerts.store.messages import render_alert
from alerts.store.outbox import Outbox
from alerts.store.records import alert_event_record, alert_record, excursion_record, severity_of, silence_record
from alerts.store.schema import (
    AlertEventRow,
    AlertRow,
    EscalationRow,
    ExcursionRow,
    NotificationRow,
    SilenceRow,
)
from alerts.store.silences import silence_matches, validate_silence
from alerts.store.views import (
    FAMILY_NOTIFICATION,
    NOTIFICATION_FAILED,
    OPEN_ALERT_STATES,
    Alert,
    AlertEvent,
    Escalation,
    Excursion,
    Place,
    Silence,
)
from alerts.store.work_orders import WorkOrderBook
from alerts.workorders import (
    priority_for,
)

log = logging.getLogger(__name__)


FIRING, PENDING, ACKED, RESOLVED = (AlertState.FIRING.value, AlertState.PENDING.value,
                                    AlertState.ACKNOWLEDGED.value, AlertState.RESOLVED.value)
_OPEN = tuple(s.value for s in OPEN_ALERT_STATES)


@dataclass(frozen=True, slots=True)
class _Signal:
    """A transition, whether from the rules engine or raised by Vigil itself."""

    rule_id: str
    rule_kind: str
    sensor: str
    asset: str | None
    metric: str | None
    state: str
    severity: str
    summary: str
    value: float | bool | None
    limit: str | None
    since: datetime | None
    event_time: datetime | None
    details: dict[str, Any] = field(default_factory=dict)
    work_order: str | None = None
    family: str | None = None  # overrides the registry's
    actor: str = ENGINE


def open_key(rule_id: str, sensor: str) -> str:
    """The key of "the one open alert" of a rule and sensor."""
    return f"{rule_id}|{sensor}"


def _from_ns(ns: int | None) -> datetime | None:
    return None if ns is None else datetime.fromtimestamp(ns / 1e9, UTC)


def _clean_value(value: float | bool | None) -> float | bool | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON (and PostgreSQL) cannot hold NaN or infinity
    return value


class AlertStore(WorkOrderBook, Outbox, ChangeFeed):
    """Alerts, escalation, notifications and work orders in one database.

    Open it with `open_store(url, ...)`, which migrates first. Its parts:
    StoreCore (configuration, transactions), Outbox (the DeliveryLedger the
    dispatcher uses) and WorkOrderBook (maintenance work orders); this class
    adds the alert lifecycle, silences, inhibition and escalation.
    """

    # ------------------------------------------------------------------
    # Transitions from the rules engine

    def apply(self, transition: Transition, now: datetime | None = None) -> list[Notification]:
        """Record a rule's transition for one sensor; return the notifications
        it causes (already in the outbox, to be delivered).

        PENDING or FIRING updates the one open alert of (rule_id, sensor), or
        reopens one resolved within the flap window, or opens a new one;
        RESOLVED closes it. A transition with `work_order` set opens (once) a
        maintenance order for the asset and problem.
        """
        if transition.state not in (AlertState.PENDING, AlertState.FIRING, AlertState.RESOLVED):
            raise ValueError(f"the rules engine sends pending, firing or resolved, not {transition.state}")
        signal = _Signal(
            rule_id=transition.rule_id, rule_kind=transition.rule_kind.value, sensor=transition.sensor,
            asset=transition.asset, metric=transition.metric, state=transition.state.value,
            severity=transition.severity.value, summary=transition.summary, value=_clean_value(transition.value),
            limit=transition.limit, since=_from_ns(transition.since_ns), event_time=_from_ns(transition.at_ns),
            details=dict(transition.details), work_order=transition.work_order,
        )
        return self._ingest(signal, self._now(now))

    def _ingest(self, sig: _Signal, now: datetime) -> list[Notification]:
        out: list[NotificationRow] = []
        with self._tx() as s:
            row = s.scalar(select(AlertRow).where(AlertRow.open_key == open_key(sig.rule_id, sig.sensor)).with_for_update())
            if sig.state == RESOLVED:
                if row is not None:
                    self._refresh(row, sig, now)
                    self._resolve(s, row, now, actor=sig.actor, note=None, manual=False, event_time=sig.event_time, out=out)
            else:
                if row is None:
                    row = self._reopenable(s, sig, now)
                    if row is not None:
                        self._reopen(s, row, sig, now)
                    else:
                        row = self._create(s, sig, now)
                else:
                    self._refresh(row, sig, now)
                if sig.state == FIRING and row.state == PENDING:
                    self._set_state(s, row, FIRING, now, sig.actor, "fired", event_time=sig.event_time)
                    row.fired_at = now
                if row.state in (FIRING, ACKED):
                    self._correlate(s, row, now)
                    self._announce_if_due(s, row, now, out)
                    if sig.work_order and sig.state == FIRING:
                        self._open_order_for_alert(s, row, sig.work_order, now, out)
            s.flush()
            return self._intents(out)

    def _create(self, s: Session, sig: _Signal, now: datetime) -> AlertRow:
        located = self._places.for_signal(sig.sensor, sig.asset)
        place = located.place
        row = AlertRow(
            rule_id=sig.rule_id, rule_kind=sig.rule_kind, sensor=sig.sensor, asset=sig.asset, metric=sig.metric,
            state=sig.state, severity=sig.severity, summary=sig.summary, value=sig.value, limit_text=sig.limit,
            details=json_safe(sig.details), work_order_problem=sig.work_order, family=sig.family or located.family,
            profile=located.profile, site=place.site, building=place.building, floor=place.floor, room=place.room,
            place=place.to_json(), since=sig.since, event_at=sig.event_time, opened_at=now,
            fired_at=now if sig.state == FIRING else None, updated_at=now, announced=None, episode=0, flaps=0,
            open_key=open_key(sig.rule_id, sig.sensor),
        )
        s.add(row)
        s.flush()
        self._event(s, row, now, sig.actor, "opened", to_state=sig.state, event_time=sig.event_time, note=sig.summary,
                    details={"value": sig.value, "limit": sig.limit})
        return row

    def _refresh(self, row: AlertRow, sig: _Signal, now: datetime) -> None:
        """The engine's latest view of the condition (value, summary, severity)."""
        row.summary = sig.summary
        row.severity = sig.severity
        row.value = sig.value
        row.limit_text = sig.limit
        row.details = json_safe(sig.details)
        row.event_at = sig.event_time
        if sig.since is not None:
            row.since = sig.since
        if sig.work_order:
            row.work_order_problem = sig.work_order
        row.updated_at = now

    def _reopenable(self, s: Session, sig: _Signal, now: datetime) -> AlertRow | None:
        """The same rule and sensor's alert resolved within the flap window."""
        return s.scalar(
            select(AlertRow)
            .where(AlertRow.rule_id == sig.rule_id, AlertRow.sensor == sig.sensor, AlertRow.state == RESOLVED,
                   AlertRow.resolved_at >= now - self.damping.reopen_window)
            .order_by(AlertRow.resolved_at.desc(), AlertRow.id.desc())
            .limit(1)
            .with_for_update()
        )

    def _reopen(self, s: Session, row: AlertRow, sig: _Signal, now: datetime) -> None:
        was_resolved_at = row.resolved_at
        # Still inside the incident people were told about, and someone had
        # acknowledged it: they are on it already.
        still_acked = (sig.state == FIRING and row.announced == "firing" and row.acknowledged_at is not None
                       and row.announced_at is not None and row.acknowledged_at >= row.announced_at)
        new_state = ACKED if still_acked else sig.state
        self._refresh(row, sig, now)
        row.open_key = open_key(sig.rule_id, sig.sensor)
        row.resolved_at = None
        row.resolved_by = None
        row.resolve_notify_at = None
        row.flaps += 1
        if new_state == FIRING:
            row.fired_at = now
        gap = (now - was_resolved_at) if was_resolved_at else timedelta(0)
        self._set_state(s, row, new_state, now, sig.actor, "reopened", event_time=sig.event_time,
                        note=f"fired again {int(gap.total_seconds() // 60)} min after resolving (flap {row.flaps})")

    def _set_state(self, s: Session, row: AlertRow, state: str, now: datetime, actor: str, action: str, *,
                   note: str | None = None, event_time: datetime | None = None) -> None:
        previous = row.state
        row.state = state
        row.updated_at = now
        self._event(s, row, now, actor, action, from_state=previous, to_state=state, note=note, event_time=event_time)

    def _resolve(self, s: Session, row: AlertRow, now: datetime, *, actor: str, note: str | None, manual: bool,
                 event_time: datetime | None, out: list[NotificationRow]) -> None:
        self._set_state(s, row, RESOLVED, now, actor, "resolved", note=note, event_time=event_time)
        row.resolved_at = now
        row.resolved_by = actor
        row.open_key = None
        if row.announced == "firing":
            if manual or self.damping.resolved_hold <= timedelta(0):
                self._announce_resolved(s, row, now, out)
            else:
                # Held: a flapping alert that fires again meanwhile tells nobody anything.
                row.resolve_notify_at = now + self.damping.resolved_hold
        else:
            self._stop_escalation(s, row.id, now, "resolved")
        if row.suppressed_by:
            row.suppressed_by = None
        if could_be_power_outage(profile=row.profile, rule_kind=row.rule_kind, metric=row.metric):
            self._release_dependents(s, row, now, out)

    # ------------------------------------------------------------------
    # Inhibition, silences, announcements

    def _correlate(self, s: Session, row: AlertRow, now: datetime) -> None:
        """Link a dependent alert to its building's outage, or an outage to its
        building's dependent alerts."""
        if not row.building:
            return
        if depends_on_power(row.family):
            outage = s.scalar(
                select(AlertRow)
                .where(AlertRow.building == row.building, AlertRow.profile.in_(OUTAGE_PROFILES),
                       AlertRow.rule_kind == "threshold", AlertRow.metric.in_(OUTAGE_METRICS),
                       AlertRow.state.in_(ACTIVE_STATES))
                .order_by(AlertRow.id)
                .limit(1)
            )
            if outage is not None and row.caused_by != outage.id:
                self._link(s, row, outage, now)
        elif is_power_outage(profile=row.profile, rule_kind=row.rule_kind, metric=row.metric, state=row.state):
            dependents = s.scalars(
                select(AlertRow).where(AlertRow.building == row.building, AlertRow.family.in_(POWER_DEPENDENT_FAMILIES),
                                       AlertRow.state.in_(_OPEN), AlertRow.id != row.id)
            ).all()
            linked = [d.id for d in dependents if d.caused_by != row.id]
            for dependent in dependents:
                if dependent.caused_by != row.id:
                    self._link(s, dependent, row, now)
            if linked:
                self._event(s, row, now, SYSTEM, "linked", note=f"explains {len(linked)} alert(s) in {row.building}",
                            details={"dependents": linked})

    def _link(self, s: Session, row: AlertRow, cause: AlertRow, now: datetime) -> None:
        row.caused_by = cause.id
        self._event(s, row, now, SYSTEM, "linked", note=f"caused by alert {cause.id}: {cause.summary}",
                    details={"caused_by": cause.id})

    def _active_silences(self, s: Session, now: datetime) -> list[Silence]:
        rows = s.scalars(select(SilenceRow).where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now,
                                                  SilenceRow.expired_at.is_(None)).order_by(SilenceRow.id)).all()
        return [silence_record(r) for r in rows]

    def _hold_reason(self, s: Session, row: AlertRow, now: datetime, *, cooldown: bool) -> str | None:
        """Why this alert must not page anyone now, or None."""
        if row.caused_by is not None:
            cause = s.get(AlertRow, row.caused_by)
            if cause is not None and is_power_outage(profile=cause.profile, rule_kind=cause.rule_kind,
                                                     metric=cause.metric, state=cause.state):
                return f"inhibited by alert {cause.id} (power outage in {cause.building})"
        for silence in self._active_silences(s, now):
            if silence_matches(silence, asset=row.asset, sensor=row.sensor, rule_id=row.rule_id, building=row.building,
                               at=now):
                return f"{silence.kind} {silence.id}"
        if (cooldown and row.announced == "resolved" and row.announced_at is not None
                and now < row.announced_at + self.damping.renotify_cooldown):
            return f"re-notify cooldown until {(row.announced_at + self.damping.renotify_cooldown).isoformat()}"
        return None

    def _note_hold(self, s: Session, row: AlertRow, reason: str | None, now: datetime) -> None:
        """Record (once per change) that notifications are suppressed, and why."""
        if reason == row.suppressed_by:
            return
        if reason is not None:
            self._event(s, row, now, SYSTEM, "suppressed", note=reason)
        else:
            self._event(s, row, now, SYSTEM, "unsuppressed", note=f"no longer {row.suppressed_by}")
        row.suppressed_by = reason

    def _policy_name(self, row: AlertRow) -> str | None:
        return self.oncall.policy_for(RoutingFacts(severity=severity_of(row.severity), family=row.family,
                                                   building=row.building, rule_kind=row.rule_kind))

    def _policy(self, row: AlertRow, name: str | None) -> tuple[str | None, EscalationPolicy | None]:
        """The policy by stored name; if the config lost it since, the route's."""
        if name and name in self.oncall.escalation_policies:
            return name, self.oncall.escalation_policies[name]
        name = self._policy_name(row)
        return name, (self.oncall.escalation_policies.get(name) if name else None)

    def _announce_if_due(self, s: Session, row: AlertRow, now: datetime, out: list[NotificationRow]) -> None:
        """Tell tier 1 that this alert fires, unless it has been told already,
        or a silence, an outage or the re-notify cooldown holds it back."""
        if row.state != FIRING or row.announced == "firing":
            return
        reason = self._hold_reason(s, row, now, cooldown=True)
        self._note_hold(s, row, reason, now)
        if reason is not None:
            return
        row.episode += 1
        row.announced = "firing"
        row.announced_at = now
        name, policy = self._policy(row, None)
        esc = s.get(EscalationRow, row.id)
        if esc is None:
            esc = EscalationRow(alert_id=row.id)
            s.add(esc)
        esc.policy, esc.episode, esc.tier, esc.round = name or "", row.episode, 0, 0
        esc.started_at, esc.held, esc.stopped_at, esc.stop_reason = now, False, None, None
        if policy is None:
            esc.next_at, esc.stopped_at, esc.stop_reason = None, now, "no escalation policy routes this alert"
            self._event(s, row, now, SYSTEM, "announced", note="nobody to notify: no escalation policy routes this alert")
            return
        step = first_step(policy, now)
        esc.next_at = step.next_at
        sent = self._notify_alert(s, row, NotificationKind.FIRING, step_name(row.episode, 0, 0), policy.tiers[0].notify,
                                  now, out, tier=0, tiers=len(policy.tiers))
        self._event(s, row, now, SYSTEM, "notified", note=f"tier 1 of {name}: {', '.join(sent) or 'no recipients'}",
                    details={"policy": name, "tier": 1, "pass": 1, "recipients": sent})

    def _announce_resolved(self, s: Session, row: AlertRow, now: datetime, out: list[NotificationRow]) -> None:
        """Tell everyone who was paged in this episode that it resolved."""
        prefix = f"e{row.episode}/"
        paged = s.execute(
            select(NotificationRow.recipient, NotificationRow.person)
            .where(NotificationRow.alert_id == row.id, NotificationRow.step.startswith(prefix, autoescape=True),
                   NotificationRow.kind.in_([NotificationKind.FIRING.value, NotificationKind.ESCALATION.value]),
                   NotificationRow.status != FAILED)
            .order_by(NotificationRow.id)
        ).all()
        recipients = list(dict.fromkeys(Recipient(cp, person) for cp, person in paged))
        title, body = render_alert(alert_record(row), NotificationKind.RESOLVED, now=now, console_url=self.console_url)
        for r in recipients:
            self._enqueue(s, out, key=f"alert:{row.id}/{prefix}resolved/{r.contact_point}", kind=NotificationKind.RESOLVED,
                          step=f"{prefix}resolved", recipient=r, title=title, body=body, severity=row.severity,
                          alert_id=row.id, now=now)
        row.announced = "resolved"
        row.resolve_notify_at = None
        self._stop_escalation(s, row.id, now, "resolved")
        if recipients:
            self._event(s, row, now, SYSTEM, "notified", note=f"resolved: {', '.join(r.contact_point for r in recipients)}",
                        details={"kind": "resolved", "recipients": [r.contact_point for r in recipients]})

    def _release_dependents(self, s: Session, outage: AlertRow, now: datetime, out: list[NotificationRow]) -> None:
        """The outage is over: dependents still firing are notified normally."""
        dependents = s.scalars(select(AlertRow).where(AlertRow.caused_by == outage.id, AlertRow.state.in_(_OPEN))).all()
        for dep in dependents:
            if dep.state == FIRING and dep.announced != "firing":
                self._announce_if_due(s, dep, now, out)
            else:
                self._resume_if_clear(s, dep, now)

    def _resume_if_clear(self, s: Session, row: AlertRow, now: datetime) -> None:
        esc = s.get(EscalationRow, row.id)
        if esc is None or esc.stopped_at is not None or not esc.held or row.state != FIRING:
            return
        reason = self._hold_reason(s, row, now, cooldown=False)
        self._note_hold(s, row, reason, now)
        if reason is not None:
            return
        _, policy = self._policy(row, esc.policy)
        wait = policy.tiers[min(esc.tier, len(policy.tiers) - 1)].escalate_after if policy else timedelta(0)
        esc.held, esc.next_at = False, now + wait
        self._event(s, row, now, SYSTEM, "escalation_resumed", note=f"next step at {esc.next_at.isoformat()}")

    def _stop_escalation(self, s: Session, alert_id: int, now: datetime, reason: str) -> None:
        esc = s.get(EscalationRow, alert_id)
        if esc is not None and esc.stopped_at is None:
            esc.stopped_at, esc.stop_reason, esc.next_at, esc.held = now, reason, None, False

    # ------------------------------------------------------------------
    # The outbox

    def _notify_alert(self, s: Session, row: AlertRow, kind: NotificationKind, step: str, targets: Sequence[Target],
                      now: datetime, out: list[NotificationRow], *, tier: int, tiers: int,
                      waited: timedelta | None = None) -> list[str]:
        # A channel that keeps failing is not told that it keeps failing.
        exclude = [row.sensor] if row.rule_kind == NOTIFICATION_FAILED else []
        recipients = self._recipients(targets, now, exclude)
        cause = s.get(AlertRow, row.caused_by) if row.caused_by is not None else None
        title, body = render_alert(alert_record(row), kind, now=now, console_url=self.console_url, tier=tier,
                                   tiers=tiers, waited=waited, cause=alert_record(cause) if cause else None)
        for r in recipients:
            self._enqueue(s, out, key=f"alert:{row.id}/{step}/{r.contact_point}", kind=kind, step=step, recipient=r,
                          title=title, body=body, severity=row.severity, alert_id=row.id, now=now)
        return [r.contact_point for r in recipients]

    # ------------------------------------------------------------------
    # Time-driven work: escalation, held messages, work-order SLAs

    def process_due(self, now: datetime | None = None) -> list[Notification]:
        """Everything that is due at `now`: held "resolved" messages, alerts
        whose silence or outage ended, escalation steps nobody acknowledged,
        and work orders whose response window is half gone or over. Call it
        periodically (every few seconds); it works from stored timestamps."""
        now = self._now(now)
        out: list[NotificationRow] = []
        with self._tx() as s:
            for row in s.scalars(select(AlertRow).where(AlertRow.state == RESOLVED, AlertRow.resolve_notify_at <= now)
                                 .order_by(AlertRow.id)).all():
                self._announce_resolved(s, row, now, out)
            unannounced = select(AlertRow).where(AlertRow.state == FIRING,
                                                 or_(AlertRow.announced.is_(None), AlertRow.announced != "firing"))
            for row in s.scalars(unannounced.order_by(AlertRow.id)).all():
                self._announce_if_due(s, row, now, out)
            for esc in s.scalars(select(EscalationRow).where(EscalationRow.stopped_at.is_(None),
                                                             EscalationRow.held.is_(True))).all():
                row = s.get_one(AlertRow, esc.alert_id)
                self._resume_if_clear(s, row, now)
            for esc in s.scalars(select(EscalationRow).where(EscalationRow.stopped_at.is_(None),
                                                             EscalationRow.next_at <= now)
                                 .order_by(EscalationRow.next_at)).all():
                self._escalate(s, esc, now, out)
            self._work_orders_due(s, now, out)
            s.flush()
            return self._intents(out)

    def _escalate(self, s: Session, esc: EscalationRow, now: datetime, out: list[NotificationRow]) -> None:
        row = s.get_one(AlertRow, esc.alert_id)
        if row.state == ACKED:
            self._stop_escalation(s, row.id, now, "acknowledged")
            return
        if row.state != FIRING:
            return  # resolved, its "resolved" message held: wait and see
        reason = self._hold_reason(s, row, now, cooldown=False)
        self._note_hold(s, row, reason, now)
        if reason is not None:
            esc.held, esc.next_at = True, None
            self._event(s, row, now, SYSTEM, "escalation_held", note=reason)
            return
        name, policy = self._policy(row, esc.policy)
        if policy is None:
            self._stop_escalation(s, row.id, now, "no escalation policy routes this alert any more")
            return
        waited = now - (esc.next_at or now) + policy.tiers[min(esc.tier, len(policy.tiers) - 1)].escalate_after
        step = next_step(policy, esc.tier, esc.round, now)
        if step is None:
            self._stop_escalation(s, row.id, now, f"exhausted: nobody acknowledged after {policy.repeat + 1} pass(es)")
            self._event(s, row, now, SYSTEM, "escalation_exhausted",
                        note=f"nobody acknowledged after {policy.repeat + 1} pass(es) through {name}")
            return
        esc.policy, esc.tier, esc.round, esc.next_at = name or "", step.tier, step.round, step.next_at
        sent = self._notify_alert(s, row, NotificationKind.ESCALATION, step_name(row.episode, step.tier, step.round),
                                  policy.tiers[step.tier].notify, now, out, tier=step.tier, tiers=len(policy.tiers),
                                  waited=waited)
        self._event(s, row, now, SYSTEM, "escalated",
                    note=f"tier {step.tier + 1}, pass {step.round + 1} of {name}: {', '.join(sent) or 'no recipients'}",
                    details={"policy": name, "tier": step.tier + 1, "pass": step.round + 1, "recipients": sent})

    # ------------------------------------------------------------------
    # People acting on alerts

    def _get_alert_row(self, s: Session, alert_id: int) -> AlertRow:
        row = s.get(AlertRow, alert_id, with_for_update=True)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}")
        return row

    def acknowledge(self, alert_id: int, by: str, note: str | None = None, *, now: datetime | None = None) -> Alert:
        """A person takes the alert on: escalation stops. The note says what
        they are doing about it (the corrective action)."""
        now, by = self._now(now), self._who(by)
        with self._tx() as s:
            row = self._get_alert_row(s, alert_id)
            if row.state == ACKED:
                raise InvalidAlertTransition(
                    f"alert {alert_id} was already acknowledged by {row.acknowledged_by} at {row.acknowledged_at}")
            if row.state == RESOLVED:
                raise InvalidAlertTransition(f"alert {alert_id} is resolved; add a comment instead")
            self._set_state(s, row, ACKED, now, by, "acknowledged", note=note)
            row.acknowledged_at, row.acknowledged_by = now, by
            self._stop_escalation(s, row.id, now, f"acknowledged by {by}")
            return alert_record(row)

    def resolve(self, alert_id: int, by: str, note: str | None = None, *, now: datetime | None = None) -> Alert:
        """A person resolves the alert by hand. Whoever was paged is told at
        once (the messages wait in the outbox for the dispatcher's next
        `deliver_due`)."""
        now, by = self._now(now), self._who(by)
        out: list[NotificationRow] = []
        with self._tx() as s:
            row = self._get_alert_row(s, alert_id)
            if row.state == RESOLVED:
                raise InvalidAlertTransition(f"alert {alert_id} is already resolved")
            self._resolve(s, row, now, actor=by, note=note, manual=True, event_time=None, out=out)
            return alert_record(row)

    def comment(self, alert_id: int, by: str, note: str, *, now: datetime | None = None) -> AlertEvent:
        """Add a note to an alert's audit trail."""
        now, by = self._now(now), self._who(by)
        if not note or not note.strip():
            raise ValueError("a comment needs a note")
        with self._tx() as s:
            row = self._get_alert_row(s, alert_id)
            event = AlertEventRow(alert_id=row.id, at=now, actor=by, action="comment", note=note, details={})
            s.add(event)
            s.flush()
            return alert_event_record(event)

    # ------------------------------------------------------------------
    # Reading alerts

    def get_alert(self, alert_id: int) -> Alert:
        """One alert by id (AlertNotFound if there is none)."""
        with self._read() as s:
            row = s.get(AlertRow, alert_id)
            if row is None:
                raise AlertNotFound(f"no alert {alert_id}")
            return alert_record(row)

    def list_alerts(
        self,
        state: AlertState | str | Sequence[AlertState | str] | None = None,
        severity: str | Sequence[str] | None = None,
        building: str | None = None,
        family: str | None = None,
        *,
        open_only: bool = False,
        rule_id: str | None = None,
        sensor: str | None = None,
        limit: int | None = None,
    ) -> list[Alert]:
        """Alerts, newest first, filtered by state(s), severity, building,
        family (sensor kind, "gateway" or "notification"), rule or sensor."""
        query = select(AlertRow)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            query = query.where(AlertRow.state.in_([str(x) for x in states]))
        if open_only:
            query = query.where(AlertRow.state.in_(_OPEN))
        if severity is not None:
            severities = [severity] if isinstance(severity, str) else list(severity)
            query = query.where(AlertRow.severity.in_([str(x) for x in severities]))
        if building is not None:
            query = query.where(AlertRow.building == building)
        if family is not None:
            query = query.where(AlertRow.family == family)
        if rule_id is not None:
            query = query.where(AlertRow.rule_id == rule_id)
        if sensor is not None:
            query = query.where(AlertRow.sensor == sensor)
        query = query.order_by(AlertRow.opened_at.desc(), AlertRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._read() as s:
            return [alert_record(r) for r in s.scalars(query).all()]

    def alert_events(self, alert_id: int) -> list[AlertEvent]:
        """The audit trail of an alert, oldest first."""
        with self._read() as s:
            rows = s.scalars(select(AlertEventRow).where(AlertEventRow.alert_id == alert_id).order_by(AlertEventRow.id))
            return [alert_event_record(r) for r in rows.all()]

    def escalation(self, alert_id: int) -> Escalation | None:
        """Where the alert's escalation stands (None before it was announced)."""
        with self._read() as s:
            e = s.get(EscalationRow, alert_id)
            if e is None:
                return None
            return Escalation(alert_id=e.alert_id, policy=e.policy, episode=e.episode, tier=e.tier, round=e.round,
                              started_at=e.started_at, next_at=e.next_at, held=e.held, stopped_at=e.stopped_at,
                              stop_reason=e.stop_reason)

    # ------------------------------------------------------------------
    # Silences and maintenance windows

    def add_silence(self, *, created_by: str, reason: str, starts_at: datetime | None = None,
                    ends_at: datetime | None = None, duration: timedelta | None = None, asset: str | None = None,
                    sensor: str | None = None, rule_id: str | None = None, building: str | None = None,
                    kind: str = "silence", now: datetime | None = None) -> Silence:
        """Silence matching alerts from `starts_at` (default now) until
        `ends_at` (or for `duration`): recorded, not paged."""
        now = self._now(now)
        start = as_utc(starts_at) if starts_at else now
        if ends_at is None:
            if duration is None:
                raise ValueError("give ends_at or duration")
            ends_at = start + duration
        end = as_utc(ends_at)
        validate_silence(kind=kind, asset=asset, sensor=sensor, rule_id=rule_id, building=building, starts_at=start,
                         ends_at=end, created_by=created_by, reason=reason)
        with self._tx() as s:
            row = SilenceRow(kind=kind, asset=asset, sensor=sensor, rule_id=rule_id, building=building, starts_at=start,
                             ends_at=end, created_by=created_by.strip(), created_at=now, reason=reason.strip())
            s.add(row)
            s.flush()
            return silence_record(row)

    def expire_silence(self, silence_id: int, by: str, *, now: datetime | None = None) -> Silence:
        """End a silence early; alerts it held back are announced at the next process_due."""
        now, by = self._now(now), self._who(by)
        with self._tx() as s:
            row = s.get(SilenceRow, silence_id)
            if row is None:
                raise LookupError(f"no silence {silence_id}")
            if row.expired_at is None:
                row.expired_at, row.expired_by = now, by
            return silence_record(row)

    def list_silences(self, active_at: datetime | None = None) -> list[Silence]:
        """All silences, or those active at `active_at`."""
        with self._read() as s:
            rows = [silence_record(r) for r in s.scalars(select(SilenceRow).order_by(SilenceRow.id)).all()]
        return rows if active_at is None else [r for r in rows if r.active(as_utc(active_at))]

    # ------------------------------------------------------------------
    # Channels that keep failing (the rest of the DeliveryLedger is in Outbox)

    def raise_notification_failed(self, contact_point: str, error: str, now: datetime) -> list[Notification]:
        """Open (or refresh) the alert "notification_failed/<contact point>"."""
        now = as_utc(now)
        return self._ingest(_Signal(
            rule_id=f"{NOTIFICATION_FAILED}/{contact_point}", rule_kind=NOTIFICATION_FAILED, sensor=contact_point,
            asset=None, metric=None, state=FIRING, severity="critical",
            summary=f"Notifications to contact point {contact_point} keep failing", value=None, limit=None,
            since=None, event_time=now, details={"contact_point": contact_point, "last_error": error},
            family=FAMILY_NOTIFICATION, actor=SYSTEM), now)

    def clear_notification_failed(self, contact_point: str, now: datetime) -> list[Notification]:
        """A delivery to the contact point succeeded: resolve its failure alert."""
        now = as_utc(now)
        rule_id = f"{NOTIFICATION_FAILED}/{contact_point}"
        with self._read() as s:
            if s.scalar(select(AlertRow.id).where(AlertRow.open_key == open_key(rule_id, contact_point))) is None:
                return []
        return self._ingest(_Signal(
            rule_id=rule_id, rule_kind=NOTIFICATION_FAILED, sensor=contact_point, asset=None, metric=None,
            state=RESOLVED, severity="critical", summary=f"Notifications to contact point {contact_point} work again",
            value=None, limit=None, since=None, event_time=now, details={"contact_point": contact_point},
            family=FAMILY_NOTIFICATION, actor=SYSTEM), now)

    # ------------------------------------------------------------------
    # Work orders raised by alerts (the rest is in WorkOrderBook)

    def _open_order_for_alert(self, s: Session, row: AlertRow, problem: str, now: datetime,
                              out: list[NotificationRow]) -> None:
        subject = row.asset or row.sensor
        order, created = self._open_order(
            s, problem=problem, subject=subject, asset=row.asset, place=Place.from_json(row.place),
            priority=priority_for(problem, severity_of(row.severity)), title=None, description=row.summary,
            source="alert", by=ENGINE, alert_id=row.id, details={"rule_id": row.rule_id, "sensor": row.sensor},
            now=now, out=out, quiet_because=row.suppressed_by)
        if created:
            self._event(s, row, now, SYSTEM, "work_order_opened", note=f"WO-{order.id}: {order.title}",
                        details={"work_order": order.id})

    # ------------------------------------------------------------------
    # Excursions and the rules engine's snapshot

    def record_excursion(self, event: ExcursionEvent, now: datetime | None = None) -> Excursion:
        """Insert or update the excursion record (keyed by sensor and start)."""
        now = self._now(now)
        started = _from_ns(event.started_ns)
        assert started is not None
        with self._tx() as s:
            row = s.scalar(select(ExcursionRow).where(ExcursionRow.sensor == event.sensor,
                                                      ExcursionRow.started_at == started))
            if row is None:
                row = ExcursionRow(sensor=event.sensor, asset=event.asset, started_at=started, updated_at=now,
                                   peak=event.peak, minutes_out_of_range=event.minutes_out_of_range)
                s.add(row)
            row.product, row.ended_at, row.peak = event.product, _from_ns(event.ended_ns), event.peak
            row.minutes_out_of_range = event.minutes_out_of_range
            row.mean_kinetic_temperature, row.low, row.high = event.mean_kinetic_temperature, event.low, event.high
            row.updated_at = now
            s.flush()
            return excursion_record(row)

    def set_excursion_disposition(self, excursion_id: int, disposition: str, by: str, note: str | None = None, *,
                                  now: datetime | None = None) -> Excursion:
        """Sign off what happens to the product (usable, quarantine, discard)."""
        now, by = self._now(now), self._who(by)
        with self._tx() as s:
            row = s.get(ExcursionRow, excursion_id)
            if row is None:
                raise LookupError(f"no excursion {excursion_id}")
            row.disposition, row.disposition_by, row.disposition_at, row.disposition_note = disposition, by, now, note
            return excursion_record(row)

    def list_excursions(self, sensor: str | None = None, asset: str | None = None) -> list[Excursion]:
        """Excursion records, oldest first, of a sensor or asset (or all)."""
        query = select(ExcursionRow)
        if sensor is not None:
            query = query.where(ExcursionRow.sensor == sensor)
        if asset is not None:
            query = query.where(ExcursionRow.asset == asset)
        with self._read() as s:
            return [excursion_record(r) for r in s.scalars(query.order_by(ExcursionRow.started_at)).all()]

    def save_engine_state(self, state: dict[str, Any]) -> None:
        """Keep the rules engine's snapshot, or the changes since the last
        one (`RulesEngine.take_changes`), so its timers survive a restart."""
        rows = engine_state.rows_of(state)
        with self._tx() as s:
            engine_state.write(s, rows, complete=state.get("complete", True))

    def prune_engine_state(self, keep: set[str]) -> None:
        """End a complete snapshot saved in slices: forget the state groups
        not in `keep` (sensors and rules no longer configured)."""
        with self._tx() as s:
            engine_state.prune(s, keep)

    def load_engine_state(self) -> dict[str, Any] | None:
        """The snapshot the saves add up to, or None."""
        with self._read() as s:
            return engine_state.load(s)


def open_store(url: str, **options: Any) -> AlertStore:
    """Open the alert store at SQLAlchemy `url` (e.g. `Settings.database`),
    running its migrations to head first. `options` go to `AlertStore`
    (registry, oncall, damping, work_order_policy, console_url, clock)."""
    engine = create_store_engine(url)
    try:
        migrate(engine)
    except Exception:
        engine.dispose()
        raise
    return AlertStore(engine, **options)
