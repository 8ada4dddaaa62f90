"""The committed dashboards, checked as Grafana would load them: schema,
unique uids and panel ids, every panel on the Vigil data source, template
variables defined before use, no reference to anything undefined, and the
JSON up to date with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.build import DEFAULT_FACILITY, GRAFANA_DIR, build, load_built
from dashboards.model import DATASOURCE_UID, GRID_WIDTH, SCHEMA_VERSION, referenced_variables
from vigil.registry import load_registry

PROVISIONING = Path(__file__).parents[2] / "dashboards" / "provisioning"
BUILT = load_built()
IDS = [model["uid"] for _, model in BUILT]


def test_every_dashboard_is_committed_and_up_to_date(tmp_path: Path) -> None:
    fresh = build(load_registry(DEFAULT_FACILITY), tmp_path)
    assert {p.relative_to(tmp_path) for p in fresh} == {p.relative_to(GRAFANA_DIR) for p in GRAFANA_DIR.glob("*/*.json")}
    for path in fresh:
        committed = GRAFANA_DIR / path.relative_to(tmp_path)
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), \
            f"{committed} is stale: run `vigil dashboards build`"


def test_the_six_dashboards_are_there() -> None:
    assert sorted(IDS) == ["vigil-cold-chain", "vigil-energy-water", "vigil-facility-overview", "vigil-medical-gases",
                           "vigil-platform-health", "vigil-uv-lamps"]


def test_dashboard_uids_are_unique_and_valid() -> None:
    assert len(IDS) == len(set(IDS))
    assert all(len(uid) <= 40 and uid.replace("-", "").isalnum() for uid in IDS)


@pytest.mark.parametrize(("folder", "model"), BUILT, ids=IDS)
def test_dashboard_loads_in_grafana_11(folder: str, model: dict[str, Any]) -> None:
    assert model["schemaVersion"] == SCHEMA_VERSION
    assert model["title"] and model["time"]["from"].startswith("now-")
    panels = model["panels"]
    assert panels
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_WIDTH and grid["h"] > 0
        assert panel["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID
            assert target["query"].strip() and "from(bucket:" in target["query"], panel["title"]


def _overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.mark.parametrize(("folder", "model"), BUILT, ids=IDS)
def test_panels_do_not_overlap(folder: str, model: dict[str, Any]) -> None:
    grids = [p["gridPos"] for p in model["panels"]]
    assert not [(i, j) for i in range(len(grids)) for j in range(i + 1, len(grids)) if _overlaps(grids[i], grids[j])]


@pytest.mark.parametrize(("folder", "model"), BUILT, ids=IDS)
def test_variables_are_defined_before_use(folder: str, model: dict[str, Any]) -> None:
    variables = model["templating"]["list"]
    names = [v["name"] for v in variables]
    assert len(names) == len(set(names))
    for i, variable in enumerate(variables):
        assert variable["datasource"]["uid"] == DATASOURCE_UID
        used = referenced_variables(variable["query"])
        assert used <= set(names[:i]), f"${variable['name']} uses {used - set(names[:i])} before it is defined"
    for panel in model["panels"]:
        used = referenced_variables(panel["title"]) | {v for t in panel["targets"] for v in referenced_variables(t["query"])}
        assert used <= set(names), f"{panel['title']}: undefined {used - set(names)}"
        if "repeat" in panel:
            assert panel["repeat"] in names


@pytest.mark.parametrize(("folder", "model"), BUILT, ids=IDS)
def test_queries_read_only_vigil_buckets_and_leave_no_placeholder(folder: str, model: dict[str, Any]) -> None:
    for panel in model["panels"]:
        query = panel["targets"][0]["query"]
        assert "@" not in query, panel["title"]
        for bucket in query.split('from(bucket: "')[1:]:
            assert bucket.split('"')[0] in {"readings", "readings_1m", "readings_1h", "deadletter", "platform"}


def test_panels_over_a_month_read_the_downsampled_buckets() -> None:
    long_ranges = {"90d", "26w", "1y"}
    for _, model in BUILT:
        for panel in model["panels"]:
            reads_hourly = 'from(bucket: "readings_1h")' in panel["targets"][0]["query"]
            assert reads_hourly == (panel.get("timeFrom") in long_ranges), panel["title"]


def test_provisioning_points_grafana_at_the_data_source_and_the_json() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "vigil-influxdb.yaml").read_text())["datasources"]
    (source,) = datasources
    assert source["uid"] == DATASOURCE_UID and source["type"] == "influxdb"
    assert source["jsonData"] == {"version": "Flux", "organization": "vigil", "defaultBucket": "readings", "httpMode": "POST",
                                  "timeInterval": "10s"}
    assert source["secureJsonData"]["token"] == "$VIGIL_INFLUX_TOKEN"
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "vigil.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["foldersFromFilesStructure"] is True
    assert {folder for folder, _ in BUILT} == {p.name for p in GRAFANA_DIR.iterdir() if p.is_dir()}
