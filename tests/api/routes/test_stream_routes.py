"""The live stream (/api/v1/stream): changes made through the store, as the
alerts service makes them from its own process, arrive as Server-Sent Events
with ids a reconnecting client resumes from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alerts.oncall import OnCallConfig
from alerts.store import AlertStore, open_store, utc_now
from alerts.store.db import create_store_engine
from alerts.store.schema import AlertEventRow
from api.app import create_app
from api.live import SkippedIds, StreamPosition
from api.readings import ReadingsSource
from api.roles import Role
from api.routes import stream as stream_routes
from api.tokens import create_token, ensure_token_table, revoke_token
from tests.alerts.store.postgres_kit import ENV_URL, Databases, LocalPostgres, find_binaries, postgres_url_from_env
from tests.api.apikit import API_ROLLUPS, ONCALL, api_influx, firing
from tests.conftest import SMALL_FACILITY
from vigil.infra.local import LocalServices
from vigil.infra.process import free_port
from vigil.registry import Registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@dataclass
class Message:
    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads("\n".join(self.data))
        return loaded


def messages(lines: Iterator[str]) -> Iterator[Message]:
    """SSE messages (event, id, data, comment lines), parsed as the spec says."""
    current = Message()
    for line in lines:
        if line == "":
            yield current
            current = Message()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "data":
                current.data.append(value)


def next_event(stream: Iterator[Message], kind: str, action: str | None = None) -> Message:
    """The next `kind` event (whose change is `action`, if given)."""
    return next(m for m in stream if m.event == kind and (action is None or m.json()["event"]["action"] == action))


@pytest.fixture
def auth(tokens: dict[Role, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[Role.VIEWER]}"}


def test_an_alert_acknowledged_through_the_store_shows_up_on_the_stream(
        anonymous: TestClient, api_store: AlertStore, auth: dict[str, str]) -> None:
    with anonymous.stream("GET", "/api/v1/stream", headers=auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = messages(response.iter_lines())
        hello = next(stream)
        assert hello.comments and hello.comments[0].startswith("stream from ")
        api_store.apply(firing(rule="stream-ack"))
        opened = next_event(stream, "alert").json()
        alert = opened["alert"]
        assert isinstance(alert, dict) and alert["rule_id"].endswith("stream-ack")
        api_store.acknowledge(alert["id"], by="Wang Li", note="door closed")
        acked = next_event(stream, "alert", "acknowledged")
        data = acked.json()
        assert data["event"]["action"] == "acknowledged" and data["event"]["note"] == "door closed"
        assert data["alert"]["state"] == "acknowledged" and data["alert"]["acknowledged_by"] == "Wang Li"
        assert acked.id is not None and StreamPosition.parse(acked.id).alert_event == data["event"]["id"]


def test_a_work_order_change_shows_up_as_a_work_order_event(anonymous: TestClient, api_store: AlertStore,
                                                            auth: dict[str, str]) -> None:
    with anonymous.stream("GET", "/api/v1/stream", headers=auth) as response:
        stream = messages(response.iter_lines())
        next(stream)
        order = api_store.open_work_order("stream-test: door seal", asset="vac-fridge-1", source="api", by="Zhang Wei")
        api_store.respond_work_order(order.id, by="Zhang Wei", note="on site")
        changes = [next_event(stream, "work_order").json() for _ in range(2)]
    assert [c["work_order"]["id"] for c in changes] == [order.id, order.id]
    assert changes[1]["event"]["to_state"] == "responded"
    assert changes[1]["work_order"]["state"] == "responded"


def test_a_client_resuming_with_last_event_id_gets_what_it_missed_and_nothing_twice(
        anonymous: TestClient, api_store: AlertStore, auth: dict[str, str]) -> None:
    with anonymous.stream("GET", "/api/v1/stream", headers=auth) as response:
        stream = messages(response.iter_lines())
        next(stream)
        api_store.apply(firing(rule="stream-resume"))
        seen = next_event(stream, "alert")
        alert_id = seen.json()["alert"]["id"]
    # While the client is away: a comment, then a resolve.
    api_store.comment(alert_id, by="Wang Li", note="calling the engineer")
    api_store.resolve(alert_id, by="Wang Li", note="compressor restarted")
    with anonymous.stream("GET", "/api/v1/stream", headers={**auth, "Last-Event-ID": str(seen.id)}) as response:
        stream = messages(response.iter_lines())
        missed: list[dict[str, Any]] = []
        while not missed or missed[-1]["event"]["action"] != "resolved":
            missed.append(next_event(stream, "alert").json())
    # Every event after the one seen, in order, once: the ids run on without a gap.
    ids = [m["event"]["id"] for m in missed]
    first = StreamPosition.parse(str(seen.id)).alert_event
    assert ids == list(range(first + 1, first + 1 + len(ids)))
    actions = [m["event"]["action"] for m in missed]
    assert actions.index("comment") < actions.index("resolved")
    assert missed[-1]["alert"]["state"] == "resolved"


def test_the_stream_needs_a_token(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/stream")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_malformed_last_event_id_is_422_naming_the_header(anonymous: TestClient, auth: dict[str, str]) -> None:
    response = anonymous.get("/api/v1/stream", headers={**auth, "Last-Event-ID": "12; drop table"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "last-event-id"]


def test_stream_positions_round_trip_and_refuse_anything_else() -> None:
    assert StreamPosition.parse("12-7") == StreamPosition(12, 7)
    assert str(StreamPosition(12, 7)) == "12-7"
    for bad in ("", "12", "a-b", "-1-2", "1-2-3"):
        with pytest.raises(ValueError, match="stream position"):
            StreamPosition.parse(bad)


def test_vigil_api_serve_stops_promptly_with_a_stream_open(services: LocalServices, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = create_store_engine(database)
    ensure_token_table(engine)
    secret = create_token(engine, "wall screen", Role.VIEWER)[1]
    engine.dispose()
    port = free_port()
    env = {**os.environ, "VIGIL_STATE_DIR": str(services.settings.state_dir), "VIGIL_DATABASE_URL": database,
           "VIGIL_FACILITY": str(SMALL_FACILITY)}
    server = subprocess.Popen([sys.executable, "-m", "vigil.cli", "api", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "vigil api serve did not start"
                time.sleep(0.2)
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/v1/stream", timeout=10,
                          headers={"Authorization": f"Bearer {secret}"}) as response:
            assert response.status_code == 200
            assert next(response.iter_lines()).startswith(": stream from ")
            stopping = time.monotonic()
            server.terminate()
            # uvicorn re-raises the signal once it has shut down cleanly: -SIGTERM, after "Finished".
            assert server.wait(timeout=20) == -signal.SIGTERM
            assert time.monotonic() - stopping < 10
        assert server.stderr is not None and "Finished server process" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_idle_streams_get_a_heartbeat_comment(anonymous: TestClient, auth: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.3)  # FastAPI's keep-alive: 15 s in service
    with anonymous.stream("GET", "/api/v1/stream", headers=auth) as response:
        stream = messages(response.iter_lines())
        next(stream)
        idle = next(stream)
    assert idle.event is None and idle.data == [] and idle.comments == ["ping"]


def test_revoking_a_token_ends_its_open_stream(anonymous: TestClient, api_store: AlertStore,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_routes, "TOKEN_RECHECK_SECONDS", 0.2)
    secret = create_token(api_store.engine, "stream-revoked", Role.VIEWER)[1]
    with anonymous.stream("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {secret}"}) as response:
        stream = messages(response.iter_lines())
        next(stream)
        assert revoke_token(api_store.engine, "stream-revoked")
        assert [m for m in stream if m.event is not None] == []  # the stream ends, having sent nothing more
    assert anonymous.get("/api/v1/stream", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_ids_passed_over_are_asked_for_again_for_a_while() -> None:
    holes = SkippedIds(grace=30)
    holes.saw(10, [11, 14, 15], now=0)
    assert holes.wanted(now=1) == [12, 13]
    holes.saw(15, [13, 16], now=2)  # 13 committed late
    assert holes.wanted(now=3) == [12]
    assert holes.wanted(now=31) == []  # a rolled-back insert leaves a hole that never fills


@pytest.fixture(scope="module")
def postgres_store(small_registry: Registry) -> Iterator[AlertStore]:
    """An alert store on a real PostgreSQL (Debian's binaries, or VIGIL_TEST_POSTGRES_URL)."""
    url, server = postgres_url_from_env(), None
    if url is None:
        bindir = find_binaries()
        if bindir is None:
            pytest.skip(f"PostgreSQL is not available: no initdb/postgres binaries and {ENV_URL} is not set")
        server = LocalPostgres(bindir).start()
        url = server.admin_url
    databases = Databases(url)
    store = open_store(databases.url, registry=small_registry, oncall=OnCallConfig.model_validate(ONCALL))
    yield store
    store.close()
    databases.close()
    if server is not None:
        server.stop()


def test_on_postgresql_an_event_committed_after_a_later_one_is_still_sent(
        services: LocalServices, small_registry: Registry, postgres_store: AlertStore) -> None:
    readings = ReadingsSource(api_influx(services), small_registry, rollups=API_ROLLUPS)
    app = create_app(services.settings, small_registry, postgres_store, readings=readings)
    secret = create_token(postgres_store.engine, "pg-viewer", Role.VIEWER)[1]
    postgres_store.apply(firing(rule="pg-late"))
    alert = postgres_store.list_alerts(limit=1)[0]
    client = TestClient(app)
    with client.stream("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {secret}"}) as response:
        stream = messages(response.iter_lines())
        next(stream)
        with Session(postgres_store.engine) as slow, Session(postgres_store.engine) as quick:
            # The slow transaction takes the next id first, but commits last. (Plain inserts, as the
            # store's comment() makes: its row lock on the alert would wait for the slow one.)
            late = AlertEventRow(alert_id=alert.id, at=utc_now(), actor="Li Na", action="comment", note="late", details={})
            slow.add(late)
            slow.flush()
            late_id = late.id
            quick.add(AlertEventRow(alert_id=alert.id, at=utc_now(), actor="Wang Li", action="comment", note="early",
                                    details={}))
            quick.commit()
            early = next_event(stream, "alert").json()
            assert early["event"]["note"] == "early" and early["event"]["id"] == late_id + 1
            slow.commit()
        arrived = next_event(stream, "alert").json()
    readings.close()
    assert arrived["event"]["note"] == "late" and arrived["event"]["id"] == late_id
