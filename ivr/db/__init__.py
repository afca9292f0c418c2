"""The database: one SQLAlchemy metadata, its Alembic migrations, and the engine for a URL."""
