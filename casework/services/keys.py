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


def rotate(ctx: Context, actor: str | None, out: str | None = None, school: str | None = None) -> Rotated:
    """Reseal every value under a new key, in one transaction, and swap the key file after commit.

    The new key is written first (``out``, or ``<key file>.new``) so that a crash after the commit
    still leaves it on disk; without ``out`` it then replaces the key file in place. The old key
    is not needed afterwards.
    """
    db = ctx.db
    db.check_key()
    old = db.keyring
    assert old is not None  # check_key refused otherwise
    if out is None and old.source is None:
        raise InvalidInput("--out FILE: the key came from CASEWORK_KEY, so name a file for the new key")
    staging = Path(out) if out is not None else Path(f"{old.source}.new")
    new = crypto.Key.generate()
    now = ctx.now()
    with db.write() as session:
        who = access.enter(session, actor, now.date())
        school_id = home_school(session, access.staff_of(session, who), now.date(), school)
        access.require(who, school_id, policy.KEYS_MANAGE)
        crypto.write_key_file(staging, new)
        ring = crypto.KeyRing(new, [old.current])
        try:
            count = crypto.reseal(session.connection(), old, ring)
            session.execute(update(CryptoKey).where(CryptoKey.key_id == old.current.hex_id).values(retired_at=now))
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
    db.use_keyring(crypto.KeyRing(new, source=str(final)))
    return Rotated(old.current.hex_id, new.hex_id, count, str(final))


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
