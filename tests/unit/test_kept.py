"""Made once and kept: message renderings and verdict JSON are the same whether made or kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework import audit, i18n
from casework.memo import Kept, frozen
from casework.rules import Verdict
from casework.services.cases import verdict_data, verdicts_body
from casework.text import Msg

from .test_audit_chain import JSON


def test_values_equal_in_python_but_written_differently_are_different_keys() -> None:
    keys = [frozen(v) for v in (1, True, 1.0, 0.0, -0.0, "1", [1], (1,), {"a": 1})]
    assert None not in keys
    assert len(set(keys)) == len(keys)
    assert frozen(Msg("x {n}", {"n": 1})) != frozen(Msg("x {n}", {"n": True}))
    assert frozen(Msg("x {n}", {"n": Msg("a")})) == frozen(Msg("x {n}", {"n": Msg("a")}))


def test_what_cannot_be_compared_safely_has_no_key() -> None:
    class Text(str):
        pass

    for value in (Text("a"), object(), {1: "a"}, [object()], Msg("x {n}", {"n": {1, 2}})):
        assert frozen(value) is None


def test_kept_makes_once_per_distinct_value_and_stays_bounded() -> None:
    made: list[object] = []
    kept: Kept[str] = Kept(limit=3)

    def make(value: object) -> str:
        made.append(value)
        return repr(value)

    for value in (1, 1, True, 1, [1, 2], [1, 2]):
        assert kept.get(value, lambda v=value: make(v)) == repr(value)
    assert made == [1, True, [1, 2]]
    kept.get("a fourth", lambda: make("a fourth"))  # the limit reached: everything kept is dropped
    kept.get(1, lambda: make(1))
    assert made[-2:] == ["a fourth", 1]
    unkeyed = object()
    kept.get(unkeyed, lambda: make(unkeyed))
    kept.get(unkeyed, lambda: make(unkeyed))
    assert made[-2:] == [unkeyed, unkeyed]


def test_a_kept_rendering_is_the_callers_own_copy() -> None:
    msg = Msg("{event} is possible from {state}", {"event": "assess", "state": Msg("identified")})
    first = i18n.both(msg)
    first["en"] = "changed"
    assert i18n.both(msg) == {lang: i18n.render(msg, lang) for lang in i18n.LANGUAGES}


VERDICTS = st.lists(
    st.builds(
        Verdict,
        st.sampled_from(["core", "workflow", "deadlines"]),
        st.sampled_from(["1", "2"]),
        st.sampled_from(["file_complete", "plan_ready"]),
        st.booleans(),
        st.builds(
            Msg,
            st.sampled_from(["{event} is possible from {state}", "{n} fields are missing"]),
            st.fixed_dictionaries({"event": JSON, "state": JSON, "n": JSON}),
        ),
        st.dictionaries(st.text(max_size=6), JSON, max_size=3),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(VERDICTS, st.dictionaries(st.sampled_from(["event", "version", "rule_set"]), JSON))
def test_the_audit_body_of_kept_verdicts_is_the_canonical_json_of_their_data(verdicts, shell) -> None:
    expected = audit.dumps({**shell, "verdicts": [verdict_data(v) for v in verdicts]})
    assert verdicts_body(shell, verdicts) == expected
    assert verdicts_body(shell, verdicts) == expected  # the second time from what was kept


@given(st.dictionaries(st.text(max_size=6), JSON, max_size=4), st.text(max_size=6), JSON)
def test_embedding_canonical_text_is_the_canonical_json_of_the_whole(shell, key, value) -> None:
    text = audit.dumps(value)
    assert audit.embed(shell, key, text) == audit.dumps({**shell, key: value})


@pytest.mark.parametrize(
    ("shell", "key"),
    [({"\x00data\x00": 1}, "verdicts"), ({"x": "\x00data\x00"}, "verdicts"), ({"a": 1}, "\x00data\x00")],
)
def test_a_shell_holding_the_placeholder_still_embeds_exactly(shell, key) -> None:
    """Found by Hypothesis: a key or value equal to the placeholder made embed refuse."""
    assert audit.embed(shell, key, "[1]") == audit.dumps({**shell, key: [1]})


def test_an_event_field_holding_the_placeholder_hashes_as_the_whole() -> None:
    event = {k: None for k in audit.FIELDS} | {"school_id": 1, "seq": 1, "ts": "t", "prev_hash": "0" * 64}
    event |= {"action": "\x00data\x00", "data": {"q": 1}}
    assert audit.canonical(event, audit.dumps({"q": 1})) == audit.canonical(event)
