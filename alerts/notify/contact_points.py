"""Contact points by scheme: the integration package that handles each URL.
Built once at start-up, so a bad URL is a configuration error then, not a
lost page later."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from alerts.notify.apprise_channel import AppriseNotifier, ContactPointError
from alerts.notify.base import Notifier
from alerts.notify.chat import ChatNotifier
from alerts.notify.email import SCHEMES as EMAIL_SCHEMES
from alerts.notify.email import EmailNotifier
from alerts.notify.redact import scheme_of
from alerts.notify.webhook import SCHEMES as WEBHOOK_SCHEMES
from alerts.notify.webhook import WebhookNotifier


def notifier_for(name: str, url: SecretStr | str, *, timeout_s: float = 30.0) -> AppriseNotifier:
    """The notifier for contact point `name` at apprise `url`."""
    raw = url.get_secret_value() if isinstance(url, SecretStr) else url
    scheme = scheme_of(raw)
    if not scheme:
        raise ContactPointError(f"contact point {name!r}: not a URL (expected e.g. mailto://, json://, wecombot://)")
    if scheme in EMAIL_SCHEMES:
        return EmailNotifier(name, raw, timeout_s=timeout_s)
    if scheme in WEBHOOK_SCHEMES:
        return WebhookNotifier(name, raw, timeout_s=timeout_s)
    return ChatNotifier(name, raw, timeout_s=timeout_s)


def notifiers_for(contact_points: Mapping[str, SecretStr | str], *, timeout_s: float = 30.0) -> dict[str, Notifier]:
    """A notifier per contact point; every unusable URL is reported at once."""
    notifiers: dict[str, Notifier] = {}
    problems: list[str] = []
    for name, url in contact_points.items():
        try:
            notifiers[name] = notifier_for(name, url, timeout_s=timeout_s)
        except ContactPointError as exc:
            problems.append(str(exc))
    if problems:
        raise ContactPointError("\n".join(problems))
    return notifiers
