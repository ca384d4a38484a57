"""The audit hash chain: the event's canonical form, its hash, and verification of a chain."""

from __future__ import annotations

import hashlib
import itertools
import json
import json.encoder
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import rfc8785

from casework.memo import Kept
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
            # A long list of ids (an access event's children) is checked at C speed, not item by item.
            if len(item) > 64 and set(map(type, item)) == {int}:
                if not -_SAFE_INT < min(item) <= max(item) < _SAFE_INT:
                    return False
                continue
            stack.extend(item)
        else:
            return False
    return True


# json.dumps builds a new encoder for every call given options; one made once does the same.
_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """RFC 8785 canonical JSON text; the rfc8785 package for anything beyond the plain cases."""
    if _simple(value):
        return _SORTED(value)
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
        text = _SORTED(shell)
    else:
        text = dumps(shell)
    if text.count(_BODY_JSON) != 1:  # another field holds the placeholder's text itself
        return _split_around({k: v for k, v in shell.items() if k != "data"}, "data", body)
    return text.replace(_BODY_JSON, body, 1)


def embed(shell: Mapping[str, Any], key: str, text: str) -> str:
    """RFC 8785 JSON of ``shell`` with ``text``, canonical JSON made already, as the value of ``key``.

    For an object most of whose bytes are parts made (and kept) before: an event's data and its
    verdicts.
    """
    head, tail = _around.get((shell, key), lambda: _around_key(shell, key))
    return head + text + tail


_around: Kept[tuple[str, str]] = Kept()  # an event's shell repeats: same event, same rule set


def _around_key(shell: Mapping[str, Any], key: str) -> tuple[str, str]:
    """The canonical JSON of ``shell`` with ``key`` added, before and after that key's value.

    The value is first a placeholder, then cut out; a placeholder the shell itself holds (as a
    key or a value, anywhere) is passed over for one it does not.
    """
    for n in itertools.count():
        placeholder = _BODY if n == 0 else f"{_BODY}{n}"
        made = dumps({**shell, key: placeholder})
        marker = json.dumps(placeholder)
        if made.count(marker) == 1:
            head, _, tail = made.partition(marker)
            return head, tail
    raise AssertionError("unreachable")  # pragma: no cover - itertools.count() does not end


def _split_around(shell: Mapping[str, Any], key: str, text: str) -> str:
    head, tail = _around_key(shell, key)
    return head + text + tail


def json_line(event: Mapping[str, Any]) -> str:
    """One event, hash included, as a line of JSON; data stored as text goes in as it is."""
    data = event["data"]
    if not isinstance(data, str):
        return dumps({k: event[k] for k in (*FIELDS, "hash")})
    return _with_body({k: (_BODY if k == "data" else event[k]) for k in (*FIELDS, "hash")}, data)


def event_hash(event: Mapping[str, Any], body: str | None = None) -> str:
    if body is not None and _as_rows_hold(event):  # written out as ``canonical_row`` writes a stored one
        return hashlib.sha256(
            PREFIX + canonical_row((*(event[k] for k in FIELDS[:10]), body, event["prev_hash"]))
        ).hexdigest()
    return hashlib.sha256(PREFIX + canonical(event, body)).hexdigest()


_ROW_NUMBERS = ("school_id", "seq", "actor_id", "object_id", "case_id")
_ROW_TEXTS = ("ts", "action", "object_type", "from_state", "to_state", "prev_hash")


def _as_rows_hold(event: Mapping[str, Any]) -> bool:
    """Whether the event's fields are of the kinds ``canonical_row`` writes out: whole numbers under
    2^53 (school and sequence never null) and texts, as every event ``chain`` makes has."""
    return (
        event["school_id"] is not None
        and event["seq"] is not None
        and all(v is None or (type(v) is int and -_SAFE_INT < v < _SAFE_INT) for v in map(event.get, _ROW_NUMBERS))
        and all(v is None or type(v) is str for v in map(event.get, _ROW_TEXTS))
    )


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
    return verify_rows((row_of(event) for event in events), heads)


def row_of(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """An event as the row the database stores: FIELDS then hash, ``data`` as canonical text."""
    data = event["data"]
    return (
        *(event[k] for k in FIELDS[:10]),
        data if isinstance(data, str) else dumps(data),
        event["prev_hash"],
        event["hash"],
    )


_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def canonical_row(row: tuple[Any, ...]) -> bytes:
    """The canonical bytes of a stored row (FIELDS order, data as its stored text).

    Written out key by key in RFC 8785 order, without building a dict: the same bytes as
    ``canonical`` for every event ``chain`` makes (plain ints under 2^53, strings, null); a
    row altered into anything else comes out different, so its hash no longer matches.
    The None tests are inline: a function call per field would cost a third of the time.
    """
    sid, seq, ts, actor, action, otype, oid, cid, from_state, to_state, data, prev = row[:12]
    enc = _string
    try:
        text = (
            f'{{"action":{"null" if action is None else enc(action)},'
            f'"actor_id":{"null" if actor is None else actor},'
            f'"case_id":{"null" if cid is None else cid},"data":{data},'
            f'"from_state":{"null" if from_state is None else enc(from_state)},'
            f'"object_id":{"null" if oid is None else oid},'
            f'"object_type":{"null" if otype is None else enc(otype)},'
            f'"prev_hash":{"null" if prev is None else enc(prev)},"school_id":{sid},"seq":{seq},'
            f'"to_state":{"null" if to_state is None else enc(to_state)},"ts":{"null" if ts is None else enc(ts)}}}'
        )
    except TypeError:  # a column holding what chain never writes: only a tampered row does
        return repr(row).encode()
    return text.encode()


def verify_rows(rows: Iterable[tuple[Any, ...]], heads: Mapping[int, tuple[int, str]] | None = None) -> VerifyResult:
    """``verify`` over stored rows (FIELDS then hash, data as its canonical text), as the database holds them."""
    return join_stretches([verify_stretch(rows)], heads)


@dataclass(frozen=True)
class Stretch:
    """What the rows of a stretch of chains showed: rows read (up to the first problem), schools
    seen in order, each school's last (seq, hash) and the first problem."""

    events: int
    schools: tuple[int, ...]
    last: dict[int, tuple[int, str]]
    problem: Problem | None


def verify_stretch(rows: Iterable[tuple[Any, ...]], starts: Mapping[int, tuple[int, str]] | None = None) -> Stretch:
    """Recompute the chains of consecutive stored rows, ordered by (school_id, seq).

    A school's rows are expected to start at sequence 1 after the genesis hash, or where
    ``starts`` says: at (seq, the stored hash of the event before it), for a stretch that
    begins inside a chain. Stops at the first problem.
    """
    count = 0
    schools: list[int] = []
    school: int | None = None
    expected_seq = 1
    prev = GENESIS
    last: dict[int, tuple[int, str]] = {}
    starts = starts or {}
    prefixed = hashlib.sha256(PREFIX)

    for row in rows:
        count += 1
        sid = row[0]
        if sid != school:
            if school is not None:
                last[school] = (expected_seq - 1, prev)
            sid = int(sid)
            school = sid
            expected_seq, prev = starts.get(sid, (1, GENESIS))
            schools.append(sid)
        seq = row[1]
        if seq != expected_seq:
            problem = Problem(sid, expected_seq, "gap", f"expected sequence {expected_seq}, found {seq}")
            return Stretch(count, tuple(schools), last, problem)
        if row[11] != prev:
            problem = Problem(sid, seq, "broken_link", "prev_hash does not match the previous event")
            return Stretch(count, tuple(schools), last, problem)
        digest = prefixed.copy()
        digest.update(canonical_row(row))
        actual = digest.hexdigest()
        if actual != row[12]:
            problem = Problem(sid, seq, "altered", "content does not match its hash")
            return Stretch(count, tuple(schools), last, problem)
        prev = actual
        expected_seq = seq + 1
    if school is not None:
        last[school] = (expected_seq - 1, prev)
    return Stretch(count, tuple(schools), last, None)


def join_stretches(stretches: Iterable[Stretch], heads: Mapping[int, tuple[int, str]] | None = None) -> VerifyResult:
    """The verdict on stretches that follow one another in chain order, then on each school's head.

    Each stretch after the first was checked from the stored hash of the event before it, which
    the stretch before recomputed: together they check every link as one pass would, and the
    first problem in chain order is the one reported, with the same count.
    """
    count = 0
    schools: set[int] = set()
    last: dict[int, tuple[int, str]] = {}
    for stretch in stretches:
        count += stretch.events
        schools.update(stretch.schools)
        if stretch.problem is not None:
            return VerifyResult(count, len(schools), stretch.problem)
        last.update(stretch.last)
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


# Phone and ID numbers as people write them: an 11-digit mobile (maybe +86, maybe in groups),
# a landline with its area code, an 18- or 15-digit resident ID. Bounded by anything but a letter
# or digit, so a hash or a longer number never matches in part.
_MOBILE = r"[3-9]\d(?:\d{8}|[ -]\d{4}[ -]\d{4})"  # a mobile number after its leading 1
_PERSONAL_KINDS = (
    r"(?<=[0-9])\d{16}[\dXx]",  # resident ID, 18 characters
    r"(?<=[0-9])\d{14}",  # resident ID of the old 15-digit kind
    r"(?<=\+)86[ -]?1" + _MOBILE,
    r"(?<=8)6[ -]?1" + _MOBILE,
    r"(?<=1)" + _MOBILE,
    r"(?<=0)\d{2,3}[ -]?\d{7,8}",  # landline with its area code
)
# The first character from a set, then which one it was by lookbehind: the regex engine scans for
# a set quickly, where a pattern opening with a lookbehind is tried at every position (20 times
# slower on an event's data). Then a guard that changes no match: the ASCII digits that follow,
# taken whole, are not followed by a letter other than X (every match ends at a separator, a
# Unicode digit, an X or the end of its token), so a token such as a hexadecimal id opening with
# digits is given up at once instead of being tried by each kind with backtracking.
_PERSONAL_START = r"[+0-9](?<![0-9A-Za-z][+0-9])"
_NOT_BEFORE_A_LETTER = r"(?=[0-9]*+(?![A-WYZa-wyz]))"
PERSONAL = re.compile(_PERSONAL_START + _NOT_BEFORE_A_LETTER + "(?:" + "|".join(_PERSONAL_KINDS) + r")(?![0-9A-Za-z])")
# The string fields of a row that may carry text (hash and prev_hash are hex, ids are ints).
_TEXT_FIELDS = (2, 4, 5, 8, 9)


# Times as the chain writes them (casework.services.trail.timestamp), one per line.
_TIMES = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\n)*", re.ASCII)
_search = PERSONAL.search
_CLEAN: set[tuple[Any, ...]] = set()  # vocabulary seen without a number: it repeats on every row


def _mask_text(text: str) -> str:
    return PERSONAL.sub(lambda m: "*" * len(m.group()), text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and PERSONAL.fullmatch(str(value)):
        return "*" * len(str(value))
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    return value


def mask_row(row: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The row with every phone or ID number in its text replaced by asterisks; None when it has none.

    The data text is searched as it is stored; only when it holds a number is it parsed, masked
    value by value (a number stored as a JSON number becomes a string of asterisks) and
    written out again. A masked row no longer matches its hash: the export says it was masked.
    """
    data = row[10]
    hit_data = isinstance(data, str) and _search(data) is not None
    vocabulary = (row[4], row[5], row[8], row[9])  # action, object type, states: a few values, repeated
    if vocabulary in _CLEAN and not (isinstance(row[2], str) and _search(row[2])) and not hit_data:
        return None
    hit_text = [i for i in _TEXT_FIELDS if isinstance(row[i], str) and _search(row[i])]
    if not hit_data and not hit_text:
        if len(_CLEAN) < 4096:
            _CLEAN.add(vocabulary)
        return None
    masked = list(row)
    for i in hit_text:
        masked[i] = _mask_text(row[i])
    if hit_data:
        try:
            masked[10] = dumps(_mask_value(json.loads(data)))
        except ValueError:
            masked[10] = _mask_text(data)
    return tuple(masked)


def mask_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``mask_row`` over a batch: one search over the batch's texts finds the few rows to mask.

    The times are left out of the search when every one of the batch has the form the chain
    writes (``_TIMES``: digit groups of at most six, none bounded as a number the pattern takes),
    which one pass over them checks: they are a third of the digits the search would look at.
    """
    times = [row[2] for row in rows]
    try:
        plain_times = _TIMES.fullmatch("\n".join(times) + "\n") is not None
    except TypeError:  # a time that is not text: only a tampered row holds one
        plain_times = False
    texts: list[str] = []
    if plain_times:
        texts = [row[10] for row in rows]
        try:
            joined = "\x00".join(texts)
        except TypeError:  # data that is not text: only a tampered row holds it
            plain_times = False
    if not plain_times:
        texts = [f"{row[2]}\x00{row[10]}" for row in rows]
        joined = "\x00".join(texts)
    suspects = {i for i, row in enumerate(rows) if (row[4], row[5], row[8], row[9]) not in _CLEAN}
    ends: list[int] = []
    for match in PERSONAL.finditer(joined):  # one pass: rows holding a number are few
        if not ends:
            ends = list(accumulate(len(t) + 1 for t in texts))
        suspects.add(bisect_right(ends, match.start()))
    if not suspects:
        return rows
    out = list(rows)
    for i in suspects:
        out[i] = mask_row(rows[i]) or rows[i]
    return out
