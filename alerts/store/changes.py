"""The store's change feed: its two event logs (alert events, work-order
events) read by id, for consumers in other processes such as the API's live
stream. Ids are primary keys, so "after id N" is an indexed range on SQLite
and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from alerts.store.core import StoreCore
from alerts.store.records import alert_event_record, alert_record, work_order_event_record, work_order_record
from alerts.store.schema import AlertEventRow, AlertRow, WorkOrderEventRow, WorkOrderRow
from alerts.store.views import Alert, AlertEvent
from alerts.workorders import WorkOrder, WorkOrderEvent


def _after(column: InstrumentedAttribute[int], last: int, again: Sequence[int]) -> ColumnElement[bool]:
    return or_(column > last, column.in_(again)) if again else column > last


class ChangeFeed(StoreCore):
    def newest_event_ids(self) -> tuple[int, int]:
        """The ids the alert and work-order event logs end at now (0 when empty)."""
        with self._read() as s:
            return (s.scalar(select(func.max(AlertEventRow.id))) or 0,
                    s.scalar(select(func.max(WorkOrderEventRow.id))) or 0)

    def alert_events_after(self, last: int, again: Sequence[int] = (), limit: int = 200) -> list[tuple[AlertEvent, Alert]]:
        """Alert events with ids above `last` or in `again` (ids passed over
        earlier that may have committed since), oldest first, each with its
        alert as it is now."""
        with self._read() as s:
            rows = s.execute(select(AlertEventRow, AlertRow).join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
                             .where(_after(AlertEventRow.id, last, again)).order_by(AlertEventRow.id).limit(limit)).all()
            return [(alert_event_record(e), alert_record(a)) for e, a in rows]

    def work_order_events_after(self, last: int, again: Sequence[int] = (),
                                limit: int = 200) -> list[tuple[WorkOrderEvent, WorkOrder]]:
        """Work-order events as `alert_events_after`, each with its order as it is now."""
        with self._read() as s:
            rows = s.execute(select(WorkOrderEventRow, WorkOrderRow)
                             .join(WorkOrderRow, WorkOrderRow.id == WorkOrderEventRow.work_order_id)
                             .where(_after(WorkOrderEventRow.id, last, again)).order_by(WorkOrderEventRow.id).limit(limit)).all()
            return [(work_order_event_record(e), work_order_record(o)) for e, o in rows]
