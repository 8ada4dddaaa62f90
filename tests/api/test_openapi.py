"""The committed OpenAPI snapshot (api/openapi.json) and the offline docs."""

from __future__ import annotations

import json
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.openapi import SNAPSHOT, render


def test_the_schema_matches_the_committed_snapshot(api_app: FastAPI) -> None:
    current = render(api_app.openapi())
    assert current == SNAPSHOT.read_text(), (
        "The API's OpenAPI schema differs from the committed api/openapi.json. If the change is intended, refresh the "
        "snapshot with `.venv/bin/python -m api.openapi`, review the diff and commit it (clients are built against it)."
    )


def test_every_operation_has_a_tag_and_a_stable_operation_id() -> None:
    operations = [op for ops in json.loads(SNAPSHOT.read_text())["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z_]+", i) for i in ids)
    assert all(op.get("tags") for op in operations)


def test_swagger_ui_is_served_without_a_cdn(anonymous: TestClient) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text) == []
    assert "/docs/static/swagger-ui-bundle.js" in page.text and "/openapi.json" in page.text
    bundle = anonymous.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert anonymous.get("/docs/static/swagger-ui.css").status_code == 200
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "Vigil API"
