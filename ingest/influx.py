"""Writing line protocol to InfluxDB 2.x over its HTTP write API.

A write either succeeds, fails in a way worth retrying (InfluxDB down or
overloaded: connection errors, 5xx, 429), or is refused for good (400: some
lines can never be written, e.g. a field type conflict; InfluxDB writes the
others). The caller retries the first kind and never the second.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import httpx

from vigil.settings import InfluxEndpoint


class WriteError(Exception):
    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class WriteResult:
    lines: int
    rejected_by_server: str | None = None  # InfluxDB's message for a partial write


class InfluxWriter:
    def __init__(self, endpoint: InfluxEndpoint, gzip_body: bool = False, timeout_s: float = 30.0):
        self.endpoint = endpoint
        self.gzip_body = gzip_body
        headers = {"Authorization": f"Token {endpoint.token.get_secret_value()}", "Content-Type": "text/plain; charset=utf-8"}
        if gzip_body:
            headers["Content-Encoding"] = "gzip"
        self._client = httpx.Client(base_url=endpoint.url, headers=headers, timeout=timeout_s)

    def write(self, lines: list[str], bucket: str | None = None) -> WriteResult:
        if not lines:
            return WriteResult(0)
        body = "\n".join(lines).encode()
        if self.gzip_body:
            body = gzip.compress(body, compresslevel=1)
        params = {"org": self.endpoint.org, "bucket": bucket or self.endpoint.bucket, "precision": "ns"}
        try:
            resp = self._client.post("/api/v2/write", params=params, content=body)
        except httpx.HTTPError as exc:
            raise WriteError(f"InfluxDB unreachable: {type(exc).__name__}", retryable=True) from None
        if resp.status_code == 204:
            return WriteResult(len(lines))
        message = _message(resp)
        if resp.status_code == 400:
            return WriteResult(len(lines), rejected_by_server=message)
        retryable = resp.status_code >= 500 or resp.status_code in (408, 429)
        raise WriteError(f"InfluxDB write failed: HTTP {resp.status_code} {message}", retryable=retryable)

    def close(self) -> None:
        self._client.close()


def _message(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("message", ""))[:300]
    except ValueError:
        return resp.text[:300]
