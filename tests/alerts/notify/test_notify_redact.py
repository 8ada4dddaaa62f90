"""Redaction: every part of a contact point URL that may be a credential is
masked in text before it is stored or logged."""

from __future__ import annotations

import logging

import pytest

from alerts.notify.redact import describe_url, protect_logs, redact, secret_fragments


@pytest.mark.parametrize(("url", "secrets"), [
    ("mailto://vigil:p%40ss-word@smtp.hospital.test:587?to=wang@hospital.test", ["p@ss-word", "p%40ss-word"]),
    ("jsons://user:pw1234@hooks.hospital.test/v1/hooks/abcdef123456?token=zzz99999", ["pw1234", "abcdef123456", "zzz99999"]),
    ("wecombot://BOTKEY1234567890", ["BOTKEY1234567890"]),
    ("dingtalk://TOKENabc123/SECRETxyz789", ["TOKENabc123", "SECRETxyz789"]),
])
def test_every_secret_part_of_a_url_is_masked(url: str, secrets: list[str]) -> None:
    text = redact(f"could not deliver to {url}: server said no", secret_fragments(url))
    for secret in secrets:
        assert secret not in text
    assert "server said no" in text


def test_a_url_is_described_by_what_is_safe_to_show() -> None:
    assert describe_url("jsons://u:p@hooks.hospital.test:8443/v1/TOKEN") == "jsons://hooks.hospital.test:8443/***"
    assert describe_url("mailto://u:p@smtp.hospital.test") == "mailto://smtp.hospital.test"
    assert describe_url("wecombot://BOTKEY") == "wecombot://***"


def test_credentials_in_any_url_are_masked_even_unregistered() -> None:
    assert redact("GET https://alice:secret@example.test/x", []) == "GET https://***:***@example.test/x"


def test_third_party_debug_logs_lose_registered_secrets(caplog: pytest.LogCaptureFixture) -> None:
    protect_logs(["tok-5555-aaaa"])
    with caplog.at_level(logging.DEBUG, logger="apprise"):
        logging.getLogger("apprise").debug("JSON POST URL: %s", "http://127.0.0.1/hooks/tok-5555-aaaa")
    assert "tok-5555-aaaa" not in caplog.text and "http://127.0.0.1/hooks/***" in caplog.text
