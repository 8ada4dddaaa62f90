"""Where the alerts service puts what the rules engine says: the alert store
(state, audit, escalation, work orders) and, on their own thread, the
notifications, so a slow mail server never holds up the evaluation."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from alerts.model import ExcursionEvent, Transition
from alerts.notify import Dispatcher
from alerts.store import AlertStore

log = logging.getLogger("vigil.alerts")


class StoreSink:
    def __init__(self, store: AlertStore, dispatcher: Dispatcher, deliver_every_s: float = 5.0):
        self.store = store
        self.dispatcher = dispatcher
        self.deliver_every_s = deliver_every_s
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def transition(self, t: Transition) -> None:
        if self.store.apply(t):
            self._wake.set()  # something to send: do not wait for the next round

    def excursion(self, e: ExcursionEvent) -> None:
        self.store.record_excursion(e)

    def periodic(self, now_ns: int) -> None:
        if self.store.process_due(datetime.fromtimestamp(now_ns / 1e9, tz=UTC)):
            self._wake.set()

    def save_engine_state(self, state: dict[str, object]) -> None:
        self.store.save_engine_state(state)

    def prune_engine_state(self, keep: set[str]) -> None:
        self.store.prune_engine_state(keep)

    def load_engine_state(self) -> dict[str, object] | None:
        return self.store.load_engine_state()

    def start(self, stop: threading.Event) -> None:
        """Deliver the outbox on a thread of its own until `stop`."""

        def loop() -> None:
            while not stop.is_set():
                self._wake.wait(self.deliver_every_s)
                self._wake.clear()
                try:
                    self.dispatcher.deliver_due()
                except Exception:  # a delivery bug must not stop alerting; it is logged and retried
                    log.exception("delivering notifications failed")

        self._thread = threading.Thread(target=loop, name="alerts-delivery", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(10)
