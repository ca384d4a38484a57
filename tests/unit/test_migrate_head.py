"""The schema check reads the revisions without Alembic: it must agree with Alembic."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from casework.persistence import migrate


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    script = ScriptDirectory.from_config(migrate.config())
    alembic_head = script.get_current_head()
    assert alembic_head is not None
    assert migrate.head_revision() == alembic_head
    assert migrate.revisions() == [r.revision for r in reversed(list(script.walk_revisions()))]


def test_a_revision_this_casework_does_not_ship_is_newer() -> None:
    assert not any(migrate.is_newer(revision) for revision in migrate.revisions())
    assert migrate.is_newer("9999")
