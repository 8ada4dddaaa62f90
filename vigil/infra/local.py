"""`vigil services`: private local Mosquitto and InfluxDB instances under the
state directory, with generated credentials kept in a 0600 state file so that
every other `vigil` command (and `vigil services env`) can find them."""

from __future__ import annotations

import json
import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.infra.downsampling import ensure_downsampling_tasks
from vigil.infra.influxdb import InfluxDB, onboard, server_healthy
from vigil.infra.mosquitto import SERVICE_READS, Mosquitto
from vigil.infra.process import port_open
from vigil.registry import Registry
from vigil.settings import SERVICES_STATE_FILE, MqttEndpoint, Settings

# Which InfluxDB token each identity gets in `vigil services env`.
TOKEN_ROLE = {"ingest": "ingest", "alerts": "alerts", "api": "reader", "operator": "operator"}


def _secret() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class LocalServices:
    settings: Settings
    registry: Registry

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir.resolve()

    @property
    def state_file(self) -> Path:
        return self.state_dir / SERVICES_STATE_FILE

    def _load_state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return data

    def _save_state(self, state: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=2)
        tmp.replace(self.state_file)

    @property
    def mosquitto(self) -> Mosquitto:
        return Mosquitto(self.state_dir / "mosquitto", self.settings.mqtt_port)

    @property
    def influxdb(self) -> InfluxDB:
        return InfluxDB(self.state_dir / "influxdb", self.settings.influx_port)

    def _external_influx(self) -> bool:
        """VIGIL_INFLUX_URL points at a server someone else runs."""
        return self.settings.influx_url is not None

    def up(self) -> dict[str, Any]:
        state = self._load_state()
        mqtt = state.setdefault("mqtt", {})
        mqtt.update(host="127.0.0.1", port=self.settings.mqtt_port)
        accounts = mqtt.setdefault("accounts", {})
        for name in [*SERVICE_READS, *self.registry.gateways]:
            accounts.setdefault(name, _secret())
        # Accounts of gateways that left the facility config are revoked.
        for name in list(accounts):
            if name not in SERVICE_READS and name not in self.registry.gateways:
                del accounts[name]
        self._save_state(state)

        broker = self.mosquitto
        broker.configure(self.registry.gateways.values(), accounts)
        if broker.process.running():
            broker.process.stop()  # reload the password file and ACL
        broker.start()

        influx = state.setdefault("influx", {})
        if self._external_influx():
            influx.clear()
        else:
            server = self.influxdb
            server.start()
            admin = state.setdefault("influx_admin", {"username": "vigil-admin", "password": _secret()})
            tokens = influx.setdefault("tokens", {})
            tokens.setdefault("operator", _secret())
            result = onboard(server.url, org=self.settings.influx_org, username=admin["username"],
                             password=admin["password"], operator_token=tokens["operator"],
                             ingest_token=tokens.get("ingest"), reader_token=tokens.get("reader"),
                             alerts_token=tokens.get("alerts"))
            tokens.update(ingest=result.ingest_token, reader=result.reader_token, alerts=result.alerts_token)
            influx.update(url=server.url, org=result.org, bucket=result.bucket)
            # Raw readings are kept 30 days; 1-minute and 1-hour aggregates two years.
            influx["downsampling"] = ensure_downsampling_tasks(server.url, tokens["operator"], result.org)
        self._save_state(state)
        return self.status()

    def down(self) -> None:
        self.mosquitto.stop()
        if not self._external_influx():
            self.influxdb.stop()

    def status(self) -> dict[str, Any]:
        broker = self.mosquitto
        influx_url = self.settings.influx_url or self.influxdb.url
        return {
            "mosquitto": {
                "url": f"mqtt://127.0.0.1:{self.settings.mqtt_port}",
                "running": broker.process.running(),
                "healthy": port_open("127.0.0.1", self.settings.mqtt_port),
                "pid": broker.process.pid(),
            },
            "influxdb": {
                "url": influx_url,
                "managed": not self._external_influx(),
                "running": self.influxdb.process.running() if not self._external_influx() else None,
                "healthy": server_healthy(influx_url),
                "pid": self.influxdb.process.pid() if not self._external_influx() else None,
            },
            "state_dir": str(self.state_dir),
        }

    def env(self, identity: str = "ingest") -> dict[str, str]:
        """Every connection setting for `identity` (a service or a gateway id)."""
        settings = self.settings
        mqtt: MqttEndpoint = settings.mqtt_endpoint(identity)
        role = TOKEN_ROLE.get(identity, "reader")
        out = {"VIGIL_MQTT_URL": mqtt.url(with_password=True)}
        if identity in self.registry.gateways:
            out["VIGIL_GATEWAY"] = identity
            return out  # a gateway talks to the broker only
        influx = settings.influx_endpoint(role)
        out |= {
            "VIGIL_INFLUX_URL": influx.url,
            "VIGIL_INFLUX_TOKEN": influx.token.get_secret_value(),
            "VIGIL_INFLUX_ORG": influx.org,
            "VIGIL_INFLUX_BUCKET": influx.bucket,
            "VIGIL_STATE_DIR": str(self.state_dir),
            "VIGIL_FACILITY": str(settings.facility.resolve()),
            "VIGIL_DATABASE_URL": settings.database,
        }
        return out


def export_lines(env: dict[str, str]) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
