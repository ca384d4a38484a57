"""Storage: SQLAlchemy tables, engines and sessions, Alembic migrations, streaming queries."""
