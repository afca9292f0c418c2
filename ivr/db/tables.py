"""Every table of the database. A new table goes here, with a migration in `migrations/versions/`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
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

# The result SMS of each call, from the webhook that asks for it to Twilio's answer (ivr/sms/outbox.py).
# At most one per call (`call` unique) and `cap` per destination and day (`slot` < cap, unique with
# them), enforced by the database, so it holds across workers and instances. The destination is an
# HMAC of the number under IVR_SECRET; the number itself travels sealed with the message, and is
# erased once the message is settled.
sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("call", String(32), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("day", Date(), nullable=False),
    Column("slot", Integer, nullable=False),
    Column("sealed", LargeBinary()),
    Column("status", String(12), nullable=False),
    Column("tries", Integer, nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("next_at", DateTime(), nullable=False),
    Column("settled_at", DateTime()),
    # Whether the caller heard that it failed (once, at their next step at the result).
    Column("told", Boolean(), nullable=False),
    UniqueConstraint("call", name="uq_sms_outbox_call"),
    UniqueConstraint("destination", "day", "slot", name="uq_sms_outbox_destination"),
    Index("ix_sms_outbox_status", "status", "next_at"),
)
