"""The apprise glue every integration shares: one contact point URL, sent to
through apprise, with the outcome turned into a `DeliveryResult` whose error
text is redacted and whose `retryable` comes from the integration's own
classifier (HTTP status codes for webhooks and chat, SMTP for e-mail).

Apprise's own retries are left off: the dispatcher retries with backoff and
records every attempt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import apprise
from pydantic import SecretStr

from alerts.notify.base import DeliveryResult, Message, NotificationKind
from alerts.notify.redact import describe_url, protect_logs, redact, scheme_of, secret_fragments
from vigil.profiles import Severity

# Which failures are worth retrying, judged from apprise's warning lines.
Classifier = Callable[[Sequence[str], bool], bool]

_HTTP_CODE = re.compile(r"error=(\d{3})\b")
_TRANSIENT_HTTP = frozenset({408, 425, 429})
_MAX_ERROR_LEN = 500


class ContactPointError(ValueError):
    """A contact point URL that cannot be used (raised at start-up)."""


def http_status_retryable(status: int) -> bool:
    """5xx, 408 (timeout), 425 and 429 (throttled) are worth retrying; any
    other 4xx (bad token, gone, bad request) will fail the same way again."""
    return status >= 500 or status in _TRANSIENT_HTTP


def classify_http(log_lines: Sequence[str], timed_out: bool) -> bool:
    """Retryable unless apprise reported a permanent HTTP status."""
    if timed_out:
        return True
    codes = [int(m.group(1)) for line in log_lines for m in _HTTP_CODE.finditer(line)]
    if codes:
        return http_status_retryable(codes[-1])
    # Connection refused, DNS, TLS: the network or the server, maybe back soon.
    return True


def _notify_type(message: Message) -> apprise.NotifyType:
    if message.kind in (NotificationKind.RESOLVED,):
        return apprise.NotifyType.SUCCESS
    if message.severity is Severity.CRITICAL:
        return apprise.NotifyType.FAILURE
    if message.severity is Severity.WARNING:
        return apprise.NotifyType.WARNING
    return apprise.NotifyType.INFO


class AppriseNotifier:
    """A `Notifier` for one apprise URL."""

    def __init__(self, name: str, url: SecretStr | str, *, classify: Classifier = classify_http,
                 timeout_s: float = 30.0, min_interval_s: float | None = None) -> None:
        raw = url.get_secret_value() if isinstance(url, SecretStr) else url
        self._name = name
        self._channel = scheme_of(raw) or "?"
        self._secrets = secret_fragments(raw)
        protect_logs(self._secrets)
        self._where = describe_url(raw)
        self._classify = classify
        self._timeout_s = timeout_s
        plugin = apprise.Apprise.instantiate(raw)
        if plugin is None:
            # Never echo the URL: it is the secret.
            raise ContactPointError(
                f"contact point {name!r}: {self._where} is not a valid apprise URL (check the scheme and its required parts)")
        if min_interval_s is not None:
            # apprise waits this long between two requests of one service
            # (5.5 s by default): right for rate-limited chat APIs, needless
            # for a hospital's own mail relay or webhook.
            plugin.request_rate_per_sec = min_interval_s
        self._apprise = apprise.Apprise()
        self._apprise.add(plugin)

    @property
    def name(self) -> str:
        return self._name

    @property
    def channel(self) -> str:
        return self._channel

    def redact(self, text: str) -> str:
        """`text` without this contact point's secrets."""
        return redact(text, self._secrets)

    def send(self, message: Message) -> DeliveryResult:
        """Send once through apprise; failures come back as a result, never raised."""
        try:
            result = self._apprise.notify(
                body=message.body, title=message.title, notify_type=_notify_type(message),
                body_format=apprise.NotifyFormat.TEXT, timeout=self._timeout_s,
            )
        except Exception as exc:  # a plugin bug must not take the dispatcher down
            return DeliveryResult.failed(self._error(f"{type(exc).__name__}: {exc}"), retryable=True)
        if result:
            return DeliveryResult.delivered()
        lines = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        timed_out = result.status == apprise.AppriseResultStatus.TIMEOUT
        reason = "; ".join(dict.fromkeys(line.strip() for line in lines if line.strip())) or result.status.name.lower()
        return DeliveryResult.failed(self._error(reason), retryable=self._classify(lines, timed_out))

    def _error(self, reason: str) -> str:
        text = self.redact(f"{self._where}: {reason}")
        return text if len(text) <= _MAX_ERROR_LEN else text[: _MAX_ERROR_LEN - 1] + "…"
