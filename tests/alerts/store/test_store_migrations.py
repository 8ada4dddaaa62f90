"""The Alembic migrations create exactly the schema the ORM models describe,
on SQLite and PostgreSQL, and opening the store again migrates nothing."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from alerts.store import AlertStore, open_store
from alerts.store.db import FOREIGN_TABLES, alembic_config, create_store_engine, current_revision
from alerts.store.schema import Base

REQUIRED_TABLES = {"alerts", "alert_events", "silences", "notifications", "notification_attempts", "escalations",
                   "work_orders", "work_order_events", "excursions", "key_values", "alembic_version"}


def test_the_migrations_build_the_schema_the_models_describe(store: AlertStore) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, *_: not (type_ == "table" and name in FOREIGN_TABLES),
        })
        assert compare_metadata(context, Base.metadata) == []
        assert set(inspect(conn).get_table_names()) >= REQUIRED_TABLES


def test_opening_the_store_again_is_a_no_op_at_head(store_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    open_store(store_url).close()
    again = open_store(store_url)
    assert current_revision(again.engine) == head
    again.close()


def test_the_migrations_downgrade_cleanly(store_url: str) -> None:
    engine = create_store_engine(store_url)
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            command.downgrade(cfg, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
