"""Encryption at rest: the key ring, AES-256-GCM values bound to their table, column and row, blind indexes.

Every T1 and T2 column of ``casework.domain.access.SENSITIVE_COLUMNS`` is *sealed*: the database
holds ``version byte + key id (4 bytes) + nonce (12 bytes) + ciphertext and tag``, and the
associated data names the table, the column and the row id, so a value copied to another row or
column fails to open. The key lives outside the database (``CASEWORK_KEY``, ``CASEWORK_KEY_FILE``
or, for a SQLite file, ``<file>.key`` beside it); the database keeps only key ids and a check value.

Rules for the rest of the code:

- write sealed columns through the ORM (``session.add``, attribute assignment) or through
  ``casework.persistence.bulk.insert_rows``, never with ``update().values()`` or raw SQL: the
  column type refuses a plaintext value, and the row id must be known to seal;
- never filter, order or group by a sealed column: the stored bytes are random. Exact lookups of
  phone and ID numbers go through the ``*_bidx`` blind-index columns (``blind_index``); a name
  search decrypts the rows of the caller's scope and compares in Python;
- hand-written SQL that reads a sealed column opens it with ``KeyRing.open`` and the row id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, LargeBinary, event, types
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper, attributes
from sqlalchemy.sql import expression
from sqlalchemy.sql.compiler import SQLCompiler

from casework.domain.access import SENSITIVE_COLUMNS, T1, T2
from casework.errors import CaseworkError
from casework.text import N_

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_ID_LEN = 4
NONCE_LEN = 12
KEY_LEN = 32
ENV_KEY = "CASEWORK_KEY"
ENV_KEY_FILE = "CASEWORK_KEY_FILE"

# Exact-match lookups: the blind index column of each indexed sealed column.
BLIND_INDEXED: dict[str, tuple[str, ...]] = {
    "child": ("id_number", "father_phone", "mother_phone", "guardian_phone"),
}


class KeyProblem(CaseworkError):
    """The key is missing, unreadable or not this database's key."""


class SealBroken(CaseworkError):
    """A sealed value does not open: moved to another row or column, altered, or under another key."""


def sealed_columns(table: str) -> tuple[str, ...]:
    """The sealed columns of a table, in the policy table's order."""
    return tuple(c for c, tier in SENSITIVE_COLUMNS.get(table, {}).items() if tier in (T1, T2))


def bidx_column(column: str) -> str:
    return f"{column}_bidx"


_DROP = str.maketrans("", "", " -\u3000")


def normalise_lookup(value: str) -> str:
    """Phone and ID numbers compare without spaces and dashes, ID numbers' final x as X."""
    return value.translate(_DROP).upper()


def _derive(master: bytes, label: str) -> bytes:
    return hmac.new(master, b"casework/" + label.encode(), hashlib.sha256).digest()


class Key:
    """One key's material and what is derived from it: its id, the data key, the blind-index key."""

    def __init__(self, master: bytes) -> None:
        if len(master) != KEY_LEN:
            raise KeyProblem(N_("a casework key is {n} bytes (base64); this one has {got}"), n=KEY_LEN, got=len(master))
        self.master = master
        self.id = _derive(master, "key-id")[:KEY_ID_LEN]
        self.check = _derive(master, "key-check").hex()[:32]
        # An HMAC keyed once and copied per value: keying costs more than hashing a phone number.
        # hmac.HMAC keeps OpenSSL's HMAC context in ``_hmac``; copying that one directly skips the
        # Python wrapper (1.3 µs instead of 2.1 µs a value). The digest is the same HMAC-SHA256.
        keyed = hmac.new(_derive(master, "blind-index"), digestmod=hashlib.sha256)
        self.bidx: Any = getattr(keyed, "_hmac", None) or keyed

    @cached_property
    def aead(self) -> AESGCM:
        """The cipher, made when a value is first sealed or opened: a command that reads nothing
        sealed imports no cryptography (every command opens the key ring to check it)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(_derive(self.master, "aes-256-gcm"))

    @property
    def hex_id(self) -> str:
        return self.id.hex()

    @classmethod
    def generate(cls) -> Key:
        return cls(os.urandom(KEY_LEN))

    def encoded(self) -> str:
        return base64.b64encode(self.master).decode("ascii")

    @classmethod
    def decode(cls, text: str, source: str) -> Key:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except ValueError:
            raise KeyProblem(N_("the key in {source} is not base64"), source=source) from None
        return cls(raw)


def _aad(table: str, column: str, row_id: int) -> bytes:
    return f"casework/v{VERSION}/{table}/{column}/{row_id}".encode()


_HEAD = 1 + KEY_ID_LEN  # where the nonce starts
_BODY = _HEAD + NONCE_LEN  # where the ciphertext starts
TAG_LEN = 16  # AES-GCM's tag, after the ciphertext


# The longest stored sealed value that may hold an empty one: at most 2 bytes of plaintext ("" as
# text, '""' as JSON; GCM's ciphertext is as long as its plaintext); shorter ones are not even
# sealed values. Only such values need opening to tell whether a field is filled.
LONGEST_MAYBE_EMPTY = _BODY + TAG_LEN + 2


class KeyRing:
    """The key new values are sealed with, and every key a stored value may name."""

    def __init__(self, current: Key, others: Iterable[Key] = (), source: str | None = None) -> None:
        self.current = current
        self.keys = {current.id: current, **{k.id: k for k in others}}
        self.source = source  # the key file, when the key came from one

    def seal(self, table: str, column: str, row_id: int, plaintext: bytes, nonce: bytes | None = None) -> bytes:
        """``nonce``, 12 random bytes, may be given by a caller that draws many at once."""
        nonce = nonce or os.urandom(NONCE_LEN)
        body = self.current.aead.encrypt(nonce, plaintext, _aad(table, column, row_id))
        return bytes((VERSION,)) + self.current.id + nonce + body

    def open(self, table: str, column: str, row_id: int, blob: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if type(blob) is not bytes:  # memoryview from psycopg, say
            blob = bytes(blob)
        key = self.keys.get(blob[1:_HEAD]) if len(blob) > _BODY and blob[0] == VERSION else None
        if key is None:
            raise SealBroken(
                N_("{table}.{column} of row {row} is sealed under a key this key ring does not hold"),
                table=table,
                column=column,
                row=row_id,
            )
        try:
            return key.aead.decrypt(blob[_HEAD:_BODY], blob[_BODY:], _aad(table, column, row_id))
        except InvalidTag:
            raise SealBroken(
                N_("{table}.{column} of row {row} does not decrypt: altered, or copied from another row or column"),
                table=table,
                column=column,
                row=row_id,
            ) from None

    def opener(self, table: str, column: str) -> Callable[[int, Any], bytes]:
        """``open`` for many values of one column: the associated data's prefix made once, the
        key looked up by id per value; a value that does not open raises as ``open`` does."""
        from cryptography.exceptions import InvalidTag

        prefix = f"casework/v{VERSION}/{table}/{column}/"
        keys = self.keys

        def open_one(row_id: int, blob: Any) -> bytes:
            if type(blob) is not bytes:
                blob = bytes(blob)
            key = keys.get(blob[1:_HEAD]) if len(blob) > _BODY and blob[0] == VERSION else None
            if key is not None:
                try:
                    plain: bytes = key.aead.decrypt(blob[_HEAD:_BODY], blob[_BODY:], f"{prefix}{row_id}".encode())
                    return plain
                except InvalidTag:
                    pass
            return self.open(table, column, row_id, blob)  # raises SealBroken with the reason

        return open_one

    def blind_index(self, table: str, column: str, value: str | None) -> str | None:
        """The HMAC-SHA256 (first 128 bits, hex) of a normalised number, keyed by the current key."""
        if value is None:
            return None
        number = normalise_lookup(value)
        if not number:
            return None
        mac = self.current.bidx.copy()
        mac.update(f"{table}/{column}/{number}".encode())
        digest: str = mac.hexdigest()
        return digest[:32]


# -- where the key comes from ------------------------------------------------------------------


def key_file_beside(url: str) -> Path | None:
    """The default key file of a SQLite database: ``<file>.key``; none for PostgreSQL."""
    if "://" in url and not url.startswith("sqlite:///"):
        return None
    path = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else url
    if not path or path == ":memory:":
        return None
    return Path(path + ".key")


def read_key_file(path: Path) -> Key:
    """The current key of a key file (its first line); see ``read_key_ring`` for the retired ones."""
    return read_key_ring(path).current


def read_key_ring(path: Path) -> KeyRing:
    """A key file's key ring: the current key on the first line, retired keys (kept until nothing
    is sealed under them) on the lines after it."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyProblem(N_("the key file {path} does not exist"), path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyProblem(
            N_("the key file {path} cannot be read: {problem}"), path=str(path), problem=str(exc)
        ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise KeyProblem(N_("the key file {path} is empty"), path=str(path))
    keys = [Key.decode(line, str(path)) for line in lines]
    return KeyRing(keys[0], keys[1:], source=str(path))


def _key_text(key: Key, retired: Iterable[Key]) -> str:
    others = [k for k in retired if k.id != key.id]
    return "".join(k.encoded() + "\n" for k in (key, *others))


def write_key_file(path: Path, key: Key, retired: Iterable[Key] = ()) -> None:
    """Write a key file readable by its owner only; never overwrite one. ``retired`` keys follow
    the current one, so that values still sealed under them open."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        raise KeyProblem(N_("the key file {path} already exists; it is never overwritten"), path=str(path)) from None
    except OSError as exc:
        raise KeyProblem(
            N_("the key file {path} cannot be written: {problem}"), path=str(path), problem=exc.strerror or str(exc)
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(_key_text(key, retired))
        out.flush()
        os.fsync(out.fileno())


def replace_key_file(path: Path, key: Key, retired: Iterable[Key] = ()) -> None:
    """Replace a key file whole: a new file (random name, O_EXCL, mode 0600) renamed over it."""
    import tempfile

    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_key_text(key, retired))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        if os.path.lexists(partial):
            os.unlink(partial)


def find_key(url: str, environ: dict[str, str] | None = None, key_file: str | None = None) -> KeyRing | None:
    """The key ring from CASEWORK_KEY, CASEWORK_KEY_FILE (or the settings' key file), or the file beside.

    None when no source names a key at all; a source that names one but cannot give it raises.
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY):
        return KeyRing(Key.decode(env[ENV_KEY], ENV_KEY))
    named = env.get(ENV_KEY_FILE) or key_file
    if named:
        return read_key_ring(Path(named))
    beside = key_file_beside(url)
    if beside is not None and beside.exists():
        return read_key_ring(beside)
    return None


# -- the key ring of an engine ---------------------------------------------------------------------

_RING_ATTR = "casework_keyring"


def attach(dialect: Dialect, ring: KeyRing | None) -> None:
    """Make ``ring`` the key ring of every connection of the engine that owns ``dialect``."""
    setattr(dialect, _RING_ATTR, ring)


def ring_of(dialect: Dialect) -> KeyRing:
    ring: KeyRing | None = getattr(dialect, _RING_ATTR, None)
    if ring is None:
        raise KeyProblem(
            N_(
                "no encryption key: set CASEWORK_KEY_FILE (or CASEWORK_KEY) to this database's key, "
                "or create one with 'casework keys new --out FILE'"
            )
        )
    return ring


# -- the column type ---------------------------------------------------------------------------------


class Sealed:
    """A value already sealed for its row, on its way into the database."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob


class _Packed(expression.FunctionElement[Any]):
    """``<row id>:<hex of the sealed value>``, or NULL: a sealed value and the id it is bound to."""

    inherit_cache = True
    name = "casework_packed"


@compiles(_Packed)
def _packed_sqlite(element: _Packed, compiler: SQLCompiler, **kw: Any) -> str:
    row_id, value = list(element.clauses)
    return (
        f"(CAST({compiler.process(row_id, **kw)} AS TEXT) || ':' || nullif(hex({compiler.process(value, **kw)}), ''))"
    )


@compiles(_Packed, "postgresql")
def _packed_pg(element: _Packed, compiler: SQLCompiler, **kw: Any) -> str:
    row_id, value = list(element.clauses)
    return f"(CAST({compiler.process(row_id, **kw)} AS TEXT) || ':' || encode({compiler.process(value, **kw)}, 'hex'))"


class SealedType(types.TypeDecorator[Any]):
    """A sealed column: plaintext in Python, AES-GCM bytes bound to table, column and row in the database.

    Reading selects the row id along with the value (``column_expression``), so every SELECT
    that names the column, ORM or Core, gets plaintext. Writing takes only ``Sealed`` values,
    made by the ORM hooks below or by ``seal_value``: a plaintext written by ``update().values()``
    or compared in a WHERE clause is refused rather than stored or matched in the clear.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, table: str, column: str, kind: str, length: int | None = None) -> None:
        super().__init__()
        self.table = table
        self.column = column
        self.kind = kind  # "text", "json" or "bytes"
        # The plaintext's limit, as declared before sealing: validation enforces it, the bytes column cannot.
        self.length = length

    def column_expression(self, colexpr: Any) -> Any:
        row_id = colexpr.table.c.id
        packed = _Packed(row_id, colexpr)
        packed.type = self
        return packed

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.blob
        raise SealBroken(
            N_("{table}.{column} is sealed: write it through the ORM or bulk.insert_rows, filter by its blind index"),
            table=self.table,
            column=self.column,
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bytes | memoryview):
            raise SealBroken(N_("{table}.{column} was read without its row id"), table=self.table, column=self.column)
        row, _, blob = str(value).partition(":")
        plain = ring_of(dialect).open(self.table, self.column, int(row), bytes.fromhex(blob))
        return decode(self.kind, plain)


def encode(kind: str, value: Any) -> bytes:
    if kind == "bytes":
        return bytes(value)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    return str(value).encode("utf-8")


def decode(kind: str, plain: bytes) -> Any:
    if kind == "bytes":
        return plain
    text = plain.decode("utf-8")
    return json.loads(text) if kind == "json" else text


def seal_value(ring: KeyRing, table: str, column: str, row_id: int, value: Any) -> Sealed | None:
    """The sealed form of a plain value for (table, column, row); None stays None."""
    if value is None:
        return None
    kind = _KINDS.get((table, column), "text")
    return Sealed(ring.seal(table, column, row_id, encode(kind, value)))


def open_value(ring: KeyRing, table: str, column: str, row_id: int, blob: Any) -> Any:
    """The plain value of a sealed column read by hand-written SQL."""
    if blob is None:
        return None
    return decode(_KINDS.get((table, column), "text"), ring.open(table, column, row_id, blob))


_KINDS: dict[tuple[str, str], str] = {}


def _kind(column_type: Any) -> str:
    if isinstance(column_type, types.JSON):
        return "json"
    if isinstance(column_type, types._Binary):
        return "bytes"
    return "text"


def seal_table(table: Any) -> None:
    """Make every sealed column of the table a SealedType; idempotent."""
    table_name = table.name
    for column_name in sealed_columns(table_name):
        if column_name in table.c:
            column = table.c[column_name]
            if isinstance(column.type, SealedType):
                continue
            kind = _kind(column.type)
            _KINDS[(table_name, column_name)] = kind
            column.type = SealedType(table_name, column_name, kind, getattr(column.type, "length", None))


# -- row ids known before INSERT ------------------------------------------------------------------------


def allocate_ids(connection: Connection, table: str, count: int) -> list[int]:
    """``count`` fresh ids for ``table``: its sequence on PostgreSQL, past MAX(id) on SQLite.

    SQLite writes hold the database's write lock (BEGIN IMMEDIATE), so MAX(id) cannot move under
    us; ids handed out earlier in the same transaction but not inserted yet are remembered on the
    connection so two allocations never overlap.
    """
    if count <= 0:
        return []
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor()
        try:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count)
            )
            return [int(r[0]) for r in cursor.fetchall()]
        finally:
            cursor.close()
    return allocate_sqlite_ids(driver, connection.info, table, count)


def allocate_sqlite_ids(driver: Any, info: dict[str, Any], table: str, count: int) -> list[int]:
    cursor = driver.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - table names come from the metadata
    top = int(cursor.fetchone()[0] or 0)
    cursor.close()
    handed: dict[str, int] = info.setdefault("casework_ids", {})
    start = max(top, handed.get(table, 0)) + 1
    handed[table] = start + count - 1
    return list(range(start, start + count))


def _seal_target(mapper: Mapper[Any], connection: Connection, target: Any, inserting: bool) -> None:
    table = mapper.local_table.name  # type: ignore[attr-defined]
    names = sealed_columns(table)
    if not names:
        return
    ring = ring_of(connection.dialect)
    if target.id is None:
        target.id = allocate_ids(connection, table, 1)[0]
    state = attributes.instance_state(target)
    plain: dict[str, Any] = {}
    for name in names:
        if not inserting and not state.attrs[name].history.has_changes():
            continue
        value = state.dict.get(name)
        if value is None or isinstance(value, Sealed):
            continue
        plain[name] = value
        setattr(target, name, seal_value(ring, table, name, target.id, value))
    for name in BLIND_INDEXED.get(table, ()):
        if name in plain:
            setattr(target, bidx_column(name), ring.blind_index(table, name, plain[name]))
        elif not inserting and state.attrs[name].history.has_changes():
            setattr(target, bidx_column(name), None)  # the number was cleared
    state.info["casework_plain"] = plain


def _restore_target(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    state = attributes.instance_state(target)
    plain = state.info.pop("casework_plain", None)
    for name, value in (plain or {}).items():
        attributes.set_committed_value(target, name, value)


def install(base: type) -> None:
    """Seal the sensitive columns of every table mapped on ``base``, as it is mapped and as rows are flushed."""

    def instrument_class(mapper: Mapper[Any], cls: type) -> None:
        seal_table(mapper.local_table)

    def before_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
        _seal_target(mapper, connection, target, inserting=True)

    def before_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
        _seal_target(mapper, connection, target, inserting=False)

    event.listen(base, "instrument_class", instrument_class, propagate=True)
    event.listen(base, "before_insert", before_insert, propagate=True)
    event.listen(base, "before_update", before_update, propagate=True)
    event.listen(base, "after_insert", _restore_target, propagate=True)
    event.listen(base, "after_update", _restore_target, propagate=True)


def seal_rows(
    ring: KeyRing, table: str, columns: Sequence[str], ids: Sequence[int], rows: Sequence[Sequence[Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Rows for a Core INSERT with the sealed values as stored bytes and their blind indexes added.

    Returns (columns, rows); the id column comes first. The nonces of a batch are drawn at once.
    """
    names = set(sealed_columns(table))
    kinds = [(i, c, _KINDS.get((table, c), "text")) for i, c in enumerate(columns) if c in names]
    indexed = [(columns.index(c), c) for c in BLIND_INDEXED.get(table, ()) if c in columns]
    out_columns = ["id", *columns, *(bidx_column(c) for _, c in indexed)]
    pool = os.urandom(NONCE_LEN * len(kinds) * len(rows))
    # The loop runs for every value of an import: the key's encrypt and the header are looked up once.
    encrypt = ring.current.aead.encrypt
    header = bytes((VERSION,)) + ring.current.id
    aad_prefix = [
        (i, f"casework/v{VERSION}/{table}/{column}/".encode(), kind == "text", kind) for i, column, kind in kinds
    ]
    # Blind indexes as ``KeyRing.blind_index`` makes them, with the keyed HMAC and prefixes looked up once.
    keyed = ring.current.bidx
    bidx_prefix = [(i, f"{table}/{column}/") for i, column in indexed]
    at = 0
    out: list[list[Any]] = []
    for row_id, row in zip(ids, rows, strict=True):
        values: list[Any] = [row_id, *row]
        suffix = str(row_id).encode()
        for i, prefix, text, kind in aad_prefix:
            value = row[i]
            if value is not None:
                nonce = pool[at : at + NONCE_LEN]
                plain = value.encode() if text else encode(kind, value)
                values[i + 1] = header + nonce + encrypt(nonce, plain, prefix + suffix)
            at += NONCE_LEN
        for i, label in bidx_prefix:
            value = row[i]
            number = value.translate(_DROP).upper() if value is not None else None
            if number:
                mac = keyed.copy()
                mac.update(f"{label}{number}".encode())
                values.append(mac.hexdigest()[:32])
            else:
                values.append(None)
        out.append(values)
    return out_columns, out


def key_ids_in_use(connection: Connection) -> set[str]:
    """The ids (hex) of every key some stored value is sealed under: what proves a retired key unused."""
    from sqlalchemy import inspect, text

    present = set(inspect(connection).get_table_names())
    found: set[str] = set()
    for table in SENSITIVE_COLUMNS:
        if table not in present:
            continue
        for name in sealed_columns(table):
            sql = f"SELECT DISTINCT substr({name}, 2, {KEY_ID_LEN}) FROM {table} WHERE {name} IS NOT NULL"
            found.update(bytes(row[0]).hex() for row in connection.execute(text(sql)) if row[0] is not None)
    return found


def reseal(connection: Connection, old: KeyRing, new: KeyRing, batch: int = 500) -> int:
    """Re-encrypt every sealed value (and recompute every blind index) from ``old`` to ``new``.

    Runs in the caller's transaction, a batch of rows at a time so that stored documents do not
    all sit in memory at once. Returns how many values were resealed.
    """
    from sqlalchemy import LargeBinary as Binary
    from sqlalchemy import bindparam, inspect, text

    present = set(inspect(connection).get_table_names())
    count = 0
    for table in SENSITIVE_COLUMNS:
        names = sealed_columns(table)
        if table not in present or not names:
            continue
        indexed = [n for n in BLIND_INDEXED.get(table, ()) if n in names]
        targets = [*names, *(bidx_column(n) for n in indexed)]
        update = text(f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in targets)} WHERE id = :row_id").bindparams(
            *(bindparam(c, type_=Binary()) for c in names)
        )
        select_sql = f"SELECT id, {', '.join(names)} FROM {table} WHERE id > :after ORDER BY id LIMIT {batch}"
        after = 0
        while True:
            rows = connection.execute(text(select_sql), {"after": after}).all()
            if not rows:
                break
            params = []
            for row in rows:
                row_id = int(row[0])
                values: dict[str, Any] = {"row_id": row_id}
                for name, blob in zip(names, row[1:], strict=True):
                    if blob is None:
                        values[name] = None
                        continue
                    plain = old.open(table, name, row_id, bytes(blob))
                    values[name] = new.seal(table, name, row_id, plain)
                    count += 1
                    if name in indexed:
                        values[bidx_column(name)] = new.blind_index(table, name, plain.decode("utf-8"))
                for name in indexed:
                    values.setdefault(bidx_column(name), None)
                params.append(values)
            connection.execute(update, params)
            after = int(rows[-1][0])
    return count
