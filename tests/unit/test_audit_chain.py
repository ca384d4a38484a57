"""The hash chain on plain dicts: linking, and each kind of damage found at its sequence number."""

from __future__ import annotations

import copy
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from casework import audit
from casework.services import trail


def make_chain(n: int, school: int = 1) -> list[dict]:
    events = [
        {
            "ts": f"2026-09-01T08:00:{i:02d}.000000Z",
            "actor_id": 1,
            "action": "case.moved",
            "object_type": "case",
            "object_id": i,
            "case_id": i,
            "from_state": "identified",
            "to_state": "assessed",
            "data": {"event": "assess", "n": i},
        }
        for i in range(n)
    ]
    return list(audit.chain(school, (0, audit.GENESIS), events))


def test_an_intact_chain_verifies() -> None:
    events = make_chain(5) + make_chain(3, school=2)
    result = audit.verify(events, {1: (5, events[4]["hash"]), 2: (3, events[-1]["hash"])})
    assert result.ok and result.events == 8 and result.schools == 2


def test_hash_is_domain_separated_canonical_json() -> None:
    (event,) = make_chain(1)
    reordered = dict(reversed(list(event.items())))
    assert audit.event_hash(reordered) == event["hash"]
    import hashlib

    assert hashlib.sha256(audit.canonical(event)).hexdigest() != event["hash"]


def test_altered_content_is_found() -> None:
    events = make_chain(6)
    events[3]["data"] = {"event": "close", "n": 3}
    problem = audit.verify(events).problem
    assert (problem.seq, problem.kind) == (4, "altered")


def test_a_deleted_event_is_a_gap() -> None:
    events = make_chain(6)
    del events[2]
    problem = audit.verify(events).problem
    assert (problem.seq, problem.kind) == (3, "gap")


def test_a_recomputed_link_is_found_at_the_next_event() -> None:
    events = make_chain(6)
    forged = copy.deepcopy(events[2])
    forged["action"] = "case.refused"
    forged["hash"] = audit.event_hash(forged)
    events[2] = forged
    problem = audit.verify(events).problem
    assert (problem.seq, problem.kind) == (4, "broken_link")


def test_truncation_is_found_against_the_head() -> None:
    events = make_chain(6)
    problem = audit.verify(events[:4], {1: (6, events[5]["hash"])}).problem
    assert (problem.seq, problem.kind) == (5, "truncated")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_fast_canonical_json_is_rfc8785(value) -> None:
    import rfc8785

    assert audit.dumps(value) == bytes(rfc8785.dumps(value)).decode()


@given(st.lists(st.integers(-(2**53) + 1, 2**53 - 1), min_size=65, max_size=200))
def test_fast_canonical_json_of_a_long_list_of_ids_is_rfc8785(ids) -> None:
    import rfc8785

    for value in (ids, {"child_ids": sorted(ids)}, [*ids, True], [*ids, 1.5]):
        assert audit.dumps(value) == bytes(rfc8785.dumps(value)).decode()
    # past 2^53 the long list goes to rfc8785 as a short one does, and is refused as there
    with pytest.raises(rfc8785.IntegerDomainError):
        audit.dumps([*ids, 2**53])


def test_stored_text_hashes_as_the_parsed_event() -> None:
    (event,) = make_chain(1)
    body = audit.dumps(event["data"])
    assert audit.event_hash(event) == audit.event_hash(event, body)
    assert audit.json_line({**event, "data": body}) == audit.json_line(event)


def _row(seq: int, data: str, to_state: str | None = None) -> tuple:
    return (
        1,
        seq,
        "2026-10-01T08:00:00.000000Z",
        2,
        "case.moved",
        "case",
        3,
        3,
        None,
        to_state,
        data,
        "ab" * 32,
        "cd" * 32,
    )


@pytest.mark.parametrize(
    "text",
    ["13812345678", "+86 138 1234 5678", "电话13812345678。", "0851-12345678", "11010519491231002X", "110105491231002"],
)
def test_phone_and_id_numbers_are_found(text) -> None:
    assert audit.PERSONAL.search(text)


@pytest.mark.parametrize(
    "text",
    ["1381234567", "138123456789", "abc13812345678", "0123456789abcdef", "2026-10-01T08:00:00.000000Z", "f" * 64],
)
def test_other_numbers_are_not_taken_for_phone_numbers(text) -> None:
    assert audit.PERSONAL.search(text) is None


# The pattern without its guard against tokens that go on with letters: the guard changes no match.
_UNGUARDED = re.compile(audit._PERSONAL_START + "(?:" + "|".join(audit._PERSONAL_KINDS) + r")(?![0-9A-Za-z])")
_PIECES = ["13812345678", "+86 138 0000 0000", "8613912345678", "110105194912310021", "11010519491231002X"]
_PIECES += ["0851-12345678", "0123456789abcdef", "１３８", "٣", "13８１２", "x", "X", "T", "家", " ", "-", "+", '"']


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.sampled_from("0123456789+- xXaZ")), max_size=12))
def test_the_guard_changes_no_match(pieces) -> None:
    text = "".join(pieces)
    assert [m.span() for m in audit.PERSONAL.finditer(text)] == [m.span() for m in _UNGUARDED.finditer(text)]


def test_a_batch_is_masked_exactly_where_numbers_are() -> None:
    rows = [_row(n, '{"n":1}') for n in range(1, 2001)]
    rows[700] = _row(701, '{"note":"电话13812345678","phone":13912345678}')
    rows[1500] = _row(1501, "{}", to_state="tel 0851-12345678")
    masked = audit.mask_rows(rows)
    assert [i for i, (a, b) in enumerate(zip(rows, masked, strict=True)) if a != b] == [700, 1500]
    assert json.loads(masked[700][10]) == {"note": "电话***********", "phone": "***********"}
    assert masked[1500][9] == "tel *************"


def test_no_time_in_the_chains_form_holds_a_number_the_mask_takes() -> None:
    """Why a batch whose times all have the chain's form may leave them out of the search."""
    rng = random.Random(8785)
    for _ in range(20_000):
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(10**17))
        assert audit.PERSONAL.search(trail.timestamp(moment)) is None


@pytest.mark.parametrize(
    "time",
    ["13812345678", "2026-10-01T08:00:00.000000Z 13812345678", "2026-10-01T08:00:00.000000Z\n13812345678"],
)
def test_a_number_in_a_time_of_another_form_is_masked(time: str) -> None:
    rows = [_row(n, '{"n":1}') for n in range(1, 101)]
    rows[40] = (*rows[40][:2], time, *rows[40][3:])
    masked = audit.mask_rows(rows)
    assert [i for i, (a, b) in enumerate(zip(rows, masked, strict=True)) if a != b] == [40]
    assert "13812345678" not in masked[40][2]


def test_data_that_is_not_text_does_not_stop_the_mask() -> None:
    rows = [_row(n, '{"n":1}') for n in range(1, 11)]
    rows[3] = (*rows[3][:10], None, *rows[3][11:])
    rows[5] = _row(6, '{"note":"13812345678"}')
    masked = audit.mask_rows(rows)
    assert [i for i, (a, b) in enumerate(zip(rows, masked, strict=True)) if a != b] == [5]


FIELD_VALUES = st.none() | st.text() | st.integers() | st.booleans() | st.floats(allow_nan=False)


@settings(max_examples=500)
@given(st.fixed_dictionaries({k: FIELD_VALUES for k in audit.FIELDS if k != "data"}), JSON)
@example({k: 1 if k in {"school_id", "seq"} else "x" for k in audit.FIELDS if k != "data"}, {"a": [1]})
def test_an_appended_events_hash_is_that_of_its_canonical_json(fields, data) -> None:
    import hashlib

    event = {**fields, "data": data}
    try:
        expected = hashlib.sha256(audit.PREFIX + audit.canonical(event)).hexdigest()
    except ValueError as refused:  # a number past what JSON may carry exactly: refused either way
        with pytest.raises(type(refused)):
            audit.event_hash(event, audit.dumps(data))
        return
    assert audit.event_hash(event, audit.dumps(data)) == expected
