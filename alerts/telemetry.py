"""The alerts service's telemetry for the dashboards, written to the
`platform` bucket every few seconds from a thread of its own, so the rules
engine never waits on InfluxDB.

Each round takes a `StoreSnapshot` of the alert store and turns it into
points, all stamped with the snapshot's time:

- `alerts`: `active` = open alerts (pending, firing, acknowledged) per
  `severity`, `site`, `building`, `family`, `state`; and one untagged `open_total`.
- `work_orders`: `open` = open orders per `sla` (`within_sla`, `due_soon`,
  `breached`), `stage` (`response` until someone responds, then
  `resolution`), `state`, `priority`, `site`, `building`; and one untagged `open_total`.
- `notifications`: `sent` and `failed` delivery attempts per
  `contact_point` and `channel`, counted since the store began (a counter: the
  dashboards show its increase);
- `alerts_engine`: `lag_s` = now minus `sent_at` of the last readings message
  the rules engine judged (how late an alert would be), once it has judged one.

A group with nothing in it has no point; the untagged totals are written on
every round, zero included, so a dashboard finds the newest snapshot even
when nothing is open. Unknown places are tagged "-".

`snapshot_points` is pure; `read_snapshot` and `AlertsTelemetry` do the I/O.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from alerts.store import AlertStore
from alerts.store.schema import NotificationAttemptRow, NotificationRow
from alerts.store.views import Alert
from alerts.workorders import WorkOrder, WorkOrderPolicy
from vigil.settings import InfluxEndpoint

log = logging.getLogger("vigil.alerts.telemetry")

PLATFORM_BUCKET = "platform"
DEFAULT_EVERY_S = 10.0
UNKNOWN = "-"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DeliveryTally:
    """Finished delivery attempts to one contact point over one channel."""

    contact_point: str
    channel: str | None
    sent: int
    failed: int


@dataclass(frozen=True)
class StoreSnapshot:
    """What the dashboards need from the alert store at `taken_at`."""

    taken_at: datetime
    open_alerts: Sequence[Alert]
    open_work_orders: Sequence[WorkOrder]
    deliveries: Sequence[DeliveryTally]
    engine_lag_s: float | None = None


def sla_state(order: WorkOrder, now: datetime, due_soon_fraction: float = WorkOrderPolicy().escalate_fraction) -> tuple[str, str]:
    """(`sla`, `stage`) of an open order: against its response window until
    someone responds, then against its resolution window. Due soon once
    `due_soon_fraction` of the window has passed (when escalation starts)."""
    stage, due = ("response", order.response_due) if order.responded_at is None else ("resolution", order.resolution_due)
    if now > due:
        return "breached", stage
    if now >= order.opened_at + (due - order.opened_at) * due_soon_fraction:
        return "due_soon", stage
    return "within_sla", stage


def _point(measurement: str, tags: dict[str, str], fields: dict[str, int] | dict[str, float], ts_ns: int) -> Point:
    # influxdb-client's Point is untyped (pyproject's mypy overrides relax this for ingest.* only).
    point = Point(measurement)  # type: ignore[no-untyped-call]
    point.time(ts_ns, WritePrecision.NS)  # type: ignore[no-untyped-call]
    for key, value in tags.items():
        point.tag(key, value)  # type: ignore[no-untyped-call]
    for key, number in fields.items():
        point.field(key, number)  # type: ignore[no-untyped-call]
    return point


def snapshot_points(snapshot: StoreSnapshot, due_soon_fraction: float = WorkOrderPolicy().escalate_fraction) -> list[Point]:
    """The `alerts`, `work_orders`, `notifications` and `alerts_engine` points of one snapshot."""
    ts = (snapshot.taken_at - EPOCH) // timedelta(microseconds=1) * 1000
    alerts = Counter((str(a.severity), a.place.site or UNKNOWN, a.building or UNKNOWN, a.family or UNKNOWN, str(a.state))
                     for a in snapshot.open_alerts)
    orders = Counter((*sla_state(o, snapshot.taken_at, due_soon_fraction), str(o.state), str(o.priority), o.site or UNKNOWN,
                      o.building or UNKNOWN) for o in snapshot.open_work_orders)
    points = [_point("alerts", {}, {"open_total": len(snapshot.open_alerts)}, ts),
              _point("work_orders", {}, {"open_total": len(snapshot.open_work_orders)}, ts)]
    points += [_point("alerts", {"severity": sev, "site": site, "building": building, "family": family, "state": state},
                      {"active": n}, ts)
               for (sev, site, building, family, state), n in sorted(alerts.items())]
    points += [_point("work_orders", {"sla": sla, "stage": stage, "state": state, "priority": priority, "site": site,
                                      "building": building}, {"open": n}, ts)
               for (sla, stage, state, priority, site, building), n in sorted(orders.items())]
    points += [_point("notifications", {"contact_point": d.contact_point, "channel": d.channel or UNKNOWN},
                      {"sent": d.sent, "failed": d.failed}, ts)
               for d in sorted(snapshot.deliveries, key=lambda d: (d.contact_point, d.channel or ""))]
    if snapshot.engine_lag_s is not None:
        points.append(_point("alerts_engine", {}, {"lag_s": float(snapshot.engine_lag_s)}, ts))
    return points


def read_snapshot(store: AlertStore, now: datetime) -> StoreSnapshot:
    """The store's open alerts and work orders, and its delivery attempts counted in the database."""
    ok = func.sum(case((NotificationAttemptRow.ok.is_(True), 1), else_=0))
    query = (select(NotificationRow.recipient, NotificationAttemptRow.channel, func.count(), ok)
             .join(NotificationRow, NotificationRow.id == NotificationAttemptRow.notification_id)
             .where(NotificationAttemptRow.ok.is_not(None))  # attempts still under way are neither
             .group_by(NotificationRow.recipient, NotificationAttemptRow.channel))
    with Session(store.engine) as session:
        deliveries = [DeliveryTally(recipient, channel, int(sent or 0), int(total) - int(sent or 0))
                      for recipient, channel, total, sent in session.execute(query).all()]
    return StoreSnapshot(now, store.list_alerts(open_only=True), store.list_work_orders(open_only=True), deliveries)


class AlertsTelemetry:
    """Writes a snapshot's points every `every_s` on a daemon thread."""

    def __init__(self, store: AlertStore, influx: InfluxEndpoint, *, every_s: float = DEFAULT_EVERY_S,
                 bucket: str = PLATFORM_BUCKET, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 engine_lag: Callable[[], float] | None = None):
        if every_s <= 0:
            raise ValueError(f"the telemetry interval must be positive, not {every_s!r} s")
        self.store = store
        self.influx = influx
        self.every_s = every_s
        self.bucket = bucket
        self.clock = clock
        self.engine_lag = engine_lag  # seconds, NaN before the engine has judged anything
        self._thread: threading.Thread | None = None

    def run(self, stop: threading.Event) -> None:
        """Write a round every `every_s` until `stop`; a failed round is logged and the next one tries again."""
        ep = self.influx
        with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org, timeout=10_000) as client:
            write = client.write_api(write_options=SYNCHRONOUS)
            next_round = time.monotonic()
            while not stop.wait(max(0.0, next_round - time.monotonic())):
                next_round += self.every_s
                try:
                    snapshot = read_snapshot(self.store, self.clock())
                    lag = self.engine_lag() if self.engine_lag else math.nan
                    if not math.isnan(lag):
                        snapshot = replace(snapshot, engine_lag_s=lag)
                    write.write(bucket=self.bucket, record=snapshot_points(snapshot, self.store.work_order_policy.escalate_fraction))
                except Exception as exc:  # telemetry must never stop alerting; only the error's type and HTTP status are logged: never the token
                    log.warning("writing alerts telemetry failed: %s %s", type(exc).__name__, getattr(exc, "status", "") or "")

    def start(self, stop: threading.Event) -> None:
        self._thread = threading.Thread(target=self.run, args=(stop,), name="alerts-telemetry", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
