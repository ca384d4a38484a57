"""Key rotation while writers write: afterwards every sealed value opens with the key file alone."""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import key_path
from tests.reliability.harness import FIGURES, check_database, logged, start_writers


@pytest.mark.slow
def test_rotation_during_a_write_loop_loses_nothing(keyed_world, tmp_path) -> None:
    from casework.persistence import crypto
    from casework.persistence.db import Database
    from casework.services import keys
    from tests.helpers import unscoped

    w = keyed_world
    cases = [w.case() for _ in range(3)]
    log = tmp_path / "committed.jsonl"
    procs = start_writers(2, w.url, w.extra["key_file"], str(log), cases, w.leader, w.counsellor)
    deadline = time.monotonic() + 60
    while (not log.exists() or log.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    rotations = 1
    for _ in range(rotations):
        keys.rotate(w.ctx, w.admin)
        time.sleep(0.5)  # the writers go on, and find the new key in the key file
    for p in procs:
        p.terminate()
        p.join()
    entries = logged(log)
    fresh = Database(w.url, keyring=crypto.read_key_ring(key_path(w)))
    fresh.check_key()
    with unscoped(fresh) as session:
        in_use = crypto.key_ids_in_use(session.connection())
    assert in_use <= set(fresh.keyring.keys[k].hex_id for k in fresh.keyring.keys), in_use
    from casework.services import Context

    ctx = Context(db=fresh)
    check_database(ctx, entries)
    # Every sealed value of every table opens: read each sealed column through the ORM.
    from sqlalchemy import select

    from casework.domain.access import SENSITIVE_COLUMNS
    from casework.persistence.crypto import sealed_columns
    from casework.persistence.tables import Base

    opened = 0
    with unscoped(fresh) as session:
        for table in Base.metadata.sorted_tables:
            names = [c for c in sealed_columns(table.name) if c in table.c]
            if table.name not in SENSITIVE_COLUMNS or not names:
                continue
            for row in session.execute(select(*(table.c[n] for n in names))):
                opened += sum(v is not None for v in row)
    fresh.dispose()
    FIGURES.add("key rotations under load", rotations)
    FIGURES.add("sealed values read after rotation", opened)
    assert opened > 0 and any(e["kind"] != "error" for e in entries)
