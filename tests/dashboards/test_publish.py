"""Publishing to Grafana's HTTP API, against a local stand-in that keeps what
it is sent the way Grafana does (by uid) and records every request."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from dashboards.build import load_built
from dashboards.cli import app
from dashboards.model import folder_uid
from dashboards.publish import Change, GrafanaPublisher, InfluxSource

TOKEN = "glsa_standin_secret_0123456789abcdef"
INFLUX_TOKEN = "influx-reader-secret-42"
SOURCE = InfluxSource("http://influxdb:8086", "vigil", INFLUX_TOKEN)


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class GrafanaState:
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {"dashboard", "meta"}
    requests: list[Recorded] = field(default_factory=list)


class RecordingGrafanaStandIn(BaseHTTPRequestHandler):
    """The part of Grafana's HTTP API the publisher uses (/api/datasources,
    /api/folders, /api/dashboards/db, /api/dashboards/uid/<uid>, /api/search),
    answering as Grafana documents it; every request is recorded."""

    state: GrafanaState

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body: Any = json.loads(self.rfile.read(length)) if length else {}
        self.state.requests.append(Recorded(method, url.path, self.headers.get("Authorization"), body))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"message": "Unauthorized"})
        parts = url.path.strip("/").split("/")
        s = self.state
        match method, parts:
            case "GET", ["api", "datasources", "uid", uid]:
                if uid not in s.datasources:
                    return self._reply(404, {"message": "Data source not found"})
                return self._reply(200, s.datasources[uid])
            case ("POST", ["api", "datasources"]) | ("PUT", ["api", "datasources", "uid", _]):
                stored = {k: v for k, v in body.items() if k != "secureJsonData"}
                previous = s.datasources.get(body["uid"], {})
                has_token = "token" in (body.get("secureJsonData") or {}) or previous.get("secureJsonFields", {}).get("token")
                stored["secureJsonFields"] = {"token": bool(has_token)}
                stored["id"] = previous.get("id", len(s.datasources) + 1)
                s.datasources[body["uid"]] = stored
                return self._reply(200, {"datasource": stored, "id": stored["id"], "message": "Datasource added"})
            case "GET", ["api", "folders", uid]:
                if uid not in s.folders:
                    return self._reply(404, {"message": "folder not found"})
                return self._reply(200, s.folders[uid])
            case "POST", ["api", "folders"]:
                s.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": len(s.folders) + 1, "version": 1}
                return self._reply(200, s.folders[body["uid"]])
            case "PUT", ["api", "folders", uid]:
                s.folders[uid] = {**s.folders[uid], "title": body["title"], "version": s.folders[uid]["version"] + 1}
                return self._reply(200, s.folders[uid])
            case "GET", ["api", "dashboards", "uid", uid]:
                if uid not in s.dashboards:
                    return self._reply(404, {"message": "Dashboard not found"})
                return self._reply(200, s.dashboards[uid])
            case "POST", ["api", "dashboards", "db"]:
                model = copy.deepcopy(body["dashboard"])
                earlier = s.dashboards.get(model["uid"])
                model["id"] = earlier["dashboard"]["id"] if earlier else len(s.dashboards) + 1
                model["version"] = earlier["dashboard"]["version"] + 1 if earlier else 1
                s.dashboards[model["uid"]] = {"dashboard": model, "meta": {"folderUid": body.get("folderUid", "")}}
                return self._reply(200, {"status": "success", "uid": model["uid"], "version": model["version"]})
            case "GET", ["api", "search"]:
                query = parse_qs(url.query)
                found = [{"uid": uid, "title": d["dashboard"]["title"], "type": "dash-db", "tags": d["dashboard"].get("tags", [])}
                         for uid, d in s.dashboards.items()]
                if "tag" in query:
                    found = [f for f in found if set(query["tag"]) <= set(f["tags"])]
                return self._reply(200, found)
        return self._reply(404, {"message": "Not found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


@dataclass
class StandIn:
    url: str
    state: GrafanaState


@pytest.fixture
def grafana() -> Iterator[StandIn]:
    state = GrafanaState()
    handler = type("Handler", (RecordingGrafanaStandIn,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandIn(f"http://127.0.0.1:{server.server_address[1]}", state)
    server.shutdown()
    server.server_close()


def built() -> list[tuple[str, str, dict[str, Any]]]:
    return [(folder_uid(folder), folder, model) for folder, model in load_built()]


def changes(report: list[Any]) -> dict[tuple[str, Change], int]:
    out: dict[tuple[str, Change], int] = {}
    for entry in report:
        out[entry.kind, entry.change] = out.get((entry.kind, entry.change), 0) + 1
    return out


def test_first_publish_creates_everything_and_the_second_changes_nothing(grafana: StandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    publisher = GrafanaPublisher(grafana.url, TOKEN)
    first = publisher.publish(SOURCE, built())
    assert changes(first) == {("datasource", Change.CREATED): 1, ("folder", Change.CREATED): 2, ("dashboard", Change.CREATED): 6}
    assert grafana.state.datasources["vigil-influxdb"]["jsonData"]["version"] == "Flux"
    assert {d["meta"]["folderUid"] for d in grafana.state.dashboards.values()} == {"vigil-facilities", "vigil-platform"}
    writes_before = sum(1 for r in grafana.state.requests if r.method != "GET")

    second = GrafanaPublisher(grafana.url, TOKEN).publish(SOURCE, built())
    assert changes(second) == {("datasource", Change.UNCHANGED): 1, ("folder", Change.UNCHANGED): 2, ("dashboard", Change.UNCHANGED): 6}
    assert sum(1 for r in grafana.state.requests if r.method != "GET") == writes_before, "an unchanged publish writes nothing"

    assert all(r.authorization == f"Bearer {TOKEN}" for r in grafana.state.requests)
    shown = caplog.text + "".join(str(e) for e in first + second)
    assert TOKEN not in shown and INFLUX_TOKEN not in shown


def test_a_changed_dashboard_is_updated_alone(grafana: StandIn) -> None:
    publisher = GrafanaPublisher(grafana.url, TOKEN)
    publisher.publish(SOURCE, built())
    edited = built()
    edited[0][2]["title"] += " (renamed)"
    report = publisher.publish(SOURCE, edited)
    updated = [e for e in report if e.change is not Change.UNCHANGED]
    assert [(e.kind, e.uid, e.change) for e in updated] == [("dashboard", edited[0][2]["uid"], Change.UPDATED)]
    assert grafana.state.dashboards[edited[0][2]["uid"]]["dashboard"]["version"] == 2


def test_the_influx_token_is_sent_once_and_again_only_on_rotation(grafana: StandIn) -> None:
    publisher = GrafanaPublisher(grafana.url, TOKEN)
    publisher.publish(SOURCE, built())
    publisher.publish(SOURCE, built())
    sent = [r for r in grafana.state.requests if r.path.startswith("/api/datasources") and r.method != "GET"]
    assert [r.body["secureJsonData"]["token"] for r in sent] == [INFLUX_TOKEN]
    assert publisher.publish_datasource(SOURCE, rotate_token=True).change is Change.UPDATED


def test_a_dashboard_no_longer_built_is_reported_not_deleted(grafana: StandIn) -> None:
    publisher = GrafanaPublisher(grafana.url, TOKEN)
    publisher.publish(SOURCE, built())
    grafana.state.dashboards["vigil-old"] = {"dashboard": {"uid": "vigil-old", "title": "Old", "tags": ["vigil"], "id": 99, "version": 1},
                                             "meta": {"folderUid": "vigil-facilities"}}
    assert publisher.orphans(model["uid"] for _, _, model in built()) == ["vigil-old"]
    assert "vigil-old" in grafana.state.dashboards


def test_a_wrong_token_fails_without_showing_it(grafana: StandIn) -> None:
    wrong = "glsa_wrong_token_value"
    with pytest.raises(Exception) as failure:
        GrafanaPublisher(grafana.url, wrong).publish(SOURCE, built())
    assert wrong not in str(failure.value)


def test_cli_publish_reports_counts_and_never_the_token(grafana: StandIn) -> None:
    env = {"VIGIL_GRAFANA_URL": grafana.url, "VIGIL_GRAFANA_TOKEN": TOKEN, "VIGIL_INFLUX_TOKEN": INFLUX_TOKEN,
           "VIGIL_GRAFANA_INFLUX_URL": "http://influxdb:8086"}
    runner = CliRunner()
    first = runner.invoke(app, ["publish"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "9 created, 0 updated, 0 unchanged"
    second = runner.invoke(app, ["publish"], env=env)
    assert second.output.splitlines()[-1] == "0 created, 0 updated, 9 unchanged"
    assert TOKEN not in first.output + second.output and INFLUX_TOKEN not in first.output + second.output
