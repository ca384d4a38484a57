"""The hot path's kept connection: one per database, never more of the pool held than that."""

from __future__ import annotations

import threading

import pytest

from casework.persistence.db import Database


@pytest.fixture
def db(tmp_path):
    database = Database(str(tmp_path / "hot.db"), pool_size=2, max_overflow=0, pool_timeout=1)
    with database.raw_write() as store:
        store.run("CREATE TABLE t (n INTEGER)")
    yield database
    database.dispose()


def _insert(db: Database, n: int) -> None:
    with db.raw_write() as store:
        store.run("INSERT INTO t (n) VALUES (?)", n)


def _count(db: Database) -> int:
    with db.raw_write() as store:
        row = store.one("SELECT count(*) FROM t")
    assert row is not None
    return int(row[0])


def test_threads_that_end_do_not_keep_connections_from_the_pool(db) -> None:
    for n in range(12):  # a pool of two: the twelfth thread would time out if each kept one
        thread = threading.Thread(target=_insert, args=(db, n))
        thread.start()
        thread.join()
    assert _count(db) == 12
    assert db.engine.pool.checkedout() == 1  # the one kept, now this thread's


def test_other_threads_check_out_per_transaction_while_one_is_kept(db) -> None:
    _insert(db, 0)  # this thread keeps one of the two
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for n in range(start, start + 5):
                _insert(db, n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 10,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and _count(db) == 16


def test_a_write_inside_a_write_is_not_given_the_busy_connection_and_an_error_gives_it_back(db) -> None:
    with db.raw_write() as outer:
        outer.run("INSERT INTO t (n) VALUES (1)")
        other, kept = db._checkout()
        assert not kept and other.driver_connection is not outer._raw
        other.close()
    with pytest.raises(ZeroDivisionError), db.raw_write() as store:
        store.run("INSERT INTO t (n) VALUES (2)")
        raise ZeroDivisionError
    assert db.engine.pool.checkedout() == 0  # a connection that saw an error is not kept
    assert _count(db) == 1
