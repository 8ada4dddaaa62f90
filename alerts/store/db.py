"""The database underneath the alert store: engine creation, the portable
UTC datetime type, and running the Alembic migrations to head.

SQLite is the default (a file under the state directory); a PostgreSQL URL
works the same. Only portable SQL and types are used: timezone-aware UTC
datetimes, `sqlalchemy.JSON`, strings for enums, NULL-able unique keys
instead of partial indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Dialect, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

import alerts.migrations

MIGRATIONS_DIR = Path(alerts.migrations.__file__).parent

# Tables in the store's database that other code owns (APScheduler's job
# store for preventive maintenance): migrations leave them alone.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC: the store's default clock."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is refused, not guessed."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the alert store needs timezone-aware times")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is
    stored as naive UTC text (which also sorts correctly) and UTC is attached
    again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read while the service writes; the busy timeout makes a
    # second writer (an `ack` from the CLI) wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def normalise_url(url: str) -> str:
    """`url` with the PostgreSQL driver Vigil ships (psycopg 3) made explicit:
    a plain postgresql:// URL would make SQLAlchemy look for psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its directory is created."""
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # The pool hands a connection to one thread at a time; the service
        # applies transitions and runs process_due from different threads.
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise RuntimeError(f"the database driver for {parsed.drivername} is not installed ({exc.name}); "
                           "for PostgreSQL: pip install 'vigil[postgres]'") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    """A programmatic Alembic config pointing at alerts/migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision` (default: head).

    The connection is handed to env.py, so the URL (and any password in it)
    never goes through Alembic's config file parser.
    """
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None before the first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return str(row[0]) if row else None
