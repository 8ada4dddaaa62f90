"""Chat and SMS contact points through apprise: WeCom group bots
(`wecombot://KEY`), DingTalk (`dingtalk://TOKEN/` with optional secret),
Slack (`slack://...`), Microsoft Teams workflows (`workflows://...`), and SMS
gateways apprise supports (`twilio://`, `sinch://`, `clickatell://`, ...).

These services put their keys in the URL's host or path, so the whole URL
is treated as a secret: stored errors name only the scheme. Their failures
are HTTP failures, classified like webhooks.
"""

from __future__ import annotations

from pydantic import SecretStr

from alerts.notify.apprise_channel import AppriseNotifier, classify_http

CHAT_SCHEMES = frozenset({"wecombot", "dingtalk", "slack", "workflow", "workflows", "msteams"})
SMS_SCHEMES = frozenset({"twilio", "sinch", "clickatell", "clicksend", "vonage", "plivo", "d7sms", "bulksms",
                         "smseagle", "httpsms", "kavenegar", "msg91", "seven", "aprs"})


class ChatNotifier(AppriseNotifier):
    """A chat group or SMS gateway contact point (any other apprise URL)."""

    def __init__(self, name: str, url: SecretStr | str, *, timeout_s: float = 30.0,
                 min_interval_s: float | None = None) -> None:
        # None keeps apprise's pace per service: these APIs rate-limit bots.
        super().__init__(name, url, classify=classify_http, timeout_s=timeout_s, min_interval_s=min_interval_s)


__all__ = ["CHAT_SCHEMES", "SMS_SCHEMES", "ChatNotifier"]
