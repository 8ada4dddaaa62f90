"""Vigil's settings: one class, read from a YAML settings file and `VIGIL_`
environment variables (the environment wins), with connection details
falling back to what `vigil services up` recorded in the state directory.

Secrets (passwords, tokens, URLs carrying credentials) are `SecretStr`, so
they never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml
from pydantic import SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from vigil.registry import ConfigError, ConfigProblem

DEFAULT_SETTINGS_FILE = Path("vigil.yaml")
SERVICES_STATE_FILE = "services.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="forbid", frozen=True)

    facility: Path = Path("examples/hospital.yaml")
    state_dir: Path = Path(".vigil")
    log_level: str = "INFO"

    # Where `vigil services up` puts its private instances.
    mqtt_port: int = 11883
    influx_port: int = 18086

    # Connections. Unset means: whatever `vigil services up` started.
    mqtt_url: SecretStr | None = None  # mqtt://user:password@host:port
    influx_url: str | None = None
    influx_token: SecretStr | None = None
    influx_org: str = "vigil"
    influx_bucket: str = "readings"
    database_url: SecretStr | None = None

    # Alerts: who is paged (the `oncall:` section of this YAML file; none: alerts
    # are recorded and shown, nobody is paged) and where the console is.
    oncall: Path | None = None
    console_url: str = "http://127.0.0.1:8080"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        yaml_file = settings_cls.model_config.get("yaml_file")
        if yaml_file:
            sources += (YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file),)
        return sources

    # ------------------------------------------------------------------
    # Connection details, with the local services' state as the fallback

    def services_state(self) -> dict[str, Any]:
        """What `vigil services up` recorded (empty when it has not run)."""
        path = self.state_dir / SERVICES_STATE_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data

    def mqtt_endpoint(self, identity: str = "ingest") -> MqttEndpoint:
        """The broker, logged in as `identity` (a platform service or a gateway id)."""
        if self.mqtt_url is not None:
            return MqttEndpoint.parse(self.mqtt_url.get_secret_value())
        state = self.services_state().get("mqtt")
        if not state:
            raise ConfigError([ConfigProblem("settings", "mqtt_url", "not set, and `vigil services up` has not run")])
        password = state["accounts"].get(identity)
        if password is None:
            raise ConfigError([ConfigProblem(str(self.state_dir / SERVICES_STATE_FILE), "mqtt.accounts",
                                             f"no MQTT account {identity!r}")])
        return MqttEndpoint(state["host"], int(state["port"]), identity, SecretStr(password))

    def influx_endpoint(self, role: str = "ingest") -> InfluxEndpoint:
        """InfluxDB with the token of `role`: operator, ingest (read and write), alerts (write `platform`) or reader."""
        state = self.services_state().get("influx") or {}
        url = self.influx_url or state.get("url")
        token = self.influx_token.get_secret_value() if self.influx_token else (state.get("tokens") or {}).get(role)
        if not url or not token:
            raise ConfigError([ConfigProblem("settings", "influx_url" if not url else "influx_token",
                                             "not set, and `vigil services up` has not run")])
        return InfluxEndpoint(url=url, token=SecretStr(token), org=self.influx_org if self.influx_url else state.get("org", self.influx_org),
                              bucket=self.influx_bucket if self.influx_url else state.get("bucket", self.influx_bucket))

    @property
    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.state_dir / 'vigil.db'}"


@dataclass(frozen=True)
class MqttEndpoint:
    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {parts.scheme or 'no scheme'}")
        if not parts.hostname:
            raise ValueError("MQTT URL has no host")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if parts.scheme == "mqtts" else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=SecretStr(unquote(parts.password)) if parts.password else None,
            tls=parts.scheme == "mqtts",
        )

    def url(self, with_password: bool = False) -> str:
        """The URL; the password is shown only when asked for (shell exports)."""
        scheme = "mqtts" if self.tls else "mqtt"
        auth = ""
        if self.username:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + (quote(self.password.get_secret_value(), safe="") if with_password else "***")
            auth += "@"
        return f"{scheme}://{auth}{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.url()


@dataclass(frozen=True)
class InfluxEndpoint:
    url: str
    token: SecretStr
    org: str
    bucket: str


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (or $VIGIL_CONFIG, or ./vigil.yaml when it
    exists) and the environment. Raises ConfigError naming the file and field."""
    path = Path(config_file) if config_file else None
    if path is None and os.environ.get("VIGIL_CONFIG"):
        path = Path(os.environ["VIGIL_CONFIG"])
    if path is None and DEFAULT_SETTINGS_FILE.exists():
        path = DEFAULT_SETTINGS_FILE
    source = str(path) if path else "environment"
    if path is not None and not path.is_file():
        raise ConfigError([ConfigProblem(str(path), "", "settings file not found")])

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "yaml_file": path})

    try:
        settings: Settings = _FileSettings(**overrides)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError([ConfigProblem(source, "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                         mark.line + 1 if mark else None)]) from None
    except ValidationError as exc:
        raise ConfigError([
            ConfigProblem(source, ".".join(str(p) for p in err["loc"]),
                          "unknown setting (check the spelling)" if err["type"] == "extra_forbidden" else err["msg"])
            for err in exc.errors()
        ]) from None
    return settings
