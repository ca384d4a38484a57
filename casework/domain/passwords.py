"""What a password must be, and how a login name is compared: pure checks, no hashing, no I/O."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from casework.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200  # argon2 takes any length; a bound keeps a request from hashing a megabyte


def normalise_login(text: str) -> str:
    """The form a login name is stored and compared in: NFKC, trimmed, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def check_login(text: str) -> str:
    login = normalise_login(text)
    if not login:
        raise InvalidInput("the login name must not be empty")
    if len(login) > 100 or any(c.isspace() or unicodedata.category(c).startswith("C") for c in login):
        raise InvalidInput("a login name is at most 100 characters, without spaces")
    return login


def check_password(password: str, login: str, common: Collection[str]) -> None:
    """Refuse a password shorter than MIN_LENGTH, the login name itself, or one of ``common``.

    ``common`` holds case-folded passwords (the shipped list of passwords people choose most).
    """
    if len(password) < MIN_LENGTH:
        raise InvalidInput("the password must have at least {n} characters", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise InvalidInput("the password must have at most {n} characters", n=MAX_LENGTH)
    folded = normalise_login(password)
    if folded == normalise_login(login) or normalise_login(login) in folded and len(folded) - len(login) < 4:
        raise InvalidInput("the password must not be the login name")
    if folded in common or len(set(folded)) <= 2:
        raise InvalidInput("this password is among the most common ones; choose another")
