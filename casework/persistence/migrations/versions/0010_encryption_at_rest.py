"""encryption at rest: sealed T1/T2 columns, blind indexes, the key table; seals existing plaintext

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Needs the key (casework.persistence.crypto): the plaintext an older release stored is sealed in
place, in this revision's transaction.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from casework.persistence import crypto

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIDX = {f"{c}_bidx": c for c in crypto.BLIND_INDEXED["child"]}


def _plain(kind: str, value: object) -> object:
    """A value as an older release stored it, as the sealed type's Python value."""
    if value is None or kind == "text":
        return value
    if kind == "json":
        return json.loads(value) if isinstance(value, str | bytes) else value
    return bytes(value)  # type: ignore[call-overload]


def upgrade() -> None:
    bind = op.get_bind()
    ring = crypto.ring_of(bind.dialect)
    op.create_table(
        "crypto_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("check_value", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_crypto_key")),
    )
    key_table = sa.table(
        "crypto_key",
        sa.column("key_id", sa.String),
        sa.column("check_value", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        key_table,
        [{"key_id": ring.current.hex_id, "check_value": ring.current.check, "created_at": datetime.now(UTC)}],
    )
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    # Generic over the policy table: whatever T1/T2 columns exist now are sealed.
    for table in crypto.SENSITIVE_COLUMNS:
        if table not in existing:
            continue
        present = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        names = [c for c in crypto.sealed_columns(table) if c in present]
        if not names:
            continue
        kinds = {
            c: "json"
            if isinstance(present[c], sa.JSON)
            else "bytes"
            if isinstance(present[c], sa.LargeBinary)
            else "text"
            for c in names
        }
        columns = ", ".join(names)
        rows = bind.exec_driver_sql(f"SELECT id, {columns} FROM {table}").all()
        textual = [n for n in names if kinds[n] != "bytes"]
        if bind.dialect.name == "postgresql":
            # One ALTER TABLE per table, not one per column: a fresh database is made often (tests).
            if textual:
                changes = ", ".join(f"ALTER COLUMN {n} TYPE BYTEA USING convert_to({n}::text, 'UTF8')" for n in textual)
                op.execute(f"ALTER TABLE {table} {changes}")
            if table == "child":
                for name in _BIDX:
                    op.add_column("child", sa.Column(name, sa.String(length=32), nullable=True))
                    op.create_index(f"ix_child_school_{name}", "child", ["school_id", name], unique=False)
        else:
            # SQLite rebuilds the table once, with the new types (and the child's blind indexes).
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name in textual:
                    batch_op.alter_column(name, existing_type=present[name], type_=sa.LargeBinary())
                if table == "child":
                    for name in _BIDX:
                        batch_op.add_column(sa.Column(name, sa.String(length=32), nullable=True))
                        batch_op.create_index(f"ix_child_school_{name}", ["school_id", name], unique=False)
        updates = []
        for row in rows:
            row_id = int(row[0])
            params: dict[str, object] = {"row_id": row_id}
            for name, value in zip(names, row[1:], strict=True):
                sealed = crypto.seal_value(ring, table, name, row_id, _plain(kinds[name], value))
                params[name] = sealed.blob if sealed is not None else None
            if table in crypto.BLIND_INDEXED:
                for name in crypto.BLIND_INDEXED[table]:
                    value = row[1 + names.index(name)] if name in names else None
                    params[crypto.bidx_column(name)] = ring.blind_index(table, name, value)
            updates.append(params)
        if updates:
            targets = [*names, *(crypto.bidx_column(n) for n in crypto.BLIND_INDEXED.get(table, ()) if n in names)]
            statement = sa.text(
                f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in targets)} WHERE id = :row_id"
            ).bindparams(*(sa.bindparam(c, type_=sa.LargeBinary()) for c in names))
            bind.execute(statement, updates)


def downgrade() -> None:
    # Sealed values are not turned back into plaintext: that would defeat the point of a downgrade
    # path an attacker could run. Restore from a backup made before the upgrade instead.
    raise NotImplementedError("0010 cannot be downgraded: restore the backup taken before the upgrade")
