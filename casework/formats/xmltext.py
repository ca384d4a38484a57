"""Text into XML 1.0 documents: the characters XML cannot carry, and the two ways a writer deals with them."""

from __future__ import annotations

import re

# What an XML 1.0 document cannot hold, even as a character reference: controls other than TAB, LF
# and CR, U+FFFE, U+FFFF, and lone surrogates (text decoded with surrogateescape, say).
FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff"
_FORBIDDEN = re.compile(f"[{FORBIDDEN}]")
# Word's line breaks as people paste them: a vertical tab (Word's manual line break) and a form
# feed (its page break) mean a new line.
_BREAKS = re.compile("\r\n|[\r\x0b\x0c]")


def has_forbidden(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def for_word(text: str) -> str:
    """Text as a Word document may hold it: line breaks as LF (the writer makes them <w:br/>), any
    other character XML cannot carry left out."""
    text = _BREAKS.sub("\n", text)
    if not has_forbidden(text):
        return text
    return _FORBIDDEN.sub("", text)
