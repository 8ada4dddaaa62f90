"""A private Mosquitto broker: loopback only, persistent, no anonymous access,
one account per gateway and per platform service, and an ACL that lets a
gateway publish only under its own topic prefix."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from vigil.contract import TOPIC_PREFIX
from vigil.infra.process import ManagedProcess, ServiceError, port_open
from vigil.registry import Gateway

# Platform service accounts and the topics each may read. Nobody but a
# gateway may write under vigil/v1/: the contract is the gateways' alone.
SERVICE_READS: dict[str, tuple[str, ...]] = {
    "ingest": (f"{TOPIC_PREFIX}/+/+/readings", f"{TOPIC_PREFIX}/+/+/status"),
    "alerts": (f"{TOPIC_PREFIX}/+/+/readings", f"{TOPIC_PREFIX}/+/+/status"),
    "api": (f"{TOPIC_PREFIX}/+/+/status",),
    "operator": (f"{TOPIC_PREFIX}/#",),  # people watching the traffic
}


def mosquitto_binary() -> str:
    path = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if path is None:
        raise ServiceError("mosquitto is not installed; run `make setup` (it installs Debian's mosquitto package)")
    return path


def render_acl(gateways: Iterable[Gateway], services: Mapping[str, tuple[str, ...]] = SERVICE_READS) -> str:
    lines = ["# Written by `vigil services up`; edits are overwritten.", ""]
    for name, topics in services.items():
        lines.append(f"user {name}")
        lines += [f"topic read {t}" for t in topics]
        lines.append("")
    for gw in gateways:
        lines.append(f"user {gw.id}")
        lines.append(f"topic write {gw.readings_topic}")
        # readwrite: the gateway reads back its own retained status on start.
        lines.append(f"topic readwrite {gw.status_topic}")
        lines.append("")
    return "\n".join(lines)


def render_config(port: int, workdir: Path) -> str:
    return "\n".join([
        "# Written by `vigil services up`; edits are overwritten.",
        "per_listener_settings false",
        # A private instance runs as whoever started it; as root, mosquitto
        # would otherwise drop to the `mosquitto` user, which can neither read
        # the 0600 password file nor enter a private state directory.
        *(["user root"] if os.geteuid() == 0 else []),
        f"listener {port} 127.0.0.1",
        "allow_anonymous false",
        f"password_file {workdir / 'passwd'}",
        f"acl_file {workdir / 'acl'}",
        "persistence true",
        f"persistence_location {workdir / 'data'}/",
        "autosave_interval 10",
        # Persistent sessions must hold everything published while a consumer
        # is down; the default of 1000 queued messages would silently drop.
        "max_queued_messages 1000000",
        "max_inflight_messages 1000",
        "persistent_client_expiration 14d",
        "max_packet_size 1048576",
        "log_dest stdout",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
    ])


def write_password_file(path: Path, accounts: Mapping[str, str]) -> None:
    """Hash `accounts` into a Mosquitto password file without putting any
    password on a command line (mosquitto_passwd -U converts in place)."""
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text("".join(f"{user}:{password}\n" for user, password in accounts.items()))
    result = subprocess.run([tool, "-U", str(tmp)], capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ServiceError(f"mosquitto_passwd failed: {result.stderr.strip()}")
    tmp.replace(path)


class Mosquitto:
    """A broker under `workdir`, listening on 127.0.0.1:`port`."""

    def __init__(self, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.process = ManagedProcess("mosquitto", [mosquitto_binary(), "-c", str(workdir / "mosquitto.conf")], workdir)

    def configure(self, gateways: Iterable[Gateway], accounts: Mapping[str, str]) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        write_password_file(self.workdir / "passwd", accounts)
        (self.workdir / "acl").write_text(render_acl(gateways))
        (self.workdir / "mosquitto.conf").write_text(render_config(self.port, self.workdir))

    def start(self, timeout: float = 10) -> None:
        if self.process.running():
            return
        if port_open("127.0.0.1", self.port):
            raise ServiceError(f"port {self.port} is already in use by another program; set VIGIL_MQTT_PORT")
        self.process.start()
        self.process.wait_until(lambda: port_open("127.0.0.1", self.port), timeout, "listening")

    def stop(self) -> None:
        self.process.stop()

    def healthy(self) -> bool:
        return self.process.running() and port_open("127.0.0.1", self.port)
