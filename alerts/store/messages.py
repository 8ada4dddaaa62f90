"""What a notification says. Pure.

Every alert message answers: what happened, where (site, building, floor,
room, asset), the value and the limit, since when (in the site's local time),
and how to acknowledge it. Work-order messages say what to do, where, and by
when a response is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.notify.base import NotificationKind
from alerts.store.views import Alert, Place
from alerts.workorders import WorkOrder
from vigil.kinds import METRICS, SensorKind

ACK_COMMAND = "vigil alerts ack {id} --by NAME --note TEXT"
WORK_ORDER_COMMAND = "vigil orders respond {id} --by NAME --note TEXT"


def format_time(at: datetime, timezone: str) -> str:
    """"2026-11-23 18:05 Asia/Shanghai (UTC+08:00)"."""
    try:
        local = at.astimezone(ZoneInfo(timezone))
    except (KeyError, ValueError):
        local, timezone = at, "UTC"
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    return f"{local:%Y-%m-%d %H:%M} {timezone} (UTC{offset})"


def format_duration(span: timedelta) -> str:
    """"42 min", "3 h 5 min", "2 d 4 h"."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_value(value: float | bool | None, metric: str | None, family: str | None) -> str:
    """The value with its unit, e.g. "9.2 °C (temperature)"."""
    if value is None:
        return "n/a"
    unit = ""
    if metric and family is not None and family in SensorKind.__members__.values():
        spec = METRICS[SensorKind(family)].get(metric)
        unit = spec.display if spec else ""
    text = ("yes" if value else "no") if isinstance(value, bool) else f"{value:g}"
    text = f"{text} {unit}".strip()
    return f"{text} ({metric})" if metric else text


def _console_link(console_url: str | None, path: str) -> str | None:
    return f"{console_url.rstrip('/')}/{path}" if console_url else None


def render_alert(alert: Alert, kind: NotificationKind, *, now: datetime, console_url: str | None = None,
                 tier: int | None = None, tiers: int | None = None, waited: timedelta | None = None,
                 cause: Alert | None = None) -> tuple[str, str]:
    """(title, body) of a firing, escalation or resolved message."""
    tz = alert.place.timezone
    sev = alert.severity.value.upper()
    if kind is NotificationKind.RESOLVED:
        title = f"[RESOLVED] #{alert.id}: {alert.summary}"
        head = f"RESOLVED: {alert.summary}"
    elif kind is NotificationKind.ESCALATION:
        title = f"[{sev}] ESCALATED #{alert.id} (tier {(tier or 0) + 1}): {alert.summary}"
        head = f"STILL FIRING, NOT ACKNOWLEDGED: {alert.summary}"
    else:
        title = f"[{sev}] FIRING #{alert.id}: {alert.summary}"
        head = f"FIRING: {alert.summary}"
    where = alert.place.describe()
    if alert.sensor and alert.sensor != alert.asset:
        where += f"; sensor {alert.sensor}"
    lines = [head, "", f"Where:    {where}"]
    lines.append(f"Value:    {format_value(alert.value, alert.metric, alert.family)}")
    if alert.limit:
        lines.append(f"Limit:    {alert.limit}")
    since = alert.since or alert.fired_at or alert.opened_at
    lines.append(f"Since:    {format_time(since, tz)}, {format_duration(now - since)} ago")
    if kind is NotificationKind.RESOLVED and alert.resolved_at is not None:
        who = "" if alert.resolved_by in (None, "engine") else f" by {alert.resolved_by}"
        lines.append(f"Resolved: {format_time(alert.resolved_at, tz)}{who}, after {format_duration(alert.resolved_at - since)}")
    lines.append(f"Severity: {alert.severity.value}")
    lines.append(f"Alert:    #{alert.id}, rule {alert.rule_id}")
    if cause is not None:
        lines.append(f"Cause:    probably alert #{cause.id}: {cause.summary}")
    if kind is NotificationKind.ESCALATION and tier is not None:
        waited_text = f" within {format_duration(waited)}" if waited is not None else ""
        of = f" of {tiers}" if tiers else ""
        lines.append(f"Escalation: tier {tier + 1}{of}; nobody acknowledged{waited_text}")
    if kind is not NotificationKind.RESOLVED:
        lines.append("")
        lines.append(f"Acknowledge: {ACK_COMMAND.format(id=alert.id)}")
    link = _console_link(console_url, f"alerts/{alert.id}")
    if link:
        lines.append(f"Console:  {link}")
    return title, "\n".join(lines) + "\n"


def render_work_order(order: WorkOrder, kind: NotificationKind, *, now: datetime,
                      console_url: str | None = None) -> tuple[str, str]:
    """(title, body) of a work-order message."""
    tz = str(order.place.get("timezone") or "UTC")
    prio = order.priority.value.upper()
    if kind is NotificationKind.WORK_ORDER_ESCALATED:
        title = f"[{prio}] NO RESPONSE {order.number}: {order.title}"
        head = f"Half the response window has passed without a response: {order.title}"
    elif kind is NotificationKind.WORK_ORDER_OVERDUE:
        title = f"[{prio}] RESPONSE OVERDUE {order.number}: {order.title}"
        head = f"The response window has passed without a response: {order.title}"
    else:
        title = f"[{prio}] NEW {order.number}: {order.title}"
        head = f"New work order: {order.title}"
    lines = [head, "", f"Where:    {Place.from_json(order.place).describe()}"]
    if order.description:
        lines.append(f"What:     {order.description}")
    lines.append(f"Priority: {order.priority.value}; respond by {format_time(order.response_due, tz)}"
                 f" ({format_duration(order.response_due - order.opened_at)} window)")
    lines.append(f"Opened:   {format_time(order.opened_at, tz)} by {order.opened_by} ({order.source})")
    if order.alert_id is not None:
        lines.append(f"Alert:    #{order.alert_id}")
    if order.assigned_to:
        lines.append(f"Assigned: {order.assigned_to}")
    lines.append("")
    lines.append(f"Respond:  {WORK_ORDER_COMMAND.format(id=order.id)}")
    link = _console_link(console_url, f"work-orders/{order.id}")
    if link:
        lines.append(f"Console:  {link}")
    return title, "\n".join(lines) + "\n"
