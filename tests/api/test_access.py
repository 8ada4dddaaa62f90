"""Every operation in the OpenAPI snapshot, with no token and with each role:
no token is 401 (except /healthz and /readyz), a role below the operation's
`x-min-role` is 403, and the minimum role gets through."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api.openapi import SNAPSHOT
from api.roles import Role

OPERATIONS = [(method.upper(), path, op["x-min-role"])
              for path, ops in json.loads(SNAPSHOT.read_text())["paths"].items() for method, op in ops.items()]
PUBLIC = {"/healthz", "/readyz"}


def concrete(path: str) -> str:
    """Fill path parameters with ids that do not exist, so no call changes anything."""
    return re.sub(r"\{[^}]+\}", lambda m: "999999" if m.group(0).endswith("_id}") else "no-such-thing", path)


def test_every_operation_states_a_role_and_only_probes_are_public() -> None:
    assert {path for _, path, role in OPERATIONS if role == "public"} == PUBLIC
    assert all(role in {r.value for r in Role} for _, path, role in OPERATIONS if path not in PUBLIC)


@pytest.mark.parametrize(("method", "path", "needed"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_roles_are_enforced(method: str, path: str, needed: str, anonymous: TestClient,
                            clients: dict[Role, TestClient]) -> None:
    url = concrete(path)
    response = anonymous.request(method, url)
    if path in PUBLIC:
        assert response.status_code in (200, 503), response.text
        return
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    for role, client in clients.items():
        with client.stream(method, url) as streamed:  # the status only: /stream's body never ends
            status = streamed.status_code
        if role.allows(Role(needed)):
            assert status not in (401, 403), f"{role.value} was refused {method} {path} ({status})"
        else:
            assert status == 403, f"{role.value} got {status} on {method} {path}, which needs {needed}"


def test_a_wrong_or_revoked_token_is_401(api_app: object, anonymous: TestClient, admin: TestClient) -> None:
    assert anonymous.get("/api/v1/sites", headers={"Authorization": "Bearer vgl_000000000000_nope"}).status_code == 401
    assert anonymous.get("/api/v1/sites", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    created = admin.post("/api/v1/tokens", json={"name": "short-lived", "role": "viewer"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert anonymous.get("/api/v1/sites", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert admin.post("/api/v1/tokens/short-lived/revoke").status_code == 204
    assert anonymous.get("/api/v1/sites", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
