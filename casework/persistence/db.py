"""Engines and sessions: SQLite pragmas, IMMEDIATE write transactions, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from casework.errors import InvalidInput, PermissionDenied
from casework.persistence import (
    class_months,  # noqa: F401  (its listener counts the stale months of classes at each commit)
    contact_months,  # noqa: F401  (its listener keeps contact_month with each contact)
    crypto,
    scope,
)
from casework.persistence.store import Store
from casework.text import N_

READ_ONLY = "casework_read_only"
_GUARD_SQL = "SELECT key_id FROM crypto_key WHERE retired_at IS NULL"


def normalise_url(url: str) -> str:
    """A bare path means a SQLite file; ``postgresql://`` means psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_path(url: str) -> str | None:
    """The file a SQLite URL or bare path names; None for PostgreSQL, memory or a malformed URL."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return None
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return str(name)


def missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist (connecting would create it empty)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return False  # make_engine says what is wrong with it
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return False
    return not os.path.exists(name)


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise InvalidInput("--db: '{url}' is not a database URL or file path", url=url) from None
    if parsed.get_backend_name() == "sqlite":
        # The pool hands a connection to one user at a time, so it may serve several threads.
        engine = create_engine(parsed, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(
            "--db: {backend} is not supported; use a SQLite file or postgresql+psycopg://",
            backend=parsed.get_backend_name(),
        )
    return create_engine(parsed, **kwargs)


BUSY_TIMEOUT_MS = 60_000  # how long a SQLite statement waits for another connection's lock


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN, so that writes can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Deleted and overwritten content is zeroed in its page, not left in its free space; the
        # retention purge then empties the WAL too (clear_old_copies), which keeps older pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # A read-then-write transaction begun DEFERRED fails with "database is locked" when
        # another writer got in between; IMMEDIATE takes the write lock up front instead.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _own_transactions(pooled: Any, driver: Any) -> None:
    """Give the pool back a psycopg connection out of the autocommit raw_write put it in; one that
    cannot be (still in a transaction, or broken) is not pooled again."""
    try:
        driver.autocommit = False
    except Exception:
        pooled.invalidate()


class Database:
    """One engine and the two kinds of session the services use."""

    def __init__(self, url: str, keyring: crypto.KeyRing | None = None, **engine_kwargs: Any) -> None:
        """``keyring`` defaults to the key CASEWORK_KEY, CASEWORK_KEY_FILE or ``<file>.key`` give."""
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.keyring = keyring if keyring is not None else crypto.find_key(normalise_url(url))
        crypto.attach(self.engine.dialect, self.keyring)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        scope.install(self._write)
        scope.install(self._read)
        self._kept: tuple[int, threading.Thread, Any] | None = None  # see _checkout
        self._kept_busy = False  # in a transaction: a nested raw_write takes another
        self._keeping = threading.Lock()
        # SQLite has one writer at a time. Threads of this process wait for it here, woken as soon
        # as it is free, rather than in SQLite's busy handler, which sleeps and polls (up to 100 ms
        # a turn): under a web server's concurrent writes the polling made the slowest pages wait
        # seconds. Reentrant: a write that nests another in the same thread waits on SQLite, as before.
        self._writer = threading.RLock()
        # Whether write transactions check the database's current key id (None: not known yet).
        self._key_guard: bool | None = None
        # Told of every PermissionDenied that leaves a transaction, after the rollback, once: the
        # service layer logs the denial there (services.context installs it), whoever called.
        self.on_denied: Callable[[PermissionDenied], None] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def report_denial(self, exc: PermissionDenied) -> None:
        """Tell the hook of a refusal a use case turned into something else (a row's problem, say),
        after the transaction it happened in ended; once per refusal."""
        self._denied(exc)

    def _denied(self, exc: PermissionDenied) -> None:
        if self.on_denied is not None and not getattr(exc, "reported", False):
            exc.reported = True
            self.on_denied(exc)

    def _guard_sql(self) -> str | None:
        """The statement a write transaction runs first to learn the key the database is sealed
        under, or None when there is nothing to guard (no key ring, or a database without keys)."""
        if self.keyring is None:
            return None
        if self._key_guard is None:
            self._key_guard = self.stored_key() is not None
        if not self._key_guard:
            return None
        # FOR SHARE on PostgreSQL: a rotation retires this row with an UPDATE, which waits until
        # every writer holding it has finished, and a writer arriving after waits for the rotation.
        # SQLite's BEGIN IMMEDIATE already serialises the two.
        return _GUARD_SQL if self.is_sqlite else _GUARD_SQL + " FOR SHARE"

    def _guard_result(self, key_ids: Iterable[Any]) -> None:
        """Refuse to write when the database's current key (``key_ids``: the guard's answer) is not
        the one this process seals with: a rotation committed since the key was read, and a value
        sealed now would not open later."""
        assert self.keyring is not None
        current = {str(k) for k in key_ids}
        if self.keyring.current.hex_id not in current:
            raise crypto.KeyProblem(
                N_(
                    "the database's key was changed (key {key_id}) while this command ran with key {given}: "
                    "nothing was written; run the command again with the new key"
                ),
                key_id=", ".join(sorted(current)) or "-",
                given=self.keyring.current.hex_id,
            )

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        """On SQLite, this process's turn to write (other processes still wait in SQLite's busy
        handler); given up after the busy timeout, when SQLite's own wait decides as before."""
        if not self.is_sqlite:
            yield
            return
        held = self._writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            yield
        finally:
            if held:
                self._writer.release()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commit on success, roll back on any error.

        Its first statement checks that the database is still sealed under this process's key.
        """
        try:
            with self._one_writer(), self._write() as session, session.begin():
                guard = self._guard_sql()
                if guard is not None:
                    from sqlalchemy import text

                    self._guard_result(session.scalars(text(guard)))
                yield session
        except PermissionDenied as exc:
            self._denied(exc)
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._read() as session, session.begin():
                yield session
        except PermissionDenied as exc:
            self._denied(exc)
            raise

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read transaction whose every statement sees the same moment: REPEATABLE READ on
        PostgreSQL (READ COMMITTED takes a snapshot per statement); a SQLite read transaction
        already keeps the one its first read took."""
        with self.read() as session:
            if not self.is_sqlite:
                session.connection(
                    execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                )
            yield session

    def _checkout(self) -> tuple[Any, bool]:
        """A pooled connection for the hot path, and whether it is the one kept between transactions.

        Checking a connection out of the pool and back in (events, reset, bookkeeping) costs about
        as much as three of the hot path's statements, so one connection stays checked out, idle
        between transactions (no snapshot held: checkpoints and other writers go on), for the
        thread that uses it; a thread that ended leaves it to the next. Other threads meanwhile
        check one out per transaction, as before, so the pool is never held up by more than one.
        A connection kept in a parent process is the parent's: a child takes its own.
        """
        pid, me = os.getpid(), threading.current_thread()
        with self._keeping:
            kept = self._kept
            if kept is not None and kept[0] == pid and (self._kept_busy or (kept[1] is not me and kept[1].is_alive())):
                return self.engine.raw_connection(), False
            if kept is not None and kept[0] == pid:
                pooled = kept[2]
            else:
                pooled = self.engine.raw_connection()
            self._kept, self._kept_busy = (pid, me, pooled), True
            return pooled, True

    def _done(self, pooled: Any, kept: bool, failed: bool) -> None:
        """The transaction is over: the kept connection waits for the next, unless it failed;
        any other goes back to the pool, which resets it."""
        if kept:
            with self._keeping:
                self._kept_busy = False
                if not failed:
                    return
                if self._kept is not None and self._kept[2] is pooled:
                    self._kept = None
        pooled.close()

    @contextmanager
    def raw_write(self) -> Iterator[Store]:
        """One write transaction on the driver connection itself, for the hot path.

        Same semantics as ``write()`` (IMMEDIATE on SQLite, commit on success, roll back on
        any error) without the ORM session's bookkeeping, which costs more than the statements.
        After an error the connection goes back to the pool rather than being kept.
        """
        # The writer's turn as _one_writer takes it, and the transaction, in one generator: on the
        # hot path each context manager of contextlib's costs about as much as one of its statements.
        held = self.is_sqlite and self._writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            pooled, kept = self._checkout()
            driver: Any = pooled.driver_connection
            try:
                if self.is_sqlite:
                    driver.execute("BEGIN IMMEDIATE")
                    guard = self._guard_sql()
                    if guard is not None:
                        self._guard_result(r[0] for r in driver.execute(guard).fetchall())
                    yield Store(driver, pg=False, ring=self.keyring, info=pooled.info)
                    driver.execute("COMMIT")
                else:
                    # Pipeline mode: the writes travel with the next read or the commit, not one round trip each.
                    store = Store(driver, pg=True, ring=self.keyring, info=pooled.info)
                    # BEGIN and COMMIT are ours to send: psycopg's own BEGIN in a pipeline waits for its
                    # answer, and its commit() waits for the COMMIT's before the pipeline's closing sync
                    # waits again; ours travel with the first reads and with that closing sync.
                    driver.autocommit = True
                    try:
                        with driver.pipeline() as pipeline:
                            store.pipeline = pipeline
                            driver.execute("BEGIN")
                            # The key guard goes first (FOR SHARE holds a rotation off until this commits),
                            # with the store's first statement (in it, when that is the case's row); its
                            # answer comes back with the first reads', and is checked before the commit.
                            guard = self._guard_sql()
                            if guard is not None:
                                store.guard_first(guard)
                            yield store
                            store.flush()
                            if guard is not None:
                                self._guard_result(store.guard_keys())
                            driver.execute("COMMIT")  # answered, a failure with it, when the pipeline closes
                    except Exception as failure:
                        meant = store.settled(failure)
                        if meant is failure:
                            raise
                        raise meant from None
                    driver.autocommit = False  # the pool's other users expect psycopg's own transactions
            except BaseException as exc:
                try:
                    if self.is_sqlite:
                        if driver.in_transaction:
                            driver.execute("ROLLBACK")
                    else:
                        try:
                            driver.rollback()
                        finally:
                            _own_transactions(pooled, driver)
                finally:
                    self._done(pooled, kept, failed=True)
                if isinstance(exc, PermissionDenied):
                    self._denied(exc)
                raise
            self._done(pooled, kept, failed=False)
        finally:
            if held:
                self._writer.release()

    def clear_old_copies(self) -> bool:
        """SQLite: copy every page of the WAL into the database file and empty the WAL, so that the
        pages a committed erasure rewrote replace, in the file, those that held the values. False
        when it could not be done now: another connection was using the database (given up after
        2 s) or the checkpoint failed; the older pages then stay in the database file until the WAL
        is next checkpointed. PostgreSQL has no such step: False (dead row versions wait for VACUUM).
        """
        if not self.is_sqlite:
            return False
        pooled = self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        try:
            driver.execute("PRAGMA busy_timeout=2000")  # another connection's lock: give up soon, not after a minute
            try:
                busy, _frames, _copied = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            return False
        finally:
            pooled.close()
        return bool(busy == 0)

    def use_keyring(self, ring: crypto.KeyRing) -> None:
        self.keyring = ring
        crypto.attach(self.engine.dialect, ring)

    def stored_key(self) -> tuple[str, str] | None:
        """The (key id, check value) the database is sealed under; None before encryption existed."""
        from sqlalchemy import inspect, select

        from casework.persistence.tables import CryptoKey

        # A read (BEGIN, not BEGIN IMMEDIATE on SQLite): every command checks the key, and none
        # should have to queue for the write lock to do it.
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            if not inspect(conn).has_table(CryptoKey.__tablename__):
                return None
            row = conn.execute(
                select(CryptoKey.key_id, CryptoKey.check_value).where(CryptoKey.retired_at.is_(None))
            ).first()
        return (str(row[0]), str(row[1])) if row is not None else None

    def check_key(self) -> None:
        """Refuse to go on unless the key ring holds the key this database is sealed under.

        A key rotation killed after its commit and before its key file took the old one's name
        leaves the database's key in ``<key file>.new``: that is said, with how to recover.
        """
        stored = self.stored_key()
        self._key_guard = stored is not None
        if stored is None:
            return
        key_id, check = stored
        if self.keyring is None:
            raise crypto.KeyProblem(
                N_("{db} is encrypted (key {key_id}) and no key was given: set CASEWORK_KEY_FILE to its key file"),
                db=self.url,
                key_id=key_id,
            )
        current = self.keyring.current
        if current.hex_id != key_id or current.check != check:
            self._interrupted_rotation(key_id)
            raise crypto.KeyProblem(
                N_("the key from {source} (key {given}) is not the key of {db} (key {key_id})"),
                source=self.keyring.source or crypto.ENV_KEY,
                given=current.hex_id,
                db=self.url,
                key_id=key_id,
            )

    def _interrupted_rotation(self, key_id: str) -> None:
        """Raise, saying how to recover, if a ``*.key.new`` left by a rotation holds the database's key."""
        assert self.keyring is not None
        places = [self.keyring.source] if self.keyring.source else []
        beside = crypto.key_file_beside(normalise_url(self.url))
        if beside is not None:
            places.append(str(beside))
        for place in dict.fromkeys(places):
            staged = f"{place}.new"
            if not os.path.isfile(staged):
                continue
            try:
                held = crypto.read_key_file(Path(staged))
            except crypto.KeyProblem:
                continue
            if held.hex_id == key_id:
                raise crypto.KeyProblem(
                    N_(
                        "{staged} holds the key of {db} (key {key_id}): a key rotation was stopped after it "
                        "committed and before the new key file took its place. Recover with: mv {staged} {place}"
                    ),
                    staged=staged,
                    db=self.url,
                    key_id=key_id,
                    place=place,
                )

    def dispose(self) -> None:
        with self._keeping:
            kept, self._kept = self._kept, None
        if kept is not None and kept[0] == os.getpid():  # a parent's connection is the parent's to close
            kept[2].close()
        self.engine.dispose()
