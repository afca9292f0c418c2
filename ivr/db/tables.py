"""Every table of the database. A new table goes here, with a migration in `migrations/versions/`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per webhook and per status callback; a call is named by a keyed hash, never a number.
# The vocabulary of each column is in ivr/journal/events.py.
journal_events = Table(
    "journal_events",
    metadata,
    # SQLite only auto-increments a plain INTEGER primary key.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(), nullable=False),
    Column("call", String(32), nullable=False),
    Column("flow", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("webhook", String(20), nullable=False),
    Column("phase", String(20)),
    Column("question", String(40)),
    Column("action", String(20)),
    Column("reply", String(20)),
    Column("next_phase", String(20)),
    Column("next_question", String(40)),
    Column("outcome", String(30)),
    Column("duration", Integer),
    Index(None, "at"),
)
