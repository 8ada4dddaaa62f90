"""The console in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) against the real API served by uvicorn on a free loopback port,
over a SQLite store of its own and the session's real InfluxDB."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Playwright, sync_playwright

from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store
from api.app import create_app
from api.readings import ReadingsSource
from api.roles import Role
from api.tokens import create_token, ensure_token_table
from tests.api.apikit import API_ROLLUPS, ONCALL, api_influx
from tests.api.console.browser import Console
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def console_store(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[AlertStore]:
    """The console tests' own store: their alerts, orders and excursions must not
    change what the other API tests find."""
    path: Path = tmp_path_factory.mktemp("console-store") / "vigil.db"
    store = open_store(f"sqlite:///{path}", registry=small_registry, oncall=OnCallConfig.model_validate(ONCALL))
    ensure_token_table(store.engine)
    yield store
    store.close()


@pytest.fixture(scope="session")
def console_tokens(console_store: AlertStore) -> dict[Role, str]:
    """One token per role, named after it ("test-oncall", ...)."""
    return {role: create_token(console_store.engine, f"test-{role.value}", role)[1] for role in Role}


@pytest.fixture(scope="session")
def console_url(services: LocalServices, small_registry: Registry, console_store: AlertStore) -> Iterator[str]:
    """The API, console included, served by uvicorn in a thread."""
    readings = ReadingsSource(api_influx(services), small_registry, rollups=API_ROLLUPS)
    app = create_app(services.settings, small_registry, console_store, readings=readings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="console-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    readings.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def console(browser: Browser, console_url: str) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    tab = Console(page=page, base=console_url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("request", lambda request: tab.urls.append(request.url))
    yield tab
    context.close()

