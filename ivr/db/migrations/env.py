"""Alembic's entry point: migrate the connection handed over by ivr.db.migrate, or IVR_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from ivr.db.tables import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # `alembic revision --autogenerate` from a developer's shell: the configured database.
        from ivr.app import database_url
        from ivr.config import load_settings
        from ivr.db.engine import make_engine

        engine = make_engine(database_url(load_settings()))
        with engine.begin() as connection:
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()


run()
