"""Fixtures for the alert store and notification tests: a controllable
clock, a two-building facility, an on-call config, a store on SQLite and
(when a server is available) on PostgreSQL, and real local SMTP and webhook
receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store
from tests.alerts.notify.notify_kit import SmtpSink, WebhookSink
from tests.alerts.store.postgres_kit import ENV_URL, Databases, LocalPostgres, find_binaries, postgres_url_from_env
from tests.alerts.store.store_kit import CONSOLE, TWO_BUILDINGS, FakeClock, oncall_config
from vigil.registry import Registry, load_registry

StoreFactory = Callable[..., AlertStore]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def facility() -> Registry:
    return load_registry(TWO_BUILDINGS)


@pytest.fixture
def oncall() -> OnCallConfig:
    return oncall_config()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Databases | None]:
    """A PostgreSQL server for the store tests, or None (those tests skip)."""
    url = postgres_url_from_env()
    server = None
    if url is None:
        bindir = find_binaries()
        if bindir is None:
            yield None
            return
        server = LocalPostgres(bindir).start()
        url = server.admin_url
    databases = Databases(url)
    try:
        yield databases
    finally:
        databases.close()
        if server is not None:
            server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same store tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vigil.db'}"
        return
    databases: Databases | None = request.getfixturevalue("postgres")
    if databases is None:
        pytest.skip(f"PostgreSQL is not available: no initdb/postgres binaries (Debian's postgresql package) "
                    f"and {ENV_URL} is not set")
    yield databases.url
    databases.reset()


@pytest.fixture
def make_store(store_url: str, facility: Registry, oncall: OnCallConfig, clock: FakeClock) -> Iterator[StoreFactory]:
    """Open (or re-open, as after a restart) the store on the test's database."""
    opened: list[AlertStore] = []

    def make(**options: Any) -> AlertStore:
        settings: dict[str, Any] = {"registry": facility, "oncall": oncall, "clock": clock, "console_url": CONSOLE}
        settings.update(options)
        store = open_store(store_url, **settings)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> AlertStore:
    return make_store()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink().start()
    yield sink
    sink.stop()
