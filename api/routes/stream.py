"""The live stream: alert and work-order changes as Server-Sent Events.

The alerts service runs in another process and writes to the SQL store, so
the stream tails the store's two event logs: about once a second it asks for
events with ids above the last ones sent (an indexed primary-key range, cheap
on SQLite and PostgreSQL alike), and again for ids it passed over that a
slower transaction may still commit (api.live.SkippedIds). Idle streams get FastAPI's keep-alive
comment every 15 s, so proxies do not cut them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

import anyio
from fastapi import APIRouter, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

from alerts.store import AlertStore
from api.deps import StoreDep, Viewer
from api.live import POSITION_PATTERN, AlertChange, SkippedIds, StreamPosition, WorkOrderChange, interleave
from api.tokens import token_is_live

router = APIRouter(tags=["stream"])

POLL_SECONDS = 1.0
BATCH = 200  # events per log per poll; a full batch is followed by another poll at once
RETRY_MS = 3000  # how long a client waits before reconnecting
TOKEN_RECHECK_SECONDS = 30.0


def newest_position(store: AlertStore) -> StreamPosition:
    """Where the logs end now: a client with no Last-Event-ID starts here."""
    return StreamPosition(*store.newest_event_ids())


def changes_after(store: AlertStore, position: StreamPosition, alert_holes: Sequence[int] = (),
                  work_order_holes: Sequence[int] = (), limit: int = BATCH) -> tuple[list[AlertChange], list[WorkOrderChange]]:
    """Events recorded after `position` (and those of the holes given that
    have committed since), oldest first, each with its alert or work order
    as it is now."""
    alerts = store.alert_events_after(position.alert_event, alert_holes, limit)
    orders = store.work_order_events_after(position.work_order_event, work_order_holes, limit)
    return ([AlertChange(event=e, alert=a) for e, a in alerts], [WorkOrderChange(event=e, work_order=o) for e, o in orders])


@router.get("/stream", response_class=EventSourceResponse)
async def stream_changes(
    store: StoreDep,
    who: Viewer,
    last_event_id: Annotated[str | None, Header(
        pattern=POSITION_PATTERN,
        description="resume after this event (the `id:` of the last event received); "
                    "without it the stream starts with the next change")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Alert and work-order changes as Server-Sent Events: `event: alert`
    (data: the audit-trail line and the alert) and `event: work_order` (the
    history line and the order), each with an `id:` to send back as
    `Last-Event-ID` when reconnecting."""
    engine = store.engine
    # The database work runs in a worker thread: the event loop serves other requests meanwhile.
    if last_event_id is not None:
        position = StreamPosition.parse(last_event_id)
    else:
        position = await anyio.to_thread.run_sync(newest_position, store)
    # Sent at once, so the client knows it is connected and where it starts.
    yield ServerSentEvent(comment=f"stream from {position}", retry=RETRY_MS)
    alert_holes, work_order_holes = SkippedIds(), SkippedIds()
    checked = time.monotonic()
    while True:
        now = time.monotonic()
        if now - checked >= TOKEN_RECHECK_SECONDS:
            # A token revoked meanwhile ends its stream; the client's reconnect then gets 401.
            if not await anyio.to_thread.run_sync(token_is_live, engine, who.id):
                return
            checked = now
        alerts, orders = await anyio.to_thread.run_sync(changes_after, store, position, alert_holes.wanted(now),
                                                        work_order_holes.wanted(now))
        alert_holes.saw(position.alert_event, [c.event.id for c in alerts], now)
        work_order_holes.saw(position.work_order_event, [c.event.id for c in orders], now)
        for change, reached in interleave(position, alerts, orders):
            kind = "alert" if isinstance(change, AlertChange) else "work_order"
            yield ServerSentEvent(event=kind, data=change, id=str(reached))
            position = reached
        if len(alerts) < BATCH and len(orders) < BATCH:
            await anyio.sleep(POLL_SECONDS)
