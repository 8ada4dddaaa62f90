"""Alembic environment of the alert store.

Run through `alerts.store.db.migrate()`, which passes an open connection in
`config.attributes["connection"]`; the URL never goes through a config file.
Tables that are not the store's (APScheduler's job store shares the
database) are left alone by autogenerate.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from alerts.store.db import FOREIGN_TABLES
from alerts.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the alert store's migrations through alerts.store.db.migrate()")
    _run(connection)


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; use alerts.store.db.migrate()")
run_migrations_online()
