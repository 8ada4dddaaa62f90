"""JSON webhooks through a real local HTTP receiver: content, retries with
backoff on 5xx, no retry on 4xx, the "notification failed" alert when a
channel keeps failing, and no secret in anything stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import MetaData, select

from alerts.store import NOTIFICATION_FAILED
from tests.alerts.notify.conftest import Live, LiveFactory
from tests.alerts.notify.notify_kit import WebhookSink
from tests.alerts.store.store_kit import transition

HOOK_USER, HOOK_PASSWORD, HOOK_TOKEN = "vigil-hook", "S3cret-Passw0rd", "tok-9f8e7d6c5b4a"


def _fire(live: Live) -> None:
    live.dispatcher.deliver(live.store.apply(transition(value=9.2), live.clock()), live.clock())


def test_the_webhook_receives_the_alert_as_json(live: Live) -> None:
    _fire(live)
    (post,) = live.webhook.received("/hook")
    (alert,) = live.store.list_alerts()
    assert post.body["title"] == f"[CRITICAL] FIRING #{alert.id}: vac-fridge-1 temperature out of range"
    assert post.body["type"] == "failure"
    message = post.body["message"]
    for fact in ("Vaccine fridge 1 (vac-fridge-1)", "9.2 °C", "Limit:", "Since:", f"vigil alerts ack {alert.id}"):
        assert fact in message


def test_a_5xx_is_retried_with_backoff_and_then_delivered(live: Live) -> None:
    live.webhook.answer(500, 503)
    _fire(live)  # t0: 500, next try at t0+10 s
    assert live.dispatcher.deliver_due(live.clock.advance(seconds=9)) == []
    (second,) = live.dispatcher.deliver_due(live.clock.advance(seconds=1))  # 503, next at +20 s
    assert not second.result.ok and second.retry_at == live.clock() + timedelta(seconds=20)
    (third,) = live.dispatcher.deliver_due(live.clock.advance(seconds=20))
    assert third.result.ok

    assert len(live.webhook.received("/hook")) == 3
    (record,) = [n for n in live.store.notifications(status="sent") if n.recipient == "ops-hook"]
    attempts = live.store.delivery_attempts(record.id)
    assert [(a.attempt, a.ok, a.retryable, a.channel) for a in attempts] == [
        (1, False, True, "json"), (2, False, True, "json"), (3, True, None, "json")]
    assert attempts[0].error is not None and "error=500" in attempts[0].error
    assert live.store.list_alerts(family="notification") == []


def test_a_4xx_is_not_retried(live: Live) -> None:
    live.webhook.answer(404)
    _fire(live)
    assert live.dispatcher.deliver_due(live.clock.advance(minutes=10)) == []
    (failed,) = live.store.notifications(status="failed")
    assert failed.recipient == "ops-hook" and failed.attempts == 1
    assert failed.last_error is not None and "error=404" in failed.last_error


def test_a_channel_that_keeps_failing_raises_the_notification_failed_alert(live: Live) -> None:
    live.webhook.default_status = 502
    _fire(live)
    for _ in range(3):
        live.dispatcher.deliver_due(live.clock.advance(minutes=1))
    assert len(live.webhook.received("/hook")) == 3  # max_attempts, then it gives up

    (failing,) = live.store.list_alerts(family="notification", open_only=True)
    assert failing.rule_id == f"{NOTIFICATION_FAILED}/ops-hook" and failing.rule_kind == NOTIFICATION_FAILED
    assert "ops-hook keep failing" in failing.summary
    # The people on call hear of it by mail; the broken webhook is not asked to report on itself.
    mails = live.smtp.to("wang@hospital.test")
    assert [m.subject for m in mails if "keep failing" in m.subject] == [
        f"[CRITICAL] FIRING #{failing.id}: Notifications to contact point ops-hook keep failing"]
    assert all(n.recipient != "ops-hook" for n in live.store.notifications(alert_id=failing.id))

    # The webhook is mended; the next message gets through and the failure alert resolves.
    live.webhook.default_status = 200
    live.dispatcher.deliver(live.store.apply(transition("bb-fridge-1-temp"), live.clock.advance(minutes=1)), live.clock())
    assert live.store.get_alert(failing.id).state.value == "resolved"


def test_secrets_in_a_contact_point_url_never_reach_the_database_or_the_logs(
        make_live: LiveFactory, webhook_sink: WebhookSink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")  # apprise and urllib3 print whole URLs at DEBUG
    url = webhook_sink.url(f"/hooks/{HOOK_TOKEN}", user=HOOK_USER, password=HOOK_PASSWORD) + "?token=qs-secret-77"
    live = make_live(hook_url=url)
    live.webhook.default_status = 500
    _fire(live)
    for _ in range(3):
        live.dispatcher.deliver_due(live.clock.advance(minutes=1))
    assert live.webhook.received(f"/hooks/{HOOK_TOKEN}")  # it was really tried with the secrets...

    stored = []
    metadata = MetaData()
    metadata.reflect(live.store.engine)
    with live.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            stored += [str(value) for row in conn.execute(select(table)) for value in row]
    assert any("127.0.0.1" in value for value in stored)  # ...and the errors say where
    for secret in (HOOK_PASSWORD, HOOK_TOKEN, "qs-secret-77"):
        assert not any(secret in value for value in stored), f"{secret} stored"
        assert secret not in caplog.text, f"{secret} logged"
