"""The SMS outbox: one row per call's result SMS, the daily cap per destination in its keys.

Revision ID: 0002_sms_outbox
Revises: 0001_journal
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sms_outbox"
down_revision = "0001_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("call", sa.String(32), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary()),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=False),
        sa.Column("settled_at", sa.DateTime()),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_outbox"),
        sa.UniqueConstraint("call", name="uq_sms_outbox_call"),
        sa.UniqueConstraint("destination", "day", "slot", name="uq_sms_outbox_destination"),
    )
    op.create_index("ix_sms_outbox_status", "sms_outbox", ["status", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_outbox_status", table_name="sms_outbox")
    op.drop_table("sms_outbox")
