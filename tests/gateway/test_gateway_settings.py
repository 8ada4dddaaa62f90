"""GatewaySettings: defaults in one place, bad values refused at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway import GatewaySettings


def test_defaults_are_the_documented_ones() -> None:
    s = GatewaySettings()
    assert (s.batch_max_readings, s.batch_max_age_s) == (500, 1.0)
    assert (s.max_in_flight, s.heartbeat_s) == (50, 30.0)
    assert (s.reconnect_min_s, s.reconnect_max_s) == (1.0, 30.0)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_GATEWAY_DRAIN_RATE", "75")
    monkeypatch.setenv("VIGIL_GATEWAY_BACKLOG_MAX_MESSAGES", "1000")
    s = GatewaySettings()
    assert s.drain_rate == 75 and s.backlog_max_messages == 1000


@pytest.mark.parametrize(("field", "value"), [
    ("batch_max_readings", 5001),  # the contract's limit per message
    ("batch_max_readings", 0),
    ("batch_max_age_s", 0),
    ("backlog_max_bytes", 1000),  # smaller than one message may be
    ("drain_rate", 0),
    ("max_in_flight", 0),
])
def test_impossible_values_are_refused_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as exc:
        GatewaySettings(**{field: value})  # type: ignore[arg-type]
    assert field in str(exc.value)


def test_reconnect_bounds_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="reconnect_max_s"):
        GatewaySettings(reconnect_min_s=10, reconnect_max_s=5)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="batch_size"):
        GatewaySettings(batch_size=10)  # type: ignore[call-arg]
