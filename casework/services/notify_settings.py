"""[notify] of casework.toml: the channels each school's digests go through, retries, how names are shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casework.domain.names import MASKED, NAME_MODES
from casework.errors import InvalidInput

CHANNELS = ("email", "wecom", "sms")
ANY_SCHOOL = "*"


@dataclass(frozen=True)
class EmailChannel:
    """SMTP with STARTTLS and login (both optional, for a relay on the school's own network)."""

    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None  # the password is read from this environment variable, never the file
    sender: str = "casework@localhost"
    cafile: str | None = None  # a CA file to trust, for a relay with a certificate of its own


@dataclass(frozen=True)
class WecomChannel:
    """A WeCom (企业微信) group robot: its webhook URL (…/cgi-bin/webhook/send?key=…)."""

    webhook: str


@dataclass(frozen=True)
class SmsChannel:
    """An SMS gateway reached by HTTP POST: its URL and the body, with {phone}, {text} and {key} filled in."""

    url: str
    # Placeholders replaced as they stand (no other braces are special); JSON-escaped for a JSON body.
    body: str = '{"phone": "{phone}", "text": "{text}", "id": "{key}"}'
    content_type: str = "application/json"


@dataclass(frozen=True)
class SchoolChannels:
    email: EmailChannel | None = None
    wecom: WecomChannel | None = None
    sms: SmsChannel | None = None
    child_name: str = MASKED

    def enabled(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if getattr(self, c) is not None)


@dataclass(frozen=True)
class NotifySettings:
    """Per school (by name, or "*" for every school not named) its channels; retries for all."""

    schools: dict[str, SchoolChannels] = field(default_factory=dict)
    max_attempts: int = 5
    backoff_seconds: int = 60  # doubled after each failed attempt: 60, 120, 240…
    timeout_seconds: float = 10.0
    lease_seconds: int = 300  # how long a sender holds the digests it took before another may try them
    lang: str = "zh_CN"

    def for_school(self, name: str) -> SchoolChannels:
        return self.schools.get(name) or self.schools.get(ANY_SCHOOL) or SchoolChannels()


def _table(raw: Any, key: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput("{key}: expected a table", key=key)
    return raw


def _known(raw: dict[str, Any], key: str, allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=f"{key}.{unknown[0]}")


def _text(raw: dict[str, Any], name: str, key: str, required: bool = False) -> Any:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("{key}: expected text", key=f"{key}.{name}")
    return value


def _url(raw: dict[str, Any], name: str, key: str) -> str:
    value = str(_text(raw, name, key, required=True))
    if not value.startswith(("http://", "https://")):
        raise InvalidInput("{key}: expected an http:// or https:// address", key=f"{key}.{name}")
    return value


def _number(raw: dict[str, Any], name: str, key: str, default: Any, minimum: float) -> Any:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise InvalidInput("{key}: expected a number of at least {minimum}", key=f"{key}.{name}", minimum=minimum)
    return value


def _school(raw: Any, key: str) -> SchoolChannels:
    raw = _table(raw, key)
    _known(raw, key, {*CHANNELS, "child_name"})
    mode = raw.get("child_name", MASKED)
    if mode not in NAME_MODES:
        raise InvalidInput("{key}: expected one of {choices}", key=f"{key}.child_name", choices=", ".join(NAME_MODES))
    email = wecom = sms = None
    if "email" in raw:
        k = f"{key}.email"
        e = _table(raw["email"], k)
        _known(e, k, {"host", "port", "starttls", "username", "password_env", "sender", "cafile"})
        if not isinstance(e.get("starttls", True), bool):
            raise InvalidInput("{key}: expected true or false", key=f"{k}.starttls")
        email = EmailChannel(
            host=_text(e, "host", k, required=True),
            port=int(_number(e, "port", k, 587, 1)),
            starttls=e.get("starttls", True),
            username=_text(e, "username", k),
            password_env=_text(e, "password_env", k),
            sender=_text(e, "sender", k) or "casework@localhost",
            cafile=_text(e, "cafile", k),
        )
    if "wecom" in raw:
        k = f"{key}.wecom"
        w = _table(raw["wecom"], k)
        _known(w, k, {"webhook"})
        wecom = WecomChannel(_url(w, "webhook", k))
    if "sms" in raw:
        k = f"{key}.sms"
        m = _table(raw["sms"], k)
        _known(m, k, {"url", "body", "content_type"})
        body = _text(m, "body", k) or SmsChannel.body
        if "{text}" not in body:
            raise InvalidInput("{key}: the body must contain {{text}}", key=f"{k}.body")
        sms = SmsChannel(_url(m, "url", k), body, _text(m, "content_type", k) or SmsChannel.content_type)
    return SchoolChannels(email, wecom, sms, mode)


def parse(raw: Any) -> NotifySettings:
    """Check every key of [notify]; the first problem stops start-up with one message naming the key."""
    raw = _table(raw, "notify")
    _known(raw, "notify", {"school", "max_attempts", "backoff_seconds", "timeout_seconds", "lease_seconds", "lang"})
    schools = {
        str(name): _school(value, f'notify.school."{name}"')
        for name, value in _table(raw.get("school", {}), "notify.school").items()
    }
    lang = raw.get("lang", "zh_CN")
    if lang not in ("zh_CN", "en"):
        raise InvalidInput("{key}: expected zh_CN or en", key="notify.lang")
    return NotifySettings(
        schools=schools,
        max_attempts=int(_number(raw, "max_attempts", "notify", 5, 1)),
        backoff_seconds=int(_number(raw, "backoff_seconds", "notify", 60, 0)),
        timeout_seconds=float(_number(raw, "timeout_seconds", "notify", 10.0, 0.1)),
        lease_seconds=int(_number(raw, "lease_seconds", "notify", 300, 1)),
        lang=lang,
    )
