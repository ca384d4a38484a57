"""The auditor reads what an access event read or refused in words: every code the services write
has its label, so a new page or command cannot put a code on the access log page."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from casework.domain import access as policy
from casework.web.labels import Labels

SERVICES = Path(__file__).resolve().parents[2] / "casework" / "services"


def _written_purposes() -> set[str]:
    """The literal third argument of every ``access.log_reads(ctx, reads, "…")`` in the services
    (an f-string's constant head, "review." + each level, is expanded from review.LEVELS)."""
    from casework.services.review import LEVELS

    found: set[str] = set()
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "log_reads" and len(node.args) == 3:
                what = node.args[2]
                if isinstance(what, ast.Constant):
                    found.add(what.value)
                elif isinstance(what, ast.JoinedStr):
                    head = what.values[0]
                    assert isinstance(head, ast.Constant) and head.value == "review.", ast.dump(what)
                    found.update(f"review.{level}" for level in LEVELS)
    return found


def test_every_purpose_the_services_log_has_a_label() -> None:
    written = _written_purposes()
    assert len(written) > 15
    assert written - set(policy.PURPOSE_LABELS) == set()


@pytest.mark.parametrize(
    ("what", "zh", "en"),
    [
        ("case.show", "个案页面", "case page"),
        ("review.stalled", "停滞个案", "Stalled cases"),
        ("case:13", "个案 13", "case 13"),
        ("consent:5", "监护人同意 5", "consent 5"),
        ("event:assess", "评估分类", "assess"),
        ("page:staff", "页面 /staff", "the page /staff"),
        ("audit.read", "查阅审计记录", "read the audit trail"),
    ],
)
def test_a_purpose_in_either_language(what: str, zh: str, en: str) -> None:
    assert Labels("zh_CN").purpose(what) == zh
    assert Labels("en").purpose(what) == en


def test_tiers_and_searches_read_as_words_with_no_code_left() -> None:
    for what in ("read:T2", "write:T1", "search:child.find:T1"):
        words = Labels("zh_CN").purpose(what)
        assert not any(ch.isascii() and ch.isalpha() for ch in words), words
    assert "查找儿童" in Labels("zh_CN").purpose("search:child.find:T1")
    assert Labels("zh_CN").purpose("something.new") == "something.new"  # unknown: as written, never lost
