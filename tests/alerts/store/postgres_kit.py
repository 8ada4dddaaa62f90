"""A private PostgreSQL for the store tests: Debian's postgresql binaries
(initdb, postgres) run on a free loopback port in a temporary directory, or
the server at VIGIL_TEST_POSTGRES_URL. The tests share one database, emptied
after each test.

PostgreSQL refuses to run as root; when the tests run as root, the server
runs as the `postgres` system user (or `nobody`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from alerts.store.db import normalise_url
from alerts.store.schema import Base
from vigil.infra.process import free_port

ENV_URL = "VIGIL_TEST_POSTGRES_URL"


def find_binaries() -> Path | None:
    """The directory holding initdb and postgres, or None."""
    candidates = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    return None


def _run_as() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root and there is neither a 'postgres' nor a 'nobody' user to run PostgreSQL as")


class LocalPostgres:
    """initdb + postgres on a free port; stopped (by its own pid) at the end."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        # Not under pytest's tmp dir: that is 0700 root, and the server may run as another user.
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.data = self.root / "data"
        self._as = _run_as()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        # Plain postgresql://, as a person would write it: the store picks the driver.
        return f"postgresql://vigil@127.0.0.1:{self.port}/postgres"

    def start(self) -> LocalPostgres:
        if self._as:
            os.chown(self.root, self._as["user"], self._as["group"])
        subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "vigil", "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--no-instructions"], check=True, capture_output=True, **self._as)
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 - the server writes to it until stop()
        self._proc = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.root), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **self._as)
        log.close()
        engine = create_engine(normalise_url(self.admin_url))
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    return self
                except Exception:
                    if time.monotonic() > deadline or self._proc.poll() is not None:
                        self.stop()
                        raise RuntimeError(f"PostgreSQL did not start; see {self.root / 'postgres.log'}") from None
                    time.sleep(0.1)
        finally:
            engine.dispose()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class Databases:
    """One test database on a server, emptied between tests: creating and
    migrating a database per test would cost half a second each."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
        name = f"vigil_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        self._engine = create_engine(normalise_url(self.url))

    def reset(self) -> None:
        """Empty the store's tables (the schema stays, so the next store opens
        at head) and drop any other table a test created."""
        metadata = MetaData()
        metadata.reflect(self._engine)
        ours = [t.name for t in metadata.sorted_tables if t.name in Base.metadata.tables]
        others = [t.name for t in metadata.sorted_tables if t.name not in Base.metadata.tables and t.name != "alembic_version"]
        with self._engine.begin() as conn:
            if ours:
                conn.execute(text(f"TRUNCATE {', '.join(f'{chr(34)}{n}{chr(34)}' for n in ours)} RESTART IDENTITY CASCADE"))
            for name in others:
                conn.execute(text(f'DROP TABLE "{name}" CASCADE'))
        self._engine.dispose()

    def close(self) -> None:
        self._engine.dispose()
        name = make_url(self.url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


def postgres_url_from_env() -> str | None:
    """VIGIL_TEST_POSTGRES_URL: a server (and a role allowed to create databases) to use instead."""
    return os.environ.get(ENV_URL) or None
