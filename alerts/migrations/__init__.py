"""Alembic migrations of the alert store, shipped inside the package.

`alerts.store.db.migrate()` runs them with a programmatic config; there is no
alembic.ini. To write a new revision during development:

    .venv/bin/python -m alerts.migrations revision -m "what changes"
"""
