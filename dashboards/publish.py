"""Publish the data source, folders and dashboards to a running Grafana
through its HTTP API, with a service-account token.

Idempotent: everything is addressed by uid, compared with what Grafana holds,
and written only when it differs; each object is reported as created,
updated or unchanged. The token goes in the Authorization header only; it is
never logged or put into a report or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.model import DATASOURCE_UID

log = logging.getLogger(__name__)

DATASOURCE_NAME = "Vigil InfluxDB"
PUBLISH_MESSAGE = "published by `vigil dashboards publish`"


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Published:
    kind: str  # datasource, folder, dashboard
    uid: str
    title: str
    change: Change

    def __str__(self) -> str:
        return f"{self.kind} {self.uid} ({self.title}): {self.change.value}"


@dataclass(frozen=True)
class InfluxSource:
    """Where Grafana reads InfluxDB; the token is the `reader` token."""

    url: str
    org: str
    token: str
    bucket: str = "readings"

    def model(self) -> dict[str, Any]:
        return {
            "uid": DATASOURCE_UID,
            "name": DATASOURCE_NAME,
            "type": "influxdb",
            "access": "proxy",
            "url": self.url,
            "isDefault": True,
            "jsonData": {"version": "Flux", "organization": self.org, "defaultBucket": self.bucket, "httpMode": "POST"},
        }


def _not_found(exc: GrafanaClientError) -> bool:
    return getattr(exc, "status_code", None) == 404


class GrafanaPublisher:
    """Publishes to the Grafana at `url`; `api` may be handed in (tests)."""

    def __init__(self, url: str, token: str, *, api: GrafanaApi | None = None, timeout: float = 10.0):
        self.api = api or GrafanaApi.from_url(url, credential=token, timeout=timeout)

    def _get(self, call: Any, *args: Any) -> dict[str, Any] | None:
        try:
            found = call(*args)
        except GrafanaClientError as exc:
            if _not_found(exc):
                return None
            raise
        return dict(found) if found else None

    def publish_datasource(self, source: InfluxSource, *, rotate_token: bool = False) -> Published:
        wanted = source.model()
        existing = self._get(self.api.datasource.get_datasource_by_uid, DATASOURCE_UID)
        secure = {"secureJsonData": {"token": source.token}}
        if existing is None:
            self.api.datasource.create_datasource({**wanted, **secure})
            change = Change.CREATED
        else:
            has_token = bool((existing.get("secureJsonFields") or {}).get("token"))
            same = all(existing.get(k) == v for k, v in wanted.items() if k != "jsonData") and all(
                (existing.get("jsonData") or {}).get(k) == v for k, v in wanted["jsonData"].items())
            if same and has_token and not rotate_token:
                change = Change.UNCHANGED
            else:
                # Grafana never returns the token, so it is sent again only when needed.
                body = {**wanted, **(secure if rotate_token or not has_token else {})}
                self.api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
                change = Change.UPDATED
        return Published("datasource", DATASOURCE_UID, DATASOURCE_NAME, change)

    def publish_folder(self, uid: str, title: str) -> Published:
        existing = self._get(self.api.folder.get_folder, uid)
        if existing is None:
            self.api.folder.create_folder(title, uid=uid)
            change = Change.CREATED
        elif existing.get("title") != title:
            self.api.folder.update_folder(uid, title=title, overwrite=True)
            change = Change.UPDATED
        else:
            change = Change.UNCHANGED
        return Published("folder", uid, title, change)

    def publish_dashboard(self, model: dict[str, Any], folder_uid: str) -> Published:
        uid, title = str(model["uid"]), str(model.get("title", ""))
        existing = self._get(self.api.dashboard.get_dashboard, uid)
        if existing is not None and _comparable(existing.get("dashboard") or {}) == _comparable(model) \
                and (existing.get("meta") or {}).get("folderUid") == folder_uid:
            return Published("dashboard", uid, title, Change.UNCHANGED)
        body = {k: v for k, v in model.items() if k not in ("id", "version")}
        self.api.dashboard.update_dashboard({"dashboard": body, "folderUid": folder_uid, "overwrite": True,
                                             "message": PUBLISH_MESSAGE})
        return Published("dashboard", uid, title, Change.CREATED if existing is None else Change.UPDATED)

    def orphans(self, uids: Iterable[str]) -> list[str]:
        """Vigil-tagged dashboards in Grafana that this build no longer has (reported, never deleted)."""
        known = set(uids)
        found = self.api.search.search_dashboards(tag="vigil", type_="dash-db") or []
        return sorted(str(d["uid"]) for d in found if d.get("uid") not in known)

    def publish(self, source: InfluxSource, dashboards: Iterable[tuple[str, str, dict[str, Any]]],
                *, rotate_token: bool = False) -> list[Published]:
        """The data source, then each folder, then each dashboard: (folder uid, folder title, model)."""
        items = list(dashboards)
        report = [self.publish_datasource(source, rotate_token=rotate_token)]
        for folder_uid, folder_title in dict.fromkeys((u, t) for u, t, _ in items):
            report.append(self.publish_folder(folder_uid, folder_title))
        for folder_uid, _, model in items:
            report.append(self.publish_dashboard(model, folder_uid))
        for entry in report:
            log.info("%s", entry)
        return report


def _comparable(model: dict[str, Any]) -> dict[str, Any]:
    # Grafana assigns id and version itself.
    return {k: v for k, v in model.items() if k not in ("id", "version")}
