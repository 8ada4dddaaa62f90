"""Render the dashboards of one facility registry to the JSON files Grafana
provisions: `grafana/<folder title>/<uid>.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.catalog import all_dashboards
from dashboards.facts import facility_facts
from dashboards.model import Dashboard
from vigil.registry import Registry

GRAFANA_DIR = Path(__file__).parent / "grafana"
DEFAULT_FACILITY = Path(__file__).parent.parent / "examples" / "hospital.yaml"


def dashboards_for(registry: Registry) -> tuple[Dashboard, ...]:
    """Every dashboard, with `registry`'s bands, mains and time zone in its queries."""
    return all_dashboards(facility_facts(registry))


def render(model: dict[str, Any]) -> str:
    """The committed form of a dashboard: stable key order, so diffs are reviewable."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def dashboard_file(out_dir: Path, dashboard: Dashboard) -> Path:
    # Grafana's file provider (foldersFromFilesStructure) names folders after directories.
    return out_dir / dashboard.folder / f"{dashboard.uid}.json"


def build(registry: Registry, out_dir: Path = GRAFANA_DIR) -> dict[Path, bool]:
    """Write every dashboard's JSON under `out_dir`; remove JSON files no dashboard
    owns any more. Returns each file written and whether its content changed."""
    written: dict[Path, bool] = {}
    for dashboard in dashboards_for(registry):
        path = dashboard_file(out_dir, dashboard)
        text = render(dashboard.to_json())
        changed = not path.exists() or path.read_text(encoding="utf-8") != text
        if changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        written[path] = changed
    for stale in out_dir.glob("*/*.json"):
        if stale not in written:
            stale.unlink()
    return written


def load_built(out_dir: Path = GRAFANA_DIR) -> list[tuple[str, dict[str, Any]]]:
    """The committed dashboards: (folder title, dashboard JSON) per file."""
    return [(path.parent.name, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(out_dir.glob("*/*.json"))]
