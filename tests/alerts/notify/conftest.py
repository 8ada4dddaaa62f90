"""Fixtures for the notification tests: a store (SQLite) whose contact points
are the real local SMTP server and webhook receiver, and a dispatcher with
fast retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.notify import Dispatcher, RetryPolicy, notifiers_for
from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store
from tests.alerts.notify.notify_kit import SmtpSink, WebhookSink
from tests.alerts.store.store_kit import CONSOLE, FakeClock, oncall_config
from vigil.registry import Registry

FAST_RETRY = RetryPolicy(max_attempts=3, first_backoff=timedelta(seconds=10), factor=2)


def live_oncall(smtp: SmtpSink, webhook: WebhookSink, hook_url: str | None = None) -> OnCallConfig:
    """The kit's on-call config with its contact points on the local servers;
    critical alerts also go to the ops webhook."""
    base = oncall_config()
    policies = {name: policy.model_dump(mode="json") for name, policy in base.escalation_policies.items()}
    policies["critical"]["tiers"][0]["notify"].append({"contact_point": "ops-hook"})
    return oncall_config(
        contact_points={
            "wang-mail": smtp.url("wang@hospital.test"),
            "zhang-mail": smtp.url("zhang@hospital.test"),
            "chen-mail": smtp.url("chen@hospital.test"),
            "ops-hook": hook_url or webhook.url("/hook"),
        },
        escalation_policies=policies,
    )


@dataclass
class Live:
    store: AlertStore
    dispatcher: Dispatcher
    clock: FakeClock
    smtp: SmtpSink
    webhook: WebhookSink


LiveFactory = Callable[..., Live]


@pytest.fixture
def make_live(tmp_path: Path, facility: Registry, clock: FakeClock, smtp_sink: SmtpSink,
              webhook_sink: WebhookSink) -> Iterator[LiveFactory]:
    stores: list[AlertStore] = []

    def make(hook_url: str | None = None, retry: RetryPolicy = FAST_RETRY) -> Live:
        oncall = live_oncall(smtp_sink, webhook_sink, hook_url)
        store = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", registry=facility, oncall=oncall, clock=clock,
                           console_url=CONSOLE)
        stores.append(store)
        dispatcher = Dispatcher(store, notifiers_for(oncall.contact_points, timeout_s=5), retry=retry, clock=clock)
        return Live(store, dispatcher, clock, smtp_sink, webhook_sink)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def live(make_live: LiveFactory) -> Live:
    return make_live()
