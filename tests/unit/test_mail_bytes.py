"""A digest's MIME message: the subject's encoded words decode to the subject, and every line ends in CRLF."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from hypothesis import given
from hypothesis import strategies as st

from casework.services.channels import Message, encoded_words, mail_bytes

SUBJECTS = [
    "留守儿童关爱：王老师的提醒（3 项到期，1 项逾期，1 项已交领导小组）",
    "Care of left-behind children: reminders for Chen (3 due, 1 overdue, 1 with the leadership group)",
    "表情 😀 四个字节的字符跨过一个编码字的边界 😀😀😀😀😀😀😀😀😀😀",
]


def _parsed(subject: str):
    raw = mail_bytes("casework@school.test", Message("7", "t@school.test", subject, "第一行\n第二行", "短"))
    return raw, message_from_bytes(raw, policy=policy.default)


def test_the_subject_decodes_to_itself_and_no_line_ends_in_a_bare_lf() -> None:
    for subject in SUBJECTS:
        raw, mail = _parsed(subject)
        assert mail["Subject"] == subject
        assert mail.get_content() == "第一行\n第二行"
        assert b"\n" not in raw.replace(b"\r\n", b"")  # SMTP servers refuse a bare LF


@given(st.text(min_size=1, max_size=120))
def test_encoded_words_are_at_most_75_characters_and_split_no_character(text) -> None:
    words = encoded_words(text).split("\r\n ")
    assert all(len(w) <= 75 and re.fullmatch(r"=\?utf-8\?b\?[A-Za-z0-9+/=]+\?=", w) for w in words)
    assert _parsed(text.replace("\r", " ").replace("\n", " "))[1]["Subject"] == text.replace("\r", " ").replace(
        "\n", " "
    )
