"""Deployment settings from casework.toml (or CASEWORK_SETTINGS): rule modules, parameters, calendar, notifications."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from casework.domain.calendar import SchoolCalendar, Term
from casework.domain.consent import DEFAULT_RETENTION_DAYS
from casework.errors import InvalidInput
from casework.rules import RuleSet, rule_set
from casework.services import notify_settings
from casework.services.notify_settings import NotifySettings

DEFAULT_FILE = "casework.toml"
TOP_KEYS = {"rules", "calendar", "documents", "privacy", "web", "notify"}
DOCUMENT_FORMATS = ("html", "md", "docx", "pdf")


@dataclass(frozen=True)
class DocumentSettings:
    """[documents]: stage documents rendered after each move, template overrides, the PDF font."""

    auto_render: bool = True  # the CLI renders a move's documents after it commits
    formats: tuple[str, ...] = ("html",)  # formats rendered automatically
    templates: Path | None = None  # a folder whose files override the shipped templates
    font: Path | None = None  # a CJK font file for PDF output
    redact: bool = False  # mask contact data in documents rendered automatically


@dataclass(frozen=True)
class PrivacySettings:
    """[privacy]: how long the data of a child whose cases are all closed are kept before a purge."""

    retention_days: int = DEFAULT_RETENTION_DAYS


@dataclass(frozen=True)
class WebSettings:
    """[web]: session lifetimes, sign-in lockout, and which proxy may say the request came over HTTPS."""

    idle_minutes: int = 30  # a session unused this long ends
    absolute_hours: int = 12  # a session ends this long after sign-in, used or not
    lockout_failures: int = 5  # failed sign-ins per login name, or per client address, that lock it
    lockout_minutes: int = 15
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-Proto and -For are believed
    # argon2id's cost for new password hashes (a hash keeps its own cost, so changing these never
    # locks anyone out): the library's recommendation, 3 passes over 64 MiB.
    password_time_cost: int = 3
    password_memory_kib: int = 65536


@dataclass(frozen=True)
class Settings:
    enabled: list[str] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    calendar: SchoolCalendar = field(default_factory=SchoolCalendar)
    source: str | None = None
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    web: WebSettings = field(default_factory=WebSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)

    def rule_set(self) -> RuleSet:
        return rule_set(self.enabled, self.params, self.calendar)


def _terms(raw: Any) -> SchoolCalendar:
    if not isinstance(raw, list):
        raise InvalidInput("{key}: expected a list of terms", key="calendar.terms")
    terms = []
    for i, item in enumerate(raw):
        where = f"calendar.terms[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput("{key}: expected a table with name, start and end", key=where)
        unknown = sorted(set(item) - {"name", "start", "end"})
        if unknown:
            raise InvalidInput("{key}: unknown key '{name}'", key=where, name=unknown[0])
        for part in ("start", "end"):
            if not isinstance(item.get(part), date):
                raise InvalidInput("{key}: expected a date such as 2026-09-01", key=f"{where}.{part}")
        if item["end"] < item["start"]:
            raise InvalidInput("{key}: the term ends before it starts", key=where)
        terms.append(Term(str(item.get("name", item["start"].isoformat())), item["start"], item["end"]))
    return SchoolCalendar(tuple(sorted(terms, key=lambda t: t.start)))


def _documents(raw: Any, base: Path) -> DocumentSettings:
    if not isinstance(raw, dict):
        raise InvalidInput("{key}: expected a table", key="documents")
    unknown = sorted(set(raw) - {"auto_render", "formats", "templates", "font", "redact"})
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=f"documents.{unknown[0]}")
    for flag in ("auto_render", "redact"):
        if not isinstance(raw.get(flag, False), bool):
            raise InvalidInput("{key}: expected true or false", key=f"documents.{flag}")
    formats = raw.get("formats", ["html"])
    if not (isinstance(formats, list) and all(f in DOCUMENT_FORMATS for f in formats)):
        raise InvalidInput("{key}: expected a list of html, md, docx, pdf", key="documents.formats")
    paths: dict[str, Path | None] = {}
    for key in ("templates", "font"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput("{key}: expected a path", key=f"documents.{key}")
        paths[key] = (base / value) if value else None  # relative to the settings file
    folder = paths["templates"]
    if folder is not None and not folder.is_dir():
        # Ignoring it would render the shipped templates where the school's own were meant.
        raise InvalidInput(
            "{key}: the template folder {path} does not exist or is not a folder",
            key="documents.templates",
            path=str(folder),
        )
    return DocumentSettings(
        raw.get("auto_render", True), tuple(formats), paths["templates"], paths["font"], raw.get("redact", False)
    )


def _privacy(raw: Any) -> PrivacySettings:
    if not isinstance(raw, dict):
        raise InvalidInput("{key}: expected a table", key="privacy")
    unknown = sorted(set(raw) - {"retention_days"})
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=f"privacy.{unknown[0]}")
    days = raw.get("retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput("{key}: expected a whole number of days, 0 or more", key="privacy.retention_days")
    return PrivacySettings(days)


def _web(raw: Any) -> WebSettings:
    if not isinstance(raw, dict):
        raise InvalidInput("{key}: expected a table", key="web")
    known = {
        "idle_minutes",
        "absolute_hours",
        "lockout_failures",
        "lockout_minutes",
        "trusted_proxies",
        "password_time_cost",
        "password_memory_kib",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=f"web.{unknown[0]}")
    defaults = WebSettings()
    numbers: dict[str, int] = {}
    for key in ("idle_minutes", "absolute_hours", "lockout_failures", "lockout_minutes"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("{key}: expected a whole number, 1 or more", key=f"web.{key}")
        numbers[key] = value
    for key, low, high in (("password_time_cost", 1, 20), ("password_memory_kib", 1024, 4 * 1024 * 1024)):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(
                "{key}: expected a whole number from {low} to {high}", key=f"web.{key}", low=low, high=high
            )
        numbers[key] = value
    proxies = raw.get("trusted_proxies", [])
    if not (isinstance(proxies, list) and all(isinstance(p, str) for p in proxies)):
        raise InvalidInput("{key}: expected a list of addresses", key="web.trusted_proxies")
    return WebSettings(**numbers, trusted_proxies=tuple(proxies))


def parse(data: dict[str, Any], source: str | None = None) -> Settings:
    """Check every key; the first problem stops start-up with one message naming the key."""
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=unknown[0])
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise InvalidInput("{key}: expected a table", key="rules")
    enabled = rules.get("enabled")
    if enabled is not None and not (isinstance(enabled, list) and all(isinstance(n, str) for n in enabled)):
        raise InvalidInput("{key}: expected a list of module names", key="rules.enabled")
    params: dict[str, dict[str, Any]] = {}
    for name, value in rules.items():
        if name == "enabled":
            continue
        if not isinstance(value, dict):
            raise InvalidInput("{key}: expected a table of parameters", key=f"rules.{name}")
        params[name] = value
    calendar = data.get("calendar", {})
    if not isinstance(calendar, dict):
        raise InvalidInput("{key}: expected a table", key="calendar")
    unknown = sorted(set(calendar) - {"terms"})
    if unknown:
        raise InvalidInput("settings: unknown key '{key}'", key=f"calendar.{unknown[0]}")
    documents = _documents(data.get("documents", {}), Path(source).parent if source else Path.cwd())
    settings = Settings(
        enabled,
        params,
        _terms(calendar["terms"]) if "terms" in calendar else SchoolCalendar(),
        source,
        documents,
        _privacy(data.get("privacy", {})),
        _web(data.get("web", {})),
        notify_settings.parse(data.get("notify", {})),
    )
    settings.rule_set()  # unknown modules, parameters and wrong types stop here
    return settings


def load(path: str | None = None) -> Settings:
    """Read ``path``, else ./casework.toml if present, else the defaults."""
    chosen = Path(path) if path else Path(DEFAULT_FILE)
    if not chosen.exists():
        if path:
            raise InvalidInput("settings file {path} does not exist", path=path)
        return Settings()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("settings file {path}: {error}", path=str(chosen), error=str(exc)) from None
    return parse(data, str(chosen))
