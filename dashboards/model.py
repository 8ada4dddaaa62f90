"""The Grafana dashboard JSON model (schemaVersion 39, Grafana 11), as small
typed dataclasses. Only what Vigil's dashboards use is modelled; `to_json`
renders what Grafana's file provisioner and HTTP API accept.

Each panel also states what its query must return (`expects`: `_field`
values or column names), so the tests can run every query against a real
InfluxDB and check the panel would have something to draw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 39
DATASOURCE_UID = "vigil-influxdb"
DATASOURCE = {"type": "influxdb", "uid": DATASOURCE_UID}
GRID_WIDTH = 24

# Grafana's variable syntaxes: $name, ${name}, ${name:format}, [[name]].
VARIABLE_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)\b|\[\[(\w+)\]\]")


def referenced_variables(text: str) -> set[str]:
    """Names of the template variables `text` uses."""
    return {next(g for g in m.groups() if g) for m in VARIABLE_REF.finditer(text)}


def folder_uid(title: str) -> str:
    """The uid of the Grafana folder titled `title` (the same in provisioning and publishing)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass(frozen=True)
class FluxQuery:
    """One Flux target of a panel."""

    query: str
    ref_id: str = "A"

    def to_json(self) -> dict[str, Any]:
        return {"refId": self.ref_id, "datasource": DATASOURCE, "query": self.query}


@dataclass(frozen=True)
class Step:
    """A threshold step: from `value` upwards (None: from minus infinity) the colour is `color`."""

    color: str
    value: float | None = None


@dataclass(frozen=True)
class Panel:
    title: str
    type: str  # timeseries, stat, table, bargauge
    query: FluxQuery
    expects: tuple[str, ...]  # `_field` values or columns the query must return
    description: str = ""
    width: int = 12
    height: int = 8
    unit: str = ""
    decimals: int | None = None
    steps: tuple[Step, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    time_from: str | None = None  # a relative time override ("7d"), as Grafana's "Relative time"
    repeat: str | None = None  # a variable to repeat the panel for, one panel per value
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    bucket: str = "readings"  # the bucket the query reads, documented in the README

    def to_json(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        defaults: dict[str, Any] = {"unit": self.unit} if self.unit else {}
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        if self.minimum is not None:
            defaults["min"] = self.minimum
        if self.maximum is not None:
            defaults["max"] = self.maximum
        if self.steps:
            defaults["thresholds"] = {"mode": "absolute",
                                      "steps": [{"color": s.color, "value": s.value} for s in self.steps]}
        if self.custom:
            defaults["custom"] = dict(self.custom)
        out: dict[str, Any] = {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "targets": [self.query.to_json()],
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": dict(self.options),
        }
        if self.time_from:
            out["timeFrom"] = self.time_from
        if self.repeat:
            out["repeat"] = self.repeat
            out["repeatDirection"] = "h"
            out["maxPerRow"] = 2
        return out


@dataclass(frozen=True)
class Variable:
    """A query template variable, its values read from InfluxDB with Flux."""

    name: str
    label: str
    query: str
    multi: bool = True
    include_all: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": "query",
            "datasource": DATASOURCE,
            "query": self.query,
            "definition": self.query,
            "refresh": 2,  # on time range change: a new asset appears without a reload
            "multi": self.multi,
            "includeAll": self.include_all,
            # "All" matches everything in the regex filters; Grafana would
            # otherwise send every value, which grows with the facility.
            "allValue": ".*" if self.include_all else None,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if self.include_all else {},
            "options": [],
            "sort": 1,
            "hide": 0,
            "skipUrlSync": False,
        }


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    folder: str  # the folder title; its uid is derived (`folder_uid`)
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = ("vigil",)
    time_from: str = "now-24h"
    refresh: str = "1m"

    @property
    def folder_uid(self) -> str:
        return folder_uid(self.folder)

    def to_json(self) -> dict[str, Any]:
        panels: list[dict[str, Any]] = []
        x = y = row_height = 0
        for panel_id, panel in enumerate(self.panels, start=1):
            if x + panel.width > GRID_WIDTH:  # wrap to the next row
                x, y, row_height = 0, y + row_height, 0
            panels.append(panel.to_json(panel_id, x, y))
            x += panel.width
            row_height = max(row_height, panel.height)
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "timezone": "browser",
            "editable": False,  # changes go through dashboards/ in git, not the UI
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "annotations": {"list": []},
            "links": [],
            "templating": {"list": [v.to_json() for v in self.variables]},
            "panels": panels,
        }
