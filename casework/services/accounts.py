"""Staff sign-in: one-time passwords, argon2id hashes, server-side sessions, lockout, and their audit events."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from casework import i18n
from casework.domain import access as policy
from casework.domain.passwords import check_login, check_password, normalise_login
from casework.domain.vocab import role_labels
from casework.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casework.persistence.tables import Account, SignInAttempt, Staff, WebSession
from casework.services import access, trail
from casework.services.actors import active_memberships
from casework.services.context import Context
from casework.services.settings import WebSettings
from casework.text import N_, Msg

TOUCH_SECONDS = 60  # a session's last use is written at most once a minute, not on every request
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied from paper


class SignInFailed(PermissionDenied):
    """A sign-in refused; the message is the same whether or not the login name exists."""

    def __init__(self, locked: bool, minutes: int = 15) -> None:
        if locked:
            super().__init__(N_("too many failed sign-ins: try again in {minutes} minutes"), minutes=minutes)
        else:
            super().__init__(N_("the login name or the password is wrong"))
        self.locked = locked


@dataclass(frozen=True)
class OneTimePassword:
    staff_id: int
    name: str
    login: str
    password: str


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's token (shown to the browser only) and the form token."""

    token: str
    csrf: str
    staff_id: int
    must_change: bool


@dataclass(frozen=True)
class Identity:
    """Who a request's session belongs to, with the roles they hold today at any school."""

    session_id: str
    staff_id: int
    name: str
    login: str
    roles: frozenset[str]
    csrf: str
    lang: str
    must_change: bool


@dataclass(frozen=True)
class AccountRow:
    staff_id: int
    name: str
    roles: tuple[str, ...]
    login: str | None
    must_change: bool
    disabled: bool


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("casework.services").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _hasher(time_cost: int = 3, memory_kib: int = 65536) -> object:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)  # argon2id


def _hash(password: str, web: WebSettings) -> str:
    from argon2 import PasswordHasher

    hasher = _hasher(web.password_time_cost, web.password_memory_kib)
    assert isinstance(hasher, PasswordHasher)
    return hasher.hash(password)


@cache
def _dummy_hash(web: WebSettings) -> str:
    return _hash(secrets.token_urlsafe(16), web)


def _verify(stored: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()  # a hash names its own cost: any hasher verifies it
    assert isinstance(hasher, PasswordHasher)
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def session_key(token: str) -> str:
    """The row id of a session: the SHA-256 of its token, so a copy of the table signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _audit(session: Session, staff_id: int, actor_id: int | None, action: str, now: datetime, **data: object) -> None:
    """One event in the chain of every school the person works at (an account has no school of its own)."""
    for school_id in sorted({m.school_id for m in active_memberships(session, staff_id, now.date())}):
        trail.Scribe(session, school_id, now, actor_id).write(action, "staff", staff_id, data=dict(data))


def _one_time() -> str:
    return "-".join("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(3))


def _new_session(session: Session, staff_id: int, lang: str, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(id=session_key(token), staff_id=staff_id, csrf=csrf, lang=lang, created_at=now, seen_at=now))
    must = session.scalar(select(Account.must_change).where(Account.staff_id == staff_id))
    return SignedIn(token, csrf, staff_id, bool(must))


def _end_sessions(session: Session, staff_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.staff_id == staff_id))


def issue_password(ctx: Context, actor: str | None, staff_ref: str, login: str | None = None) -> OneTimePassword:
    """Give a staff member a one-time password (printed once, changed at first sign-in); ends their sessions.

    The acting person must manage staff at a school the staff member works at. ``login`` defaults
    to the existing login name, else the staff member's name.
    """
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        target = _managed(session, who, staff_ref)
        account = session.get(Account, target.id)
        chosen = check_login(login) if login else (account.login if account else check_login(target.name))
        clash = session.scalar(select(Account.staff_id).where(Account.login == chosen, Account.staff_id != target.id))
        if clash is not None:
            raise Conflict("the login name '{login}' is taken; choose another with --login", login=chosen)
        password = _one_time()
        if account is None:
            account = Account(staff_id=target.id, login=chosen, disabled_at=None)
            session.add(account)
        account.login, account.password_hash = chosen, _hash(password, ctx.settings.web)
        account.must_change, account.password_set_at = True, now
        _end_sessions(session, target.id)
        _audit(session, target.id, who.staff_id, "account.password_set", now, one_time=True)
        return OneTimePassword(target.id, target.name, chosen, password)


def _failures(session: Session, column: InstrumentedAttribute[str], value: str, since: datetime) -> int:
    count = session.scalar(
        select(func.count()).select_from(SignInAttempt).where(column == value, SignInAttempt.at > since)
    )
    return int(count or 0)


def sign_in(
    ctx: Context, login: str, password: str, client: str, lang: str = i18n.DEFAULT, replacing: str | None = None
) -> SignedIn:
    """Check a login name and password; a new session on success, never the one the browser had
    (``replacing``, whose row is deleted), so a session id planted before sign-in is worthless.

    Failures are counted per login name and per client address; at the limit both are locked for
    the window, whether or not the name exists, so the answer never tells which names do.
    """
    web = ctx.settings.web
    now = ctx.now()
    key = normalise_login(login)[:100]
    client = client[:64]
    since = now - timedelta(minutes=web.lockout_minutes)
    refused: SignInFailed | None = None
    with ctx.db.write() as session:
        access.system(session)
        by_name = _failures(session, SignInAttempt.login, key, since)
        if (
            by_name >= web.lockout_failures
            or _failures(session, SignInAttempt.client, client, since) >= web.lockout_failures
        ):
            refused = SignInFailed(locked=True, minutes=web.lockout_minutes)
        else:
            account = session.scalar(select(Account).where(Account.login == key)) if key else None
            good = _verify(account.password_hash if account else _dummy_hash(ctx.settings.web), password[:1000])
            if account is None or not good or account.disabled_at is not None:
                session.add(SignInAttempt(login=key, client=client, at=now))
                if account is not None:
                    why = "disabled" if good else "password"
                    _audit(session, account.staff_id, account.staff_id, "account.sign_in_failed", now, reason=why)
                    if by_name + 1 >= web.lockout_failures:
                        _audit(session, account.staff_id, None, "account.locked", now, minutes=web.lockout_minutes)
                session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - timedelta(days=1)))
                refused = SignInFailed(locked=False)
            else:
                session.execute(delete(SignInAttempt).where(SignInAttempt.login == key))
                if replacing:
                    session.execute(delete(WebSession).where(WebSession.id == session_key(replacing)))
                _audit(session, account.staff_id, account.staff_id, "account.signed_in", now)
                return _new_session(session, account.staff_id, lang, now)
    raise refused


def identify(ctx: Context, token: str | None) -> Identity | None:
    """The session a cookie names, if it is still alive; an idle or too old one is ended here."""
    if not token or len(token) > 100:
        return None
    web = ctx.settings.web
    now = ctx.now()
    sid = session_key(token)
    with ctx.db.read() as session:
        row = session.execute(
            select(WebSession, Account, Staff.name)
            .join(Account, Account.staff_id == WebSession.staff_id)
            .join(Staff, Staff.id == WebSession.staff_id)
            .where(WebSession.id == sid)
        ).first()
        if row is None:
            return None
        ws, account, name = row
        roles = frozenset(m.role for m in active_memberships(session, ws.staff_id, now.date()))
    seen, created = _aware(ws.seen_at), _aware(ws.created_at)
    expired = (
        now - seen > timedelta(minutes=web.idle_minutes)
        or now - created > timedelta(hours=web.absolute_hours)
        or account.disabled_at is not None
    )
    if expired or now - seen > timedelta(seconds=TOUCH_SECONDS):
        with ctx.db.write() as session:
            if expired:
                session.execute(delete(WebSession).where(WebSession.id == sid))
            else:
                found = session.get(WebSession, sid)
                if found is not None:
                    found.seen_at = now
    if expired:
        return None
    return Identity(sid, ws.staff_id, name, account.login, roles, ws.csrf, ws.lang, account.must_change)


def sign_out(ctx: Context, who: Identity) -> None:
    now = ctx.now()
    with ctx.db.write() as session:
        session.execute(delete(WebSession).where(WebSession.id == who.session_id))
        _audit(session, who.staff_id, who.staff_id, "account.signed_out", now)


def change_password(ctx: Context, who: Identity, current: str, new: str, repeated: str) -> SignedIn:
    """Replace one's own password; every session of the person ends and a new one begins."""
    if new != repeated:
        raise InvalidInput("the two new passwords differ")
    check_password(new, who.login, common_passwords())
    now = ctx.now()
    with ctx.db.write() as session:
        account = session.get(Account, who.staff_id)
        if account is None or not _verify(account.password_hash, current[:1000]):
            raise InvalidInput("the current password is wrong")
        if _verify(account.password_hash, new):
            raise InvalidInput("the new password must differ from the current one")
        account.password_hash, account.must_change, account.password_set_at = _hash(new, ctx.settings.web), False, now
        _end_sessions(session, who.staff_id)
        _audit(session, who.staff_id, who.staff_id, "account.password_changed", now)
        return _new_session(session, who.staff_id, who.lang, now)


def set_lang(ctx: Context, who: Identity, lang: str) -> None:
    try:
        code = i18n.normalise(lang)
    except ValueError:
        raise InvalidInput("unknown language '{lang}'", lang=lang) from None
    with ctx.db.write() as session:
        found = session.get(WebSession, who.session_id)
        if found is not None:
            found.lang = code


def _managed(session: Session, who: access.Principal, staff_ref: str) -> Staff:
    target = access.resolve_staff(session, staff_ref)
    schools = {m.school_id for m in active_memberships(session, target.id, who.today)}
    if not any(policy.may(who.roles_at(s), policy.STAFF_MANAGE) for s in schools):
        raise who.denied(
            min(schools) if schools else None,
            policy.STAFF_MANAGE,
            N_("{name} (staff {id}) may not manage the account of {target}"),
            name=who.name,
            id=who.staff_id,
            target=target.name,
        )
    return target


def set_disabled(ctx: Context, actor: str | None, staff_ref: str, disabled: bool) -> None:
    """Disable an account (its sessions end at once) or enable it again."""
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        target = _managed(session, who, staff_ref)
        if target.id == who.staff_id and disabled:
            raise InvalidInput("you cannot disable your own account")
        account = session.get(Account, target.id)
        if account is None:
            raise NotFound("{name} has no sign-in yet", name=target.name)
        account.disabled_at = now if disabled else None
        if disabled:
            _end_sessions(session, target.id)
        _audit(session, target.id, who.staff_id, "account.disabled" if disabled else "account.enabled", now)


def list_accounts(ctx: Context, actor: str | None) -> list[AccountRow]:
    """The staff of the schools where the actor manages staff, with their sign-in's state."""
    now = ctx.now()
    with ctx.db.read() as session:
        who = access.enter(session, actor, now.date())
        schools = [s for s in who.roles if policy.may(who.roles_at(s), policy.STAFF_MANAGE)]
        if not schools:
            raise who.denied(
                None,
                policy.STAFF_MANAGE,
                N_("{name} (staff {id}, {roles}) may not do this: {capability}"),
                name=who.name,
                id=who.staff_id,
                roles=role_labels(who.all_roles()),
                capability=Msg(policy.CAPABILITY_LABELS[policy.STAFF_MANAGE]),
            )
        from casework.persistence.tables import Membership

        rows = session.execute(
            select(Staff.id, Staff.name, Membership.role, Account.login, Account.must_change, Account.disabled_at)
            .join(Membership, Membership.staff_id == Staff.id)
            .outerjoin(Account, Account.staff_id == Staff.id)
            .where(Membership.school_id.in_(schools), Membership.ended_on.is_(None))
            .order_by(Staff.id, Membership.role)
        ).all()
    found: dict[int, AccountRow] = {}
    for staff_id, name, role, login, must, disabled_at in rows:
        prior = found.get(staff_id)
        roles = (*prior.roles, role) if prior else (role,)
        found[staff_id] = AccountRow(staff_id, name, roles, login, bool(must), disabled_at is not None)
    return list(found.values())
