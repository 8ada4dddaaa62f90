"""A server process Vigil starts for itself (Mosquitto, InfluxDB): started in
its own session so it outlives the command that started it, tracked by a pid
file, stopped gracefully and, if need be, killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class ManagedProcess:
    name: str
    argv: Sequence[str]
    workdir: Path
    env: dict[str, str] | None = None

    @property
    def pid_file(self) -> Path:
        return self.workdir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of the running process, or None (a stale pid file is ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        # /proc/<pid>/stat is "pid (comm) state ..."; comm is set at exec, unlike
        # cmdline, which reads empty for a moment after a fresh exec.
        comm, _, rest = stat.partition("(")[2].rpartition(")")
        state = rest.split()[0] if rest.split() else "?"
        # The pid may have been reused by an unrelated process, or be a zombie.
        if comm != Path(self.argv[0]).name[:15] or state == "Z":
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> int:
        if (pid := self.pid()) is not None:
            return pid
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(self.argv), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                env={**os.environ, **(self.env or {})},
            )
        self.pid_file.write_text(str(proc.pid))
        self._child = proc  # keep a handle so the child is reaped when we started it
        return proc.pid

    def _reap(self) -> None:
        child = getattr(self, "_child", None)
        if child is not None:
            child.poll()

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                self._reap()
                if self.pid() is None:
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
                self.wait_gone(5)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no chance to flush or say goodbye."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            self.wait_gone(5)
        self.pid_file.unlink(missing_ok=True)

    def wait_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._reap()
            if self.pid() is None:
                return
            time.sleep(0.05)

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            self._reap()
            if not self.running():
                raise ServiceError(f"{self.name} exited while starting; see {self.log_file}:\n{self.tail_log()}")
            time.sleep(0.1)
        raise ServiceError(f"{self.name} not {what} after {timeout:.0f}s; see {self.log_file}:\n{self.tail_log()}")

    def tail_log(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
