"""E-mail through a real SMTP server: what the message says, and who gets it
as an alert fires, escalates and resolves."""

from __future__ import annotations

from alerts.model import AlertState
from alerts.notify.base import Message
from alerts.notify.email import EmailNotifier, plain_text_url
from tests.alerts.notify.conftest import Live
from tests.alerts.notify.notify_kit import wait_for
from tests.alerts.store.store_kit import CONSOLE, transition
from vigil.infra.process import free_port


def test_the_firing_email_says_what_where_the_value_and_limit_since_when_and_how_to_ack(live: Live) -> None:
    live.dispatcher.deliver(live.store.apply(transition(value=9.2, summary="Vaccine fridge 1 above 8.0 °C for 15 min"),
                                             live.clock()), live.clock())
    assert wait_for(lambda: len(live.smtp.to("wang@hospital.test")) == 1)
    (mail,) = live.smtp.to("wang@hospital.test")
    (alert,) = live.store.list_alerts()

    assert mail.subject == f"[CRITICAL] FIRING #{alert.id}: Vaccine fridge 1 above 8.0 °C for 15 min"
    body = mail.text
    assert "North Campus: Main Building, Basement, Pharmacy (Pharmacy), Vaccine fridge 1 (vac-fridge-1)" in body
    assert "Value:    9.2 °C (temperature)" in body
    assert "Limit:    > 8.0 °C for 15 min" in body
    assert "Since:    2026-11-23 09:45 Asia/Shanghai (UTC+08:00), 15 min ago" in body
    assert f"vigil alerts ack {alert.id} --by NAME --note TEXT" in body
    assert f"{CONSOLE}/alerts/{alert.id}" in body


def test_escalation_and_resolution_mails_reach_everyone_who_was_paged(live: Live) -> None:
    live.dispatcher.deliver(live.store.apply(transition(), live.clock()), live.clock())
    live.dispatcher.deliver(live.store.process_due(live.clock.advance(minutes=15)), live.clock())
    live.store.apply(transition(state=AlertState.RESOLVED), live.clock.advance(minutes=3))
    live.dispatcher.deliver(live.store.process_due(live.clock.advance(minutes=5)), live.clock())

    assert wait_for(lambda: len(live.smtp.mails) == 4)
    wang = [m.subject.split(" #")[0] for m in live.smtp.to("wang@hospital.test")]
    chen = [m.subject.split(" #")[0] for m in live.smtp.to("chen@hospital.test")]
    assert wang == ["[CRITICAL] FIRING", "[RESOLVED]"]
    assert chen == ["[CRITICAL] ESCALATED", "[RESOLVED]"]
    escalated = live.smtp.to("chen@hospital.test")[0].text
    assert "Escalation: tier 2 of 2; nobody acknowledged within 15 min" in escalated
    assert "after 33 min" in live.smtp.to("chen@hospital.test")[1].text


def test_a_relay_that_is_down_is_worth_retrying_and_its_password_stays_out_of_the_error() -> None:
    notifier = EmailNotifier("wang-mail", f"mailto://vigil:Pa55-w0rd-x@127.0.0.1:{free_port()}?mode=insecure"
                                          "&from=vigil@hospital.test&to=wang@hospital.test", timeout_s=2)
    result = notifier.send(Message(title="test", body="test"))
    assert not result.ok and result.retryable
    assert result.error is not None and "Pa55-w0rd-x" not in result.error and "127.0.0.1" in result.error


def test_mail_is_sent_as_plain_text_unless_the_url_asks_otherwise() -> None:
    assert plain_text_url("mailto://h?to=a@b.test").endswith("format=text")
    assert plain_text_url("mailto://h?to=a@b.test&format=html").count("format=") == 1
