"""A child who moves to a school in another database: one package signed with the school's Ed25519 key.

The package holds the card, the open case's stage, categories and risk, and the history of the child's
cases at the sending school; the key pair is the one ``casework audit keygen`` makes for checkpoints.
The receiving school imports it only when the signature verifies against the sending school's public
key and the package names the importing school; otherwise nothing of it is imported. The package is
kept as a document of the new case.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit, states
from casework.domain import access as policy
from casework.domain.child import as_text, check_id_number_agrees, parse_fields
from casework.domain.results import Named
from casework.errors import Conflict, InvalidInput
from casework.formats.files import write_bytes
from casework.persistence.tables import (
    Assessment,
    Case,
    CaseEvent,
    Child,
    ContactEntry,
    Document,
    Pairing,
    Plan,
    PlanItem,
    Referral,
    Review,
    ReviewEffect,
    School,
    Staff,
    TermResult,
    Transfer,
)
from casework.services import access, trail
from casework.services.context import Context
from casework.services.transfers import Moved, Side, arrive, audit_in, audit_out, close_here, leave, record

FORMAT = "casework.transfer.v1"
MAX_PACKAGE = 64 << 20


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _private_key(path: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            "--key: {path} is not a readable Ed25519 private key ({error})", path=path, error=type(exc).__name__
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("--key: {path} is not an Ed25519 private key", path=path)
    return key


def _public_key(path: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            "--public-key: {path} is not a readable public key ({error})", path=path, error=type(exc).__name__
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("--public-key: {path} is not an Ed25519 public key", path=path)
    return key


def _raw(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _day(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _history(session: Session, child: Child) -> dict[str, Any]:
    """What the school wrote about the child: every case with its moves, assessments, plans, pairings,
    contacts, reviews and referrals, and the exam results. Counselling content, in plain text."""
    staff = dict(session.execute(select(Staff.id, Staff.name)).all())
    found = []
    for case in session.scalars(select(Case).where(Case.child_id == child.id).order_by(Case.id)):
        plans = [p.id for p in session.scalars(select(Plan).where(Plan.case_id == case.id))]
        reviews = session.scalars(select(Review).where(Review.case_id == case.id).order_by(Review.id)).all()
        effects: dict[int, list[dict[str, Any]]] = {}
        for e in session.scalars(select(ReviewEffect).where(ReviewEffect.review_id.in_([r.id for r in reviews]))):
            effects.setdefault(e.review_id, []).append({"result": e.result, "effect": e.effect})
        found.append(
            {
                "case_id": case.id,
                "opened_on": _day(case.opened_at.date()),
                "state": case.state,
                "risk_level": case.risk_level,
                "events": [
                    {
                        "version": e.version,
                        "event": e.event,
                        "to_state": e.to_state,
                        "at": _day(e.at),
                        "reason": e.reason,
                    }
                    for e in session.scalars(
                        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.version)
                    )
                ],
                "assessments": [
                    {"assessed_on": _day(a.assessed_on), "categories": list(a.categories), "summary": a.summary}
                    for a in session.scalars(
                        select(Assessment).where(Assessment.case_id == case.id).order_by(Assessment.id)
                    )
                ],
                "plan_items": [
                    {
                        "category": i.category,
                        "kind": i.kind,
                        "subject": i.subject,
                        "measures": i.measures,
                        "start_on": _day(i.start_on),
                        "end_on": _day(i.end_on),
                        "content": i.content,
                        "stage_target": i.stage_target,
                        "responsible": staff.get(i.responsible_id),
                    }
                    for i in session.scalars(select(PlanItem).where(PlanItem.plan_id.in_(plans)).order_by(PlanItem.id))
                ],
                "pairings": [
                    {
                        "kind": p.kind,
                        "partner": staff.get(p.staff_id) if p.staff_id else p.partner_name,
                        "from_on": _day(p.from_on),
                        "to_on": _day(p.to_on),
                    }
                    for p in session.scalars(select(Pairing).where(Pairing.case_id == case.id).order_by(Pairing.id))
                ],
                "contacts": [
                    {
                        "kind": c.kind,
                        "occurred_on": _day(c.occurred_on),
                        "by": staff.get(c.by_id),
                        "summary": c.summary,
                        "follow_up": c.follow_up,
                    }
                    for c in session.scalars(
                        select(ContactEntry)
                        .where(ContactEntry.case_id == case.id)
                        .order_by(ContactEntry.occurred_on, ContactEntry.id)
                    )
                ],
                "reviews": [
                    {"reviewed_on": _day(r.reviewed_on), "summary": r.summary, "effects": effects.get(r.id, [])}
                    for r in reviews
                ],
                "referrals": [
                    {"agency": r.agency, "referred_on": _day(r.referred_on), "summary": r.summary}
                    for r in session.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id))
                ],
            }
        )
    results = [
        {"school_year": r.school_year, "term": r.term, "total": r.total_score, "rank": r.class_rank}
        for r in session.scalars(
            select(TermResult).where(TermResult.child_id == child.id).order_by(TermResult.school_year, TermResult.term)
        )
    ]
    return {"cases": found, "term_results": results}


def export_package(ctx: Context, actor: str | None, child_id: int, to_school: str, key_path: str, out: str) -> Moved:
    """Move a child to a school elsewhere: the move at this school (as ``move`` makes it) and one package,
    signed with the school's Ed25519 key, written to ``out`` in the same transaction (a package that
    cannot be written moves nothing). The package holds counselling content: the actor must read it."""
    key = _private_key(key_path)
    now = ctx.now()
    with ctx.db.write() as session:
        who = access.enter(session, actor, now.date())
        leaving = leave(ctx, session, who, child_id)
        child, case = leaving.child, leaving.case
        access.require_tier(who, child.school_id, policy.READ, policy.T2)
        source = session.get(School, child.school_id)
        assert source is not None
        destination = to_school.strip()
        if not destination or destination == source.name:
            raise InvalidInput("--to: name the school the child moves to")
        state = case.state if case else None
        payload = {
            "format": FORMAT,
            "created": trail.timestamp(now),
            "from_school": source.name,
            "to_school": destination,
            "child": {name: as_text(value) for name, value in leaving.card.items() if value is not None},
            "case": None
            if case is None
            else {
                "state": case.state,
                "definition_version": case.definition_version,
                "risk_level": case.risk_level,
                "categories": leaving.categories,
            },
            "history": _history(session, child),
        }
        document = {
            "payload": payload,
            "public_key": _b64(_raw(key.public_key())),
            "signature": _b64(key.sign(audit.dumps(payload).encode())),
        }
        data = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        closed = case.id if case else None
        version = close_here(ctx, session, leaving, now, who.staff_id, destination)
        side = Side(child.school_id, child.id, closed, None, None, None)
        record(session, side, "out", destination, sha, now, who.staff_id)
        audit_out(session, side, state, version, sha, now, who.staff_id)
        reads = access.Reads(who)
        reads.add(child.school_id, [child.id], policy.T1, policy.T2)
        write_bytes(out, data)
        moved = Moved(
            Named(child.id, child.name),
            Named(source.id, source.name),
            Named(None, destination),
            closed,
            None,
            None,
            state,
            out,
            sha,
        )
    access.log_reads(ctx, reads, "transfer.export")
    return moved


def _verified(path: str, public_key_path: str) -> tuple[dict[str, Any], bytes]:
    """The package's payload and bytes, once its signature checks out against the sending school's key."""
    from cryptography.exceptions import InvalidSignature

    pinned = _public_key(public_key_path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PACKAGE + 1)
        if len(data) > MAX_PACKAGE:
            raise ValueError("too large")
        document = json.loads(data.decode("utf-8"))
        payload, signature = document["payload"], base64.b64decode(document["signature"])
        embedded = base64.b64decode(document["public_key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "{path} is not a casework transfer package ({error}); nothing was imported",
            path=path,
            error=type(exc).__name__,
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InvalidInput("{path} is not a casework transfer package; nothing was imported", path=path)
    if embedded != _raw(pinned):
        raise InvalidInput(
            "{path} was not signed with the key in {key}; nothing was imported", path=path, key=public_key_path
        )
    try:
        pinned.verify(signature, audit.dumps(payload).encode())
    except InvalidSignature:
        raise InvalidInput("{path} has a bad signature: it was altered; nothing was imported", path=path) from None
    return payload, data


def _case_of(payload: dict[str, Any]) -> tuple[str | None, str, list[str], str | None]:
    """The stage, workflow version, categories and risk the package's case continues with, each checked."""
    from casework.domain.inputs import category
    from casework.rules.base import RISK_LEVELS

    case = payload.get("case")
    if case is None:
        return None, states.CURRENT.version, [], None
    state, definition, risk = case.get("state"), case.get("definition_version"), case.get("risk_level")
    try:
        states.definition(str(definition))
    except KeyError:
        raise InvalidInput("the package's case follows an unknown workflow ({version})", version=definition) from None
    if state not in states.OPEN_STATES:
        raise InvalidInput("the package's case is in no open stage ({state})", state=state)
    if risk is not None and risk not in RISK_LEVELS:
        raise InvalidInput("the package's case has an unknown risk level ({risk})", risk=risk)
    return state, str(definition), [category(str(c)) for c in case.get("categories") or []], risk


def import_package(
    ctx: Context, actor: str | None, path: str, public_key_path: str, school: str | None = None
) -> Moved:
    """Receive a child from a school elsewhere: verify the package against the sending school's public key,
    check it is for this school and not imported already, then open the file and the case as ``move`` does
    and keep the package (with the case history) as a document of the new case. All or nothing."""
    payload, data = _verified(path, public_key_path)
    sha = hashlib.sha256(data).hexdigest()
    card = parse_fields({k: str(v) for k, v in dict(payload.get("child") or {}).items()})
    if not card.get("name"):
        raise InvalidInput("the package holds no name of the child; nothing was imported")
    check_id_number_agrees(card)
    state, definition, categories, risk = _case_of(payload)
    now = ctx.now()
    with ctx.db.write() as session:
        who, _, school_id = access.at_school(session, actor, now.date(), school, policy.ROSTER_IMPORT)
        here = session.get(School, school_id)
        assert here is not None
        if payload.get("to_school") != here.name:
            raise InvalidInput(
                "the package is for {to}, not {here}; nothing was imported", to=payload.get("to_school"), here=here.name
            )
        already = session.scalars(
            select(Transfer.child_id).where(
                Transfer.school_id == school_id, Transfer.direction == "in", Transfer.package_sha256 == sha
            )
        ).first()
        if already is not None:
            raise Conflict("this package was imported already (child {child})", child=already)
        new_child, new_case = arrive(
            ctx, session, school_id, card, state, definition, categories, risk, now, who.staff_id
        )
        if new_case is not None:
            session.add(
                Document(
                    school_id=school_id,
                    case_id=new_case.id,
                    stage=new_case.state,
                    template="transfer_package",
                    template_version=FORMAT,
                    case_version=0,
                    period=None,
                    lang=ctx.lang,
                    format="json",
                    status="ok",
                    sha256=sha,
                    size=len(data),
                    content=data,
                    error=None,
                    auto=False,
                    created_at=now,
                    actor_id=who.staff_id,
                )
            )
        side = Side(school_id, new_child.id, new_case.id if new_case else None, None, None, None)
        sender = str(payload.get("from_school") or "")[:200]
        record(session, side, "in", sender, sha, now, who.staff_id)
        audit_in(session, side, new_child, new_case, sha, now, who.staff_id)
        return Moved(
            Named(new_child.id, new_child.name),
            Named(None, sender),
            Named(school_id, here.name),
            None,
            new_child.id,
            side.case_id,
            state,
            None,
            sha,
        )
