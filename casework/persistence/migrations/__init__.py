"""Alembic revisions of the casework schema (run by casework.persistence.migrate)."""
