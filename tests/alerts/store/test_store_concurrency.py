"""The service and the CLI share the database: an acknowledgement from
another process while the service applies transitions and escalates, and
two dispatchers racing for the same outbox rows, are both safe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from alerts.model import AlertState
from alerts.notify import Dispatcher
from tests.alerts.conftest import StoreFactory
from tests.alerts.store.store_kit import SENSOR_ASSET, FakeClock, RecordingNotifier, transition

SENSORS = [s for s in SENSOR_ASSET if not s.startswith("elec")]  # no outage: every alert pages


def _run(*jobs: Callable[[], Any]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(job: Callable[[], Any]) -> None:
        try:
            job()
        except BaseException as exc:  # reported below, with the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_the_cli_acknowledges_while_the_service_applies_and_escalates(make_store: StoreFactory, clock: FakeClock) -> None:
    service = make_store()
    cli = make_store()  # another process, as far as the database is concerned
    for sensor in SENSORS:
        service.apply(transition(sensor), clock())

    def service_work() -> None:
        for _ in range(20):
            for sensor in SENSORS:
                service.apply(transition(sensor, value=10.0), clock())
            service.process_due(clock())

    def cli_work() -> None:
        for alert in cli.list_alerts(open_only=True):
            cli.acknowledge(alert.id, "Wang Li", "on it")

    assert _run(service_work, cli_work) == []
    assert {a.state for a in service.list_alerts()} == {AlertState.ACKNOWLEDGED}
    assert service.process_due(clock.advance(hours=2)) == []  # every escalation stopped


def test_two_dispatchers_racing_send_each_notification_once(make_store: StoreFactory, clock: FakeClock) -> None:
    first = make_store()
    second = make_store()
    intents = [n for sensor in SENSORS for n in first.apply(transition(sensor), clock())]
    sent: list[tuple[str, str]] = []
    names = ["wang-mail", "zhang-mail", "chen-mail", "ops-hook"]
    dispatchers = [Dispatcher(store, {n: RecordingNotifier(n, sent) for n in names}) for store in (first, second)]

    jobs = [partial(d.deliver, intents, clock()) for d in dispatchers]
    assert _run(*jobs) == []
    assert sorted(sent) == sorted((n.recipient, n.title) for n in intents)
    assert {r.status for r in first.notifications()} == {"sent"}
