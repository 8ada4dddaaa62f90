"""Generic JSON webhook contact points: apprise `json://` (HTTP) and
`jsons://` (HTTPS). Apprise posts `{"version", "title", "message", "type"}`;
Vigil's message body carries the facts (where, value, limit, since, how to
acknowledge) one per line.

    jsons://USER:PASSWORD@hooks.hospital.example/vigil
    json://127.0.0.1:8080/hook

5xx, 408, 425 and 429 are retried; any other 4xx is not (a wrong path or
token fails the same way every time).
"""

from __future__ import annotations

from pydantic import SecretStr

from alerts.notify.apprise_channel import AppriseNotifier, classify_http, http_status_retryable

SCHEMES = frozenset({"json", "jsons"})


class WebhookNotifier(AppriseNotifier):
    """A JSON webhook contact point."""

    def __init__(self, name: str, url: SecretStr | str, *, timeout_s: float = 30.0, min_interval_s: float = 0.0) -> None:
        super().__init__(name, url, classify=classify_http, timeout_s=timeout_s, min_interval_s=min_interval_s)


__all__ = ["SCHEMES", "WebhookNotifier", "http_status_retryable"]
