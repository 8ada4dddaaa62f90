from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from vigil.registry import ConfigError
from vigil.settings import MqttEndpoint, Settings, load_settings


def test_settings_file_then_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "vigil.yaml"
    cfg.write_text("mqtt_port: 12000\ninflux_org: hospital\n")
    monkeypatch.setenv("VIGIL_MQTT_PORT", "13000")
    settings = load_settings(cfg)
    assert settings.mqtt_port == 13000  # the environment wins
    assert settings.influx_org == "hospital"  # from the file


def test_bad_settings_file_names_the_file_and_the_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "vigil.yaml"
    cfg.write_text("mqtt_port: lots\ninflux_orgg: x\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg)
    text = str(exc.value)
    assert f"{cfg}: mqtt_port:" in text and "valid integer" in text
    assert f"{cfg}: influx_orgg: unknown setting" in text


def test_missing_settings_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "absent.yaml")


def test_secrets_never_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_MQTT_URL", "mqtt://gw-a:hunter2secret@127.0.0.1:1883")
    monkeypatch.setenv("VIGIL_INFLUX_TOKEN", "tok-very-secret")
    settings = load_settings()
    assert "hunter2secret" not in repr(settings) and "tok-very-secret" not in repr(settings)
    endpoint = settings.mqtt_endpoint()
    assert endpoint.username == "gw-a"
    assert "hunter2secret" not in str(endpoint) and "hunter2secret" not in repr(endpoint)
    assert "hunter2secret" in endpoint.url(with_password=True)


def test_mqtt_url_with_special_characters_in_password_roundtrips() -> None:
    ep = MqttEndpoint("127.0.0.1", 1883, "gw-a", SecretStr("p@ss:w/rd%"))
    again = MqttEndpoint.parse(ep.url(with_password=True))
    assert again.password is not None and again.password.get_secret_value() == "p@ss:w/rd%"


def test_connection_falls_back_to_services_state_and_says_when_missing(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    with pytest.raises(ConfigError, match="services up"):
        settings.mqtt_endpoint()
