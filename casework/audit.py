"""The audit hash chain: the event's canonical form, its hash, and verification of a chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from casework.text import N_

# Domain separation: a casework audit hash can never be mistaken for any other SHA-256.
PREFIX = b"casework.audit.v1\x00"
GENESIS = "0" * 64

# The fields an event is made of, in the order exports show them. All are hashed.
FIELDS: tuple[str, ...] = (
    "school_id",
    "seq",
    "ts",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "from_state",
    "to_state",
    "data",
    "prev_hash",
)


_SAFE_INT = 2**53


def _simple(value: Any) -> bool:
    """True when RFC 8785 and sorted compact json.dumps agree on ``value``.

    They differ only on floats (RFC 8785 uses ECMAScript number formatting), on integers past
    2^53, and on the order of keys beyond U+D800 (RFC 8785 sorts by UTF-16 code units).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_SAFE_INT < item < _SAFE_INT:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or (key and max(key) >= "\ud800"):
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def dumps(value: Any) -> str:
    """RFC 8785 canonical JSON text; the rfc8785 package for anything beyond the plain cases."""
    if _simple(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return bytes(rfc8785.dumps(value)).decode()


_BODY = "\x00data\x00"
_BODY_JSON = json.dumps(_BODY)


def canonical(event: Mapping[str, Any], body: str | None = None) -> bytes:
    """RFC 8785 canonical JSON of the event's hashed fields.

    ``body``, when given, is the canonical text of ``event["data"]`` already made: it is set
    into place instead of encoding the data a second time.
    """
    if body is None:
        return dumps({k: event[k] for k in FIELDS}).encode()
    return _with_body({k: (_BODY if k == "data" else event[k]) for k in FIELDS}, body).encode()


def _with_body(shell: dict[str, Any], body: str) -> str:
    """The shell's canonical JSON with the data text set into place.

    The shell's keys are our field names (plain ASCII); only its values need checking before
    the json module may stand in for RFC 8785.
    """
    if all(type(v) is str or v is None or (type(v) is int and -_SAFE_INT < v < _SAFE_INT) for v in shell.values()):
        text = json.dumps(shell, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    else:
        text = dumps(shell)
    return text.replace(_BODY_JSON, body, 1)


def json_line(event: Mapping[str, Any]) -> str:
    """One event, hash included, as a line of JSON; data stored as text goes in as it is."""
    data = event["data"]
    if not isinstance(data, str):
        return dumps({k: event[k] for k in (*FIELDS, "hash")})
    return _with_body({k: (_BODY if k == "data" else event[k]) for k in (*FIELDS, "hash")}, data)


def event_hash(event: Mapping[str, Any], body: str | None = None) -> str:
    return hashlib.sha256(PREFIX + canonical(event, body)).hexdigest()


PROBLEM_KINDS: dict[str, str] = {
    "gap": N_("missing event"),
    "broken_link": N_("broken link"),
    "altered": N_("altered content"),
    "truncated": N_("truncated chain"),
    "rewritten": N_("rewritten since a checkpoint"),
}


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a chain: where, and what."""

    school_id: int
    seq: int
    kind: str  # gap | broken_link | altered | truncated | rewritten
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    events: int
    schools: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(events: Iterable[Mapping[str, Any]], heads: Mapping[int, tuple[int, str]] | None = None) -> VerifyResult:
    """Recompute the chains (one per school) from events ordered by (school_id, seq).

    ``heads`` maps school to the (seq, hash) the database says is last; a chain that stops
    short of its head was truncated. Stops at the first problem, which names the sequence.
    """
    count = 0
    schools: set[int] = set()
    school: int | None = None
    expected_seq = 1
    prev = GENESIS
    last: dict[int, tuple[int, str]] = {}
    for event in events:
        count += 1
        sid = int(event["school_id"])
        if sid != school:
            school, expected_seq, prev = sid, 1, GENESIS
            schools.add(sid)
        seq = int(event["seq"])
        if seq != expected_seq:
            return VerifyResult(
                count,
                len(schools),
                Problem(sid, expected_seq, "gap", f"expected sequence {expected_seq}, found {seq}"),
            )
        if event["prev_hash"] != prev:
            return VerifyResult(
                count,
                len(schools),
                Problem(sid, seq, "broken_link", "prev_hash does not match the previous event"),
            )
        data = event["data"]
        # Events straight from the database carry their data as the stored canonical text.
        actual = event_hash(event, data) if isinstance(data, str) else event_hash(event)
        if actual != event["hash"]:
            return VerifyResult(
                count,
                len(schools),
                Problem(sid, seq, "altered", "content does not match its hash"),
            )
        prev = actual
        expected_seq = seq + 1
        last[sid] = (seq, actual)
    for sid, (head_seq, head_hash) in (heads or {}).items():
        seen_seq, seen_hash = last.get(sid, (0, GENESIS))
        if seen_seq < head_seq:
            return VerifyResult(
                count,
                len(schools | {sid}),
                Problem(sid, seen_seq + 1, "truncated", f"chain ends at {seen_seq}, head is {head_seq}"),
            )
        if seen_seq == head_seq and seen_hash != head_hash:
            return VerifyResult(
                count,
                len(schools),
                Problem(sid, head_seq, "altered", "last event does not match the recorded head"),
            )
    return VerifyResult(count, len(schools), None)


def chain(
    school_id: int, head: tuple[int, str], events: Iterable[dict[str, Any]], body: str | None = None
) -> Iterator[dict[str, Any]]:
    """Number and link new events after ``head``; yields them with ``hash`` filled in.

    ``body`` is the canonical text of the data of a single event, when the caller has it.
    """
    seq, prev = head
    for event in events:
        seq += 1
        event.update(school_id=school_id, seq=seq, prev_hash=prev)
        event["hash"] = prev = event_hash(event, body)
        yield event
