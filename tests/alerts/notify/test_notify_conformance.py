"""The shared kit: every integration is checked the same way. It delivers
the message intact, reports failures as results (never raises), says
separately whether a failure is worth retrying, and keeps its URL's secrets
out of the error text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from alerts.notify import ContactPointError, Message, NotificationKind, describe_url, notifier_for
from alerts.notify.apprise_channel import AppriseNotifier, http_status_retryable
from alerts.notify.chat import ChatNotifier
from tests.alerts.notify.notify_kit import SmtpSink, WebhookSink, wait_for
from vigil.infra.process import free_port
from vigil.profiles import Severity

MESSAGE = Message(title="[CRITICAL] FIRING #7: 疫苗冰箱 above 8.0 °C", body="UV 64 μW/cm² < 70 μW/cm²\n后勤保障部\nline 3\n",
                  severity=Severity.CRITICAL, kind=NotificationKind.FIRING)
PASSWORD, TOKEN = "Hunter2-Secret", "qs-Token-4242"


@dataclass
class Integration:
    """How to reach one integration's local receiver, and what it received."""

    name: str
    working: Callable[[], AppriseNotifier]
    unreachable: Callable[[], AppriseNotifier]  # a loopback port nobody listens on, credentials in the URL
    received: Callable[[], list[tuple[str, str]]]  # (title, body) pairs


@pytest.fixture(params=["email", "webhook"])
def integration(request: pytest.FixtureRequest, smtp_sink: SmtpSink, webhook_sink: WebhookSink) -> Integration:
    dead = free_port()
    if request.param == "email":
        return Integration(
            "email",
            lambda: notifier_for("wang-mail", smtp_sink.url("wang@hospital.test")),
            lambda: notifier_for("wang-mail", f"mailto://vigil:{PASSWORD}@127.0.0.1:{dead}?mode=insecure"
                                              f"&from=vigil@hospital.test&to=wang@hospital.test&token={TOKEN}", timeout_s=2),
            lambda: [(m.subject, m.text.replace("\r\n", "\n")) for m in smtp_sink.mails],
        )
    return Integration(
        "webhook",
        lambda: notifier_for("ops-hook", webhook_sink.url("/hook")),
        lambda: notifier_for("ops-hook", f"json://vigil:{PASSWORD}@127.0.0.1:{dead}/hook/{TOKEN}", timeout_s=2),
        lambda: [(p.body["title"], p.body["message"]) for p in webhook_sink.posts],
    )


def test_every_integration_delivers_the_message_intact(integration: Integration) -> None:
    result = integration.working().send(MESSAGE)
    assert result.ok and result.error is None
    assert wait_for(lambda: len(integration.received()) == 1)
    ((title, body),) = integration.received()
    assert title == MESSAGE.title
    assert body.strip() == MESSAGE.body.strip()


def test_every_integration_reports_an_unreachable_endpoint_as_retryable_without_raising(integration: Integration) -> None:
    result = integration.unreachable().send(MESSAGE)
    assert not result.ok and result.retryable
    assert result.error and "127.0.0.1" in result.error


def test_no_integration_puts_a_secret_in_its_error_text(integration: Integration) -> None:
    result = integration.unreachable().send(MESSAGE)
    assert result.error is not None
    assert PASSWORD not in result.error and TOKEN not in result.error


@pytest.mark.parametrize(("status", "retryable"), [
    (500, True), (502, True), (503, True), (504, True), (408, True), (429, True),
    (400, False), (401, False), (403, False), (404, False), (410, False),
])
def test_the_webhook_retries_only_transient_http_statuses(webhook_sink: WebhookSink, status: int, retryable: bool) -> None:
    webhook_sink.answer(status)
    result = notifier_for("ops-hook", webhook_sink.url("/hook")).send(MESSAGE)
    assert not result.ok and result.retryable is retryable
    assert http_status_retryable(status) is retryable
    assert result.error is not None and f"error={status}" in result.error


@pytest.mark.parametrize("url", [
    "wecombot://BOTKEY1234567890",
    "dingtalk://TOKENabcdef1234567890/",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
    "workflows://prod-01.eastus.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke/?sig=SIGxyz12345",
])
def test_chat_contact_points_are_accepted_and_named_without_their_keys(url: str) -> None:
    notifier = notifier_for("team", url)
    assert isinstance(notifier, ChatNotifier) and notifier.name == "team"
    described = describe_url(url)
    for key in ("BOTKEY1234567890", "TOKENabcdef1234567890", "TIiajkdnlazkcOXrIdevi7FQ", "SIGxyz12345"):
        assert key not in described and key not in notifier.redact(f"failed posting to {url}")


@pytest.mark.parametrize("url", ["slack://onlyone", "wecombot://", "nosuch://SECRET-KEY-999", "not a url"])
def test_an_unusable_contact_point_fails_at_start_up_without_echoing_its_url(url: str) -> None:
    with pytest.raises(ContactPointError, match="'team'") as caught:
        notifier_for("team", url)
    assert "SECRET-KEY-999" not in str(caught.value) and "onlyone" not in str(caught.value)
