"""The committed OpenAPI snapshot, api/openapi.json.

Refresh it after an intended API change, and commit the result:

    .venv/bin/python -m api.openapi

tests/api/test_openapi.py fails while the app's schema and the snapshot differ.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import SecretStr

SNAPSHOT = Path(__file__).parent / "openapi.json"


def render(schema: dict[str, Any]) -> str:
    """The schema as committed: sorted keys, two-space indent, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_schema() -> dict[str, Any]:
    """The schema of an app built on a throw-away store (no services needed)."""
    from alerts.store import open_store
    from api.app import create_app
    from api.readings import ReadingsSource
    from vigil.registry import load_registry
    from vigil.settings import InfluxEndpoint, Settings

    settings = Settings()
    registry = load_registry(Path(__file__).parent.parent / "tests" / "data" / "small-facility.yaml")
    endpoint = InfluxEndpoint(url="http://127.0.0.1:1", token=SecretStr("unused"), org="vigil", bucket="readings")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/vigil.db", registry=registry)
        readings = ReadingsSource(endpoint, registry)
        try:
            return create_app(settings, registry, store, readings=readings).openapi()
        finally:
            readings.close()
            store.close()


def main() -> None:
    """Write the snapshot."""
    SNAPSHOT.write_text(render(current_schema()))
    sys.stdout.write(f"wrote {SNAPSHOT}\n")


if __name__ == "__main__":
    main()
