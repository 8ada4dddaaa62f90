"""rules engine snapshot in parts: one row per sensor with its rules

Revision ID: 0002_engine_state_parts
Revises: 0001_initial
Create Date: 2026-11-24 00:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_engine_state_parts"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade the schema. A snapshot saved whole in `key_values` stays there
    until the store's first checkpoint converts it (the store reads both)."""
    op.create_table(
        "engine_state",
        sa.Column("part", sa.String(length=400), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("part", name=op.f("pk_engine_state")),
    )


def downgrade() -> None:
    """Downgrade the schema (the engine's timers start afresh after it)."""
    op.drop_table("engine_state")
