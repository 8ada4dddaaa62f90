"""E-mail contact points: apprise `mailto://` (STARTTLS or plain, per the
URL's `mode=`) and `mailtos://` (TLS), sent as plain text so the body reads
the same in every mail client.

    mailto://USER:PASSWORD@smtp.hospital.example:587?from=vigil@hospital.example&to=oncall@hospital.example
    mailto://127.0.0.1:2525?mode=insecure&from=vigil@test&to=oncall@test   (a local relay, no TLS)
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from alerts.notify.apprise_channel import AppriseNotifier

SCHEMES = frozenset({"mailto", "mailtos"})

# apprise reports these when the URL itself is wrong: retrying cannot help.
_PERMANENT = ("no email recipients", "invalid", "improperly configured")


def classify_smtp(log_lines: Sequence[str], timed_out: bool) -> bool:
    """Connection problems and timeouts are worth retrying (the relay may be
    restarting); a message apprise could not even address is not."""
    text = " ".join(log_lines).lower()
    return timed_out or not any(marker in text for marker in _PERMANENT)


def plain_text_url(url: str) -> str:
    """`url` with `format=text` unless it asks for another format: apprise
    would otherwise send HTML with a mangled plain-text alternative."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() == "format" for key, _ in query):
        query.append(("format", "text"))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@:/,")))


class EmailNotifier(AppriseNotifier):
    """An e-mail contact point."""

    def __init__(self, name: str, url: SecretStr | str, *, timeout_s: float = 30.0, min_interval_s: float = 0.0) -> None:
        raw = url.get_secret_value() if isinstance(url, SecretStr) else url
        super().__init__(name, SecretStr(plain_text_url(raw)), classify=classify_smtp, timeout_s=timeout_s,
                         min_interval_s=min_interval_s)


__all__ = ["SCHEMES", "EmailNotifier", "classify_smtp", "plain_text_url"]
