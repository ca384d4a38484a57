"""Signed audit checkpoints kept outside the database: a rewritten chain fails against an earlier one.

A chain recomputed from some event on is self-consistent and passes plain verification. A
checkpoint, written earlier and stored elsewhere, holds each school's head (sequence, hash, time)
and the first 8 bytes of every event's hash up to it, signed with Ed25519. Verifying against it
finds the first event whose hash is no longer the one the checkpoint saw.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from casework import audit
from casework.errors import InvalidInput
from casework.formats.files import write_bytes
from casework.persistence.tables import AuditEvent, AuditHead
from casework.services import trail
from casework.services.audit import chain
from casework.services.context import Context

FORMAT = "casework.checkpoint.v1"
PREFIX_BYTES = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def keygen(path: str) -> str:
    """A new Ed25519 key pair: the private key at ``path`` (mode 600), the public key at path.pub."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    target = Path(path)
    if target.exists():
        raise InvalidInput("--out: {path} exists; a signing key is never overwritten", path=path)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private)
        write_bytes(f"{path}.pub", public)
    except OSError as exc:
        raise InvalidInput("--out: cannot write {path}: {error}", path=path, error=exc.strerror) from None
    return f"{path}.pub"


def _private_key(path: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            "--key: {path} is not a readable Ed25519 private key ({error})", path=path, error=type(exc).__name__
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("--key: {path} is not an Ed25519 private key", path=path)
    return key


def _public_raw(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _hashes(ctx: Context, school_id: int, upto: int) -> Iterator[tuple[int, str]]:
    with ctx.db.read() as session:
        result = session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.school_id == school_id, AuditEvent.seq <= upto)
            .order_by(AuditEvent.seq)
            .execution_options(yield_per=chain.STREAM_BATCH)
        )
        try:
            yield from ((int(seq), str(h)) for seq, h in result)
        finally:
            result.close()


@dataclass(frozen=True)
class Written:
    path: str
    schools: int
    events: int


def write(ctx: Context, actor: str | None, out: str, key_path: str) -> Written:
    """Sign the head and hash prefixes of each school where the actor holds AUDIT_READ; write to ``out``."""
    _, school_ids = chain.auditable(ctx, actor)
    key = _private_key(key_path)
    with ctx.db.read() as session:
        heads = [
            (int(s), int(q), str(h))
            for s, q, h in session.execute(
                select(AuditHead.school_id, AuditHead.seq, AuditHead.hash)
                .where(AuditHead.school_id.in_(school_ids))
                .order_by(AuditHead.school_id)
            )
        ]
    schools = []
    for school_id, seq, head_hash in heads:
        prefixes = b"".join(bytes.fromhex(h[: 2 * PREFIX_BYTES]) for _, h in _hashes(ctx, school_id, seq))
        schools.append(
            {"school_id": school_id, "seq": seq, "hash": head_hash, "prefixes": _b64(zlib.compress(prefixes, 9))}
        )
    payload = {"format": FORMAT, "created": trail.timestamp(ctx.now()), "schools": schools}
    document = {
        "payload": payload,
        "public_key": _b64(_public_raw(key.public_key())),
        "signature": _b64(key.sign(audit.dumps(payload).encode())),
    }
    write_bytes(out, json.dumps(document, indent=1).encode("utf-8"))
    return Written(out, len(schools), sum(s[1] for s in heads))


def _load(path: str, public_key_path: str | None) -> dict[str, Any]:
    """The checkpoint's payload, once its signature checks out (against a pinned key if given)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        payload, signature = document["payload"], base64.b64decode(document["signature"])
        embedded = base64.b64decode(document["public_key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "--checkpoint: {path} is not a casework checkpoint ({error})", path=path, error=type(exc).__name__
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InvalidInput("--checkpoint: {path} is not a casework checkpoint (format)", path=path)
    key = Ed25519PublicKey.from_public_bytes(embedded)
    if public_key_path is not None:
        try:
            pinned = load_pem_public_key(Path(public_key_path).read_bytes())
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                "--public-key: {path} is not a readable public key ({error})",
                path=public_key_path,
                error=type(exc).__name__,
            ) from None
        if not isinstance(pinned, Ed25519PublicKey) or _public_raw(pinned) != embedded:
            raise InvalidInput(
                "--checkpoint: {path} was not signed with the key in {key}", path=path, key=public_key_path
            )
    try:
        key.verify(signature, audit.dumps(payload).encode())
    except InvalidSignature:
        raise InvalidInput("--checkpoint: {path} has a bad signature: it was altered", path=path) from None
    return payload


@dataclass(frozen=True)
class CheckpointCheck:
    """A verification against a checkpoint: the result, and which checkpoint and key it was."""

    result: audit.VerifyResult
    created: str
    key_id: str  # the first 16 hex digits of the SHA-256 of the signing public key
    pinned: bool  # the key was given (--public-key), not only taken from the checkpoint


def check(ctx: Context, actor: str | None, path: str, public_key_path: str | None = None) -> CheckpointCheck:
    """``verify``, saying which checkpoint (when it was made) and which key signed it."""
    import hashlib

    document = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
    result = verify(ctx, actor, path, public_key_path)  # refuses a file that is not a signed checkpoint
    embedded = base64.b64decode(document["public_key"])
    return CheckpointCheck(
        result,
        str(document["payload"]["created"]),
        hashlib.sha256(embedded).hexdigest()[:16],
        public_key_path is not None,
    )


def verify(
    ctx: Context,
    actor: str | None,
    path: str,
    public_key_path: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> audit.VerifyResult:
    """Plain verification first; then every event up to each checkpointed head must be unchanged.

    The actor must hold AUDIT_READ at every school the checkpoint names. ``progress`` is told how
    far the plain verification has got (``chain.verify``).
    """
    payload = _load(path, public_key_path)
    _, school_ids = chain.auditable(ctx, actor, [int(school["school_id"]) for school in payload["schools"]])
    plain = chain.verify(ctx, school_ids, progress=progress)
    if not plain.ok:
        return plain
    for school in payload["schools"]:
        school_id, seq = int(school["school_id"]), int(school["seq"])
        expected = zlib.decompress(base64.b64decode(school["prefixes"]))
        seen = 0
        for event_seq, event_hash in _hashes(ctx, school_id, seq):
            seen = event_seq
            start = (event_seq - 1) * PREFIX_BYTES
            if bytes.fromhex(event_hash[: 2 * PREFIX_BYTES]) != expected[start : start + PREFIX_BYTES]:
                return audit.VerifyResult(
                    plain.events,
                    plain.schools,
                    audit.Problem(
                        school_id,
                        event_seq,
                        "rewritten",
                        f"event {event_seq} is not the one checkpoint {payload['created']} saw",
                    ),
                )
        if seen < seq:
            return audit.VerifyResult(
                plain.events,
                plain.schools,
                audit.Problem(school_id, seen + 1, "truncated", f"chain ends at {seen}, the checkpoint saw {seq}"),
            )
    return plain
