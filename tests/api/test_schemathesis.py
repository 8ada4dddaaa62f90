"""Property-based requests generated from the API's own OpenAPI schema
(schemathesis), sent as an admin and as nobody: no response is a 5xx, every
response matches its documented schema, and no response ever contains a
stack trace or a secret from the on-call configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from alerts.oncall import OnCallConfig
from alerts.store import open_store
from api.app import create_app
from api.readings import ReadingsSource
from api.roles import Role
from api.tokens import create_token
from tests.api.apikit import API_ROLLUPS, ONCALL, SECRET_HOOK, api_influx, firing
from vigil.infra.local import LocalServices
from vigil.registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # httpx/starlette chatter about generated bodies

LEAKS = ("Traceback", 'File "', SECRET_HOOK.split("//")[1], "pa55word")


@pytest.fixture(scope="module")
def fuzzed_app(services: LocalServices, small_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    # Its own store: random acknowledgements and silences must not disturb the other API tests.
    path: Path = tmp_path_factory.mktemp("fuzzed-store") / "vigil.db"
    store = open_store(f"sqlite:///{path}", registry=small_registry, oncall=OnCallConfig.model_validate(ONCALL))
    store.apply(firing())  # something to find, acknowledge and resolve
    readings = ReadingsSource(api_influx(services), small_registry, rollups=API_ROLLUPS)
    app = create_app(services.settings, small_registry, store, readings=readings)
    app.state.fuzz_admin = create_token(store.engine, "fuzz-admin", Role.ADMIN)[1]
    yield app
    readings.close()
    store.close()


# The committed snapshot, which tests/api/test_openapi.py holds equal to the
# app's schema. (Loaded at import, not from a fixture: schemathesis's lazy
# fixture loader does not work with pytest 9.) Requests go to the app
# in-process (ASGI).
# /api/v1/stream is left out: its body never ends (tests/api/routes/test_stream_routes.py covers it).
schema = schemathesis.openapi.from_path(Path(__file__).parents[2] / "api" / "openapi.json").exclude(path="/api/v1/stream")
BASE = "http://testserver"


@pytest.fixture(scope="module")
def client(fuzzed_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(fuzzed_app, base_url=BASE, raise_server_exceptions=False) as client:
        yield client


def send(client: TestClient, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response:
    # Through the app's TestClient (httpx): schemathesis's own transport is built
    # on requests and trips over the urllib3-future that grafana-client brings.
    kwargs = {k: v for k, v in case.as_transport_kwargs(base_url=BASE, headers=headers).items() if v is not None}
    if isinstance(kwargs.get("data"), str | bytes):
        kwargs["content"] = kwargs.pop("data")  # httpx's name for a raw body
    return client.request(kwargs.pop("method"), kwargs.pop("url"), **kwargs)


def _no_leaks(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"the response leaks {leak!r}"


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_admin_no_request_makes_a_server_error_or_breaks_the_schema(case: schemathesis.Case, fuzzed_app: FastAPI,
                                                                      client: TestClient) -> None:
    response = send(client, case, {"Authorization": f"Bearer {fuzzed_app.state.fuzz_admin}"})
    # /readyz answers 503 (documented, with per-check JSON) while a dependency is not ready.
    checks = [response_schema_conformance] if case.path == "/readyz" else [not_a_server_error, response_schema_conformance]
    case.validate_response(response, checks=checks)
    _no_leaks(response.text)
    if response.status_code == 422:
        # Validation errors name where the problem is.
        assert all(item["loc"] for item in response.json()["detail"])


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_without_a_token_every_protected_operation_is_refused(case: schemathesis.Case, client: TestClient) -> None:
    response = send(client, case, {})
    public = case.path in ("/healthz", "/readyz")
    undefined_method = case.method.upper() != case.operation.method.upper()
    assert response.status_code < 500 or case.path == "/readyz"
    if undefined_method:
        assert response.status_code == 405
    elif not public:
        # 400: a body that is not JSON at all is refused before the token is looked at (nothing is done either way).
        assert response.status_code in (400, 401, 422), f"{case.method} {case.path}: {response.status_code}"
    _no_leaks(response.text)
