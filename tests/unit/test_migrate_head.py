"""The schema check reads the head revision without Alembic: it must agree with Alembic."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from casework.persistence import migrate


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    alembic_head = ScriptDirectory.from_config(migrate.config()).get_current_head()
    assert alembic_head is not None
    assert migrate.head_revision() == alembic_head
    assert migrate.revisions()[-1] == alembic_head
