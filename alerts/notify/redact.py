"""Keep contact-point secrets out of everything stored or logged.

An apprise URL carries its credentials in different places per service: the
password (`mailto://user:PASSWORD@host`), the query (`?token=...`), the path
(`json://host/hooks/TOKEN`) or even the host (`wecombot://BOTKEY`). Rather
than trust each plugin's own masking, every part of the URL that could be a
secret is collected and replaced in any text before it is stored.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"

# Schemes whose host is a server name, not a credential.
HOST_IS_SERVER = frozenset({"mailto", "mailtos", "json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys"})

# Shorter fragments ("to", "443", "hook", "POST") would mangle ordinary words.
# A password may be short; a token in a path, query or host never is.
_MIN_PASSWORD_LEN = 3
_MIN_TOKEN_LEN = 8


def _variants(fragment: str) -> set[str]:
    return {fragment, unquote(fragment), quote(fragment, safe=""), quote(unquote(fragment), safe="")}


def secret_fragments(url: str) -> frozenset[str]:
    """Every part of `url` that may be a credential: user, password, query
    values, path segments, and the host of services that put a key there."""
    parts = urlsplit(url)
    found: set[str] = set()
    for credential in (parts.password, parts.username):
        if credential:
            found |= {v for v in _variants(credential) if len(v) >= _MIN_PASSWORD_LEN}
    tokens: set[str] = set()
    for _key, value in parse_qsl(parts.query, keep_blank_values=False):
        tokens |= _variants(value)
    for segment in parts.path.split("/"):
        tokens |= _variants(segment)
    if parts.scheme.lower() not in HOST_IS_SERVER:
        tokens |= _variants(parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    return frozenset(found | {t for t in tokens if len(t) >= _MIN_TOKEN_LEN})


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***, longest first (a token that
    contains another is masked whole)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    # Belt and braces: credentials in any URL that slipped through.
    return re.sub(r"(\w+://)[^/@\s:]+:[^/@\s]+@", rf"\1{MASK}:{MASK}@", text)


def describe_url(url: str) -> str:
    """A safe, recognisable name for a contact point URL: the scheme and, for
    services whose host is a server, the host and port, e.g.
    `json://hooks.example.org:8080/***`, `wecombot://***`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower() or "?"
    if scheme in HOST_IS_SERVER and parts.hostname:
        where = parts.hostname + (f":{parts.port}" if parts.port else "")
        return f"{scheme}://{where}" + ("/***" if parts.path.strip("/") or parts.query else "")
    return f"{scheme}://{MASK}"


def scheme_of(url: str) -> str:
    """The URL's scheme in lower case ("" when there is none)."""
    return urlsplit(url).scheme.lower()


# Third-party loggers that see whole URLs at DEBUG level (apprise prints the
# URL it posts to; urllib3 the request line with the path).
THIRD_PARTY_LOGGERS = ("apprise", "urllib3.connectionpool", "requests")


class RedactingFilter(logging.Filter):
    """Masks every registered secret in the records of the loggers it is on."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secrets to mask."""
        with self._lock:
            self._secrets = self._secrets | frozenset(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if secrets:
            message = record.getMessage()
            cleaned = redact(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_log_filter = RedactingFilter()
_installed = False
_install_lock = threading.Lock()


def protect_logs(secrets: Iterable[str]) -> None:
    """Make sure `secrets` never appear in the third-party loggers' output."""
    global _installed
    with _install_lock:
        if not _installed:
            for name in THIRD_PARTY_LOGGERS:
                logging.getLogger(name).addFilter(_log_filter)
            _installed = True
    _log_filter.add(secrets)
