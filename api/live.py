"""The live stream's pure half: where a client stands in the two event logs
(alert events, work-order events) and the order changes go out in.

A stream position is one `Last-Event-ID` string, "<alert event id>-<work
order event id>": the two logs have their own autoincrement ids, so a client
that reconnects must hand back both to miss nothing and get nothing twice.

Ids are handed out at insert, not at commit: on PostgreSQL a transaction can
commit id 11 while another still holds id 10. `SkippedIds` remembers such
holes for a while and the stream asks for them again, so the late event
still goes out (a rolled-back insert leaves a hole that never fills).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from pydantic import BaseModel

from alerts.store import Alert, AlertEvent
from alerts.workorders import WorkOrder, WorkOrderEvent

POSITION_PATTERN = r"^\d{1,18}-\d{1,18}$"
_POSITION = re.compile(POSITION_PATTERN)


class AlertChange(BaseModel):
    """`event: alert`: an alert's audit-trail line and the alert as it is now."""

    event: AlertEvent
    alert: Alert


class WorkOrderChange(BaseModel):
    """`event: work_order`: a work order's history line and the order as it is now."""

    event: WorkOrderEvent
    work_order: WorkOrder


Change = AlertChange | WorkOrderChange


@dataclass(frozen=True)
class StreamPosition:
    """The last alert event and the last work-order event a client has seen."""

    alert_event: int = 0
    work_order_event: int = 0

    @classmethod
    def parse(cls, text: str) -> StreamPosition:
        """The position a `Last-Event-ID` names; ValueError when it names none."""
        if not _POSITION.match(text):
            raise ValueError(f"a stream position reads '<alert event id>-<work order event id>', not {text!r}")
        alert_event, work_order_event = text.split("-")
        return cls(int(alert_event), int(work_order_event))

    def __str__(self) -> str:
        return f"{self.alert_event}-{self.work_order_event}"

    def after(self, change: Change) -> StreamPosition:
        """The position once `change` has been sent."""
        if isinstance(change, AlertChange):
            return replace(self, alert_event=max(self.alert_event, change.event.id))
        return replace(self, work_order_event=max(self.work_order_event, change.event.id))


def interleave(position: StreamPosition, alerts: Sequence[AlertChange],
               work_orders: Sequence[WorkOrderChange]) -> Iterator[tuple[Change, StreamPosition]]:
    """The changes of both logs in the order they were recorded, each with the
    position to send as its id. Each log keeps its id order, so the position
    only ever moves forward."""
    merged: Iterator[Change] = heapq.merge(alerts, work_orders, key=lambda change: change.event.at)
    for change in merged:
        position = position.after(change)
        yield change, position


@dataclass
class SkippedIds:
    """Ids of one log passed over because they were not there yet, each with
    when it was first missed; asked for again until found or `grace` seconds old."""

    grace: float = 30.0
    missing: dict[int, float] = field(default_factory=dict)

    def wanted(self, now: float) -> list[int]:
        """The holes still worth asking for (older ones are forgotten)."""
        self.missing = {i: since for i, since in self.missing.items() if now - since < self.grace}
        return sorted(self.missing)

    def saw(self, after: int, ids: Iterable[int], now: float) -> None:
        """Record the ids a poll for ids above `after` (and the holes) returned."""
        highest = after
        for i in sorted(ids):
            self.missing.pop(i, None)
            if i > highest:
                for hole in range(highest + 1, min(i, highest + 1 + 1000)):  # a bounded scan: never a huge range
                    self.missing.setdefault(hole, now)
                highest = i
