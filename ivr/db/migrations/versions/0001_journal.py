"""The call journal: one row per webhook and status callback.

Revision ID: 0001_journal
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_journal"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("call", sa.String(32), nullable=False),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("webhook", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(20)),
        sa.Column("question", sa.String(40)),
        sa.Column("action", sa.String(20)),
        sa.Column("reply", sa.String(20)),
        sa.Column("next_phase", sa.String(20)),
        sa.Column("next_question", sa.String(40)),
        sa.Column("outcome", sa.String(30)),
        sa.Column("duration", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_journal_events"),
    )
    op.create_index("ix_journal_events_at", "journal_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_journal_events_at", table_name="journal_events")
    op.drop_table("journal_events")
