"""Real local receivers for the notification tests: an SMTP server (aiosmtpd)
and an HTTP webhook receiver (http.server), both on loopback, plus the
checks every integration must pass the same way."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from vigil.infra.process import free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        content: str = part.get_content()
        return content


class _MailHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        with self.sink.lock:
            self.sink.mails.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), msg))
        return "250 OK"


class SmtpSink:
    """A real SMTP server on a free loopback port, no TLS, no auth."""

    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def url(self, to: str) -> str:
        """An apprise mailto URL that delivers to this server."""
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=vigil@hospital.test&to={to}"

    def to(self, address: str) -> list[ReceivedMail]:
        with self.lock:
            return [m for m in self.mails if address in m.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.mails.clear()


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookSink:
    """A real HTTP server on loopback that records JSON posts and answers
    with the status codes it is told to (200 once the queue is empty)."""

    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self.statuses: deque[int] = deque()
        self.default_status = 200
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with sink.lock:
                    status = sink.statuses.popleft() if sink.statuses else sink.default_status
                    sink.posts.append(ReceivedPost(self.path, dict(self.headers), json.loads(raw or b"{}")))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        # A short poll interval: shutdown() waits for it.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="webhook-sink", daemon=True)

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/hook", *, user: str | None = None, password: str | None = None) -> str:
        """An apprise json:// URL that posts to this server."""
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        return f"json://{auth}127.0.0.1:{self.port}{path}"

    def answer(self, *statuses: int) -> None:
        """Answer the next posts with these statuses, in order."""
        with self.lock:
            self.statuses.extend(statuses)

    def received(self, path: str | None = None) -> list[ReceivedPost]:
        with self.lock:
            return [p for p in self.posts if path is None or p.path.split("?")[0] == path]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
