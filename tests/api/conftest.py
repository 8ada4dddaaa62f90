"""The API over a real alert store (SQLite in a temporary directory) and the
session's real InfluxDB, with one token per role and a client for each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store
from api.app import create_app
from api.readings import ReadingsSource
from api.roles import Role
from api.tokens import create_token
from tests.api.apikit import API_ROLLUPS, ONCALL, api_influx
from vigil.infra.local import LocalServices
from vigil.registry import Registry


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory, small_registry: Registry) -> Iterator[AlertStore]:
    path: Path = tmp_path_factory.mktemp("api-store") / "vigil.db"
    store = open_store(f"sqlite:///{path}", registry=small_registry, oncall=OnCallConfig.model_validate(ONCALL))
    yield store
    store.close()


@pytest.fixture(scope="session")
def api_app(services: LocalServices, small_registry: Registry, api_store: AlertStore) -> Iterator[FastAPI]:
    readings = ReadingsSource(api_influx(services), small_registry, rollups=API_ROLLUPS)
    yield create_app(services.settings, small_registry, api_store, readings=readings)
    readings.close()


@pytest.fixture(scope="session")
def tokens(api_app: FastAPI, api_store: AlertStore) -> dict[Role, str]:
    """One token per role, named after it ("test-oncall", ...)."""
    return {role: create_token(api_store.engine, f"test-{role.value}", role)[1] for role in Role}


@pytest.fixture
def fresh_client(services: LocalServices, small_registry: Registry, api_store: AlertStore,
                 tokens: dict[Role, str]) -> Iterator[TestClient]:
    """A viewer's client on a new app: its live-status cache starts empty, so
    readings written by the test are seen."""
    readings = ReadingsSource(api_influx(services), small_registry, rollups=API_ROLLUPS)
    app = create_app(services.settings, small_registry, api_store, readings=readings)
    with TestClient(app, headers={"Authorization": f"Bearer {tokens[Role.VIEWER]}"}) as client:
        yield client
    readings.close()


@pytest.fixture(scope="session")
def anonymous(api_app: FastAPI) -> TestClient:
    return TestClient(api_app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def clients(api_app: FastAPI, tokens: dict[Role, str]) -> dict[Role, TestClient]:
    """An authenticated client per role."""
    return {role: TestClient(api_app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False)
            for role, token in tokens.items()}


@pytest.fixture
def viewer(clients: dict[Role, TestClient]) -> TestClient:
    return clients[Role.VIEWER]


@pytest.fixture
def technician(clients: dict[Role, TestClient]) -> TestClient:
    return clients[Role.TECHNICIAN]


@pytest.fixture
def oncall(clients: dict[Role, TestClient]) -> TestClient:
    return clients[Role.ONCALL]


@pytest.fixture
def admin(clients: dict[Role, TestClient]) -> TestClient:
    return clients[Role.ADMIN]
