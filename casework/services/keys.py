"""The encryption key: create one, make sure a database has one, rotate it; find children by number or name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from casework.domain import access as policy
from casework.errors import InvalidInput
from casework.persistence import crypto, queries
from casework.persistence.db import Database, normalise_url
from casework.persistence.tables import Child, CryptoKey
from casework.services import access, trail
from casework.services.actors import home_school
from casework.services.context import Context
from casework.text import N_


def new_key_file(path: str) -> str:
    """Write a new random key to ``path`` (mode 0600, never over an existing file); its key id."""
    key = crypto.Key.generate()
    crypto.write_key_file(Path(path), key)
    return key.hex_id


def ensure_key(db: Database) -> str | None:
    """Give a database that has no key yet one: the path of the key file created, or None.

    A database already sealed must be opened with its key (check_key says which is missing); a
    SQLite file with no key anywhere gets ``<file>.key`` beside it; PostgreSQL needs the key named.
    """
    if db.keyring is not None or db.stored_key() is not None:
        return None
    beside = crypto.key_file_beside(normalise_url(db.url))
    if beside is None:
        raise crypto.KeyProblem(
            N_(
                "encryption at rest needs a key: create one with 'casework keys new --out FILE' "
                "and set CASEWORK_KEY_FILE=FILE"
            )
        )
    key = crypto.Key.generate()
    crypto.write_key_file(beside, key)
    db.use_keyring(crypto.KeyRing(key, source=str(beside)))
    return str(beside)


@dataclass(frozen=True)
class Rotated:
    old_key: str
    new_key: str
    values: int
    key_file: str
    retired_kept: tuple[str, ...]  # retired keys still in the key file: some value is sealed under them


def rotate(ctx: Context, actor: str | None, out: str | None = None, school: str | None = None) -> Rotated:
    """Reseal every value under a new key, in one transaction, and swap the key file after commit.

    The new key file is written first (``out``, or ``<key file>.new``), holding the new key and,
    after it, every key of the old ring, so that a crash after the commit still leaves the key on
    disk and no value can be sealed under a key the file has lost. Writers check in their own
    transaction that the key they seal with is the database's current one (Database.write), so
    none seals under the old key once the rotation committed. After the commit the old key file
    is replaced, and the retired keys are dropped from the new one only once a scan of every
    sealed value proves nothing is sealed under them.
    """
    db = ctx.db
    db.check_key()
    old = db.keyring
    assert old is not None  # check_key refused otherwise
    if out is None and old.source is None:
        raise InvalidInput("--out FILE: the key came from CASEWORK_KEY, so name a file for the new key")
    staging = Path(out) if out is not None else Path(f"{old.source}.new")
    if out is None and staging.exists():
        raise crypto.KeyProblem(
            N_(
                "{path} is left from a key rotation that did not commit (the database is still under key "
                "{key_id}): delete it, then rotate again"
            ),
            path=str(staging),
            key_id=old.current.hex_id,
        )
    new = crypto.Key.generate()
    now = ctx.now()
    ring = crypto.KeyRing(new, old.keys.values())
    with db.write() as session:
        who = access.enter(session, actor, now.date())
        school_id = home_school(session, access.staff_of(session, who), now.date(), school)
        access.require(who, school_id, policy.KEYS_MANAGE)
        # Retire the old key first: on PostgreSQL this waits for every writer that checked it.
        session.execute(update(CryptoKey).where(CryptoKey.retired_at.is_(None)).values(retired_at=now))
        crypto.write_key_file(staging, new, old.keys.values())
        try:
            count = crypto.reseal(session.connection(), old, ring)
            session.add(CryptoKey(key_id=new.hex_id, check_value=new.check, created_at=now))
            trail.Scribe(session, school_id, now, who.staff_id).write(
                "keys.rotated", "crypto_key", data={"from": old.current.hex_id, "to": new.hex_id}
            )
            session.flush()
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
    final = staging
    if out is None and old.source is not None:
        os.replace(staging, old.source)
        final = Path(old.source)
    db.use_keyring(crypto.KeyRing(new, old.keys.values(), source=str(final)))
    kept = _prune_retired(db, final, new, list(old.keys.values()))
    return Rotated(old.current.hex_id, new.hex_id, count, str(final), kept)


def _prune_retired(db: Database, key_file: Path, current: crypto.Key, retired: list[crypto.Key]) -> tuple[str, ...]:
    """Write the key file as the current key and the retired keys some stored value is still sealed
    under (the others dropped); the ids of those kept."""
    with db.read() as session:
        in_use = crypto.key_ids_in_use(session.connection())
    kept = [k for k in retired if k.hex_id in in_use and k.id != current.id]
    crypto.replace_key_file(key_file, current, kept)
    db.use_keyring(crypto.KeyRing(current, kept, source=str(key_file)))
    return tuple(k.hex_id for k in kept)


def find_children(
    ctx: Context, actor: str | None, phone: str | None = None, id_number: str | None = None, name: str | None = None
) -> list[access.ChildSummary]:
    """Children in the actor's scope with this phone or ID number (exact) or a name containing ``name``."""
    if sum(v is not None for v in (phone, id_number, name)) != 1:
        raise InvalidInput("give exactly one of --phone, --id-number, --name")
    with ctx.db.read() as session:
        who = access.enter(session, actor, ctx.now().date())
        # Every way in searches contact data (T1): a role that may not read it may not search it.
        schools = access.searchable_schools(who, policy.T1, "child.find")
        if name is not None:
            wanted = name.strip()
            if not wanted:
                raise InvalidInput("--name: give part of a name")
            # Names are sealed: decrypt the names in scope and compare here (school-sized).
            rows = session.execute(select(Child.id, Child.name, Child.school_id)).all()
            ids = [i for i, n, s in rows if s in schools and wanted in (n or "")]
        elif phone is not None:
            ids = queries.children_by_number(session, "phone", phone)
        else:
            assert id_number is not None
            ids = queries.children_by_number(session, "id_number", id_number)
        out, reads = access.child_summaries(session, who, ids)
        out = [o for o in out if o.school_id in schools]
    access.log_reads(ctx, reads, "child.find")
    return out
