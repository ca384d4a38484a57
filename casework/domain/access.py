"""Who may see and do what: the one policy table, deny by default; pure data and lookups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from casework.text import N_

# Field tiers. T0: ids, states, dates and counts. T1: contact data (names, addresses, phone and
# ID numbers, workplaces). T2: counselling content (assessments, screening scores, talk records,
# plans, reviews, referrals, health notes, rendered documents).
T0, T1, T2 = "T0", "T1", "T2"
TIERS: tuple[str, ...] = (T0, T1, T2)
TIER_LABELS: dict[str, str] = {
    T0: N_("ids and states"),
    T1: N_("contact data"),
    T2: N_("counselling content"),
}

READ, WRITE = "read", "write"
ACTIONS: tuple[str, ...] = (READ, WRITE)

# Record scope. ASSIGNED: the cases a staff member is assigned to, as the case's counsellor, as a
# paired mentor or caring parent, as the responsible person of a plan item, or through a class
# they teach. SCHOOL: every case of the schools they work at. NONE: no case at all.
ASSIGNED, SCHOOL, NONE = "assigned", "school", "none"

# What a role may do beyond reading and writing case records.
STAFF_MANAGE = "staff.manage"  # add staff and classes
ROSTER_IMPORT = "roster.import"
ROSTER_EXPORT = "roster.export"
YEAR_ROLLOVER = "year.rollover"
REVIEW_MEETING = "review.meeting"  # hold review meetings, decide, extend deadlines
REVIEW_SWEEP = "review.sweep"
FLAG_ACKNOWLEDGE = "flag.acknowledge"
REPORT_INDICATORS = "report.indicators"
AUDIT_READ = "audit.read"  # verify, export and checkpoint the audit chain
KEYS_MANAGE = "keys.manage"
BACKUP_MAKE = "backup.make"  # a copy of every school's data (sealed values sealed)
COUNTY_REPORT = "county.report"  # every school's counts side by side (教育局), no child in them
PRIVACY_PURGE = "privacy.purge"
PRIVACY_REPORT = "privacy.report"
CONSENT_RECORD = "consent.record"
CASE_OPEN = "case.open"  # open a case for any child of the school, in scope or not yet

CAPABILITIES: tuple[str, ...] = (
    STAFF_MANAGE,
    ROSTER_IMPORT,
    ROSTER_EXPORT,
    YEAR_ROLLOVER,
    REVIEW_MEETING,
    REVIEW_SWEEP,
    FLAG_ACKNOWLEDGE,
    REPORT_INDICATORS,
    AUDIT_READ,
    KEYS_MANAGE,
    BACKUP_MAKE,
    COUNTY_REPORT,
    PRIVACY_PURGE,
    PRIVACY_REPORT,
    CONSENT_RECORD,
    CASE_OPEN,
)

# What a refusal names, in the person's language.
CAPABILITY_LABELS: dict[str, str] = {
    STAFF_MANAGE: N_("manage staff and classes"),
    ROSTER_IMPORT: N_("import registers"),
    ROSTER_EXPORT: N_("export registers"),
    YEAR_ROLLOVER: N_("roll the school year over"),
    REVIEW_MEETING: N_("hold review meetings"),
    REVIEW_SWEEP: N_("sweep stalled cases"),
    FLAG_ACKNOWLEDGE: N_("acknowledge flags"),
    REPORT_INDICATORS: N_("read the indicators"),
    AUDIT_READ: N_("read the audit trail"),
    KEYS_MANAGE: N_("manage encryption keys"),
    PRIVACY_PURGE: N_("purge data past retention"),
    PRIVACY_REPORT: N_("read the privacy report"),
    CONSENT_RECORD: N_("record guardians' consent"),
    CASE_OPEN: N_("open cases"),
}
ACTION_LABELS: dict[str, str] = {READ: N_("read"), WRITE: N_("write"), "search": N_("search")}

# What an access event says was read or refused ("what" in its data), as the auditor reads it:
# the page or command that read the names, or the thing refused ("case:13", "event:assess",
# "read:T2", a capability). Parameterised ones are put together by the web layer's labels.
PURPOSE_LABELS: dict[str, str] = {
    "desk": N_("My desk"),
    "class_sheet": N_("Class sheet"),
    "form": N_("record form"),
    "child.find": N_("child search"),
    "child.show": N_("child file"),
    "child.list": N_("child list"),
    "case.show": N_("case page"),
    "case.list": N_("case list"),
    "case.history": N_("case history"),
    "plan.items": N_("plan items"),
    "review.due": N_("duties due"),
    "review.overdue": N_("overdue duties"),
    "review.stalled": N_("Stalled cases"),
    "meeting.show": N_("review meeting"),
    "document.render": N_("document rendered"),
    "document.batch": N_("documents rendered in a batch"),
    "document.get": N_("document downloaded"),
    "transfer.export": N_("transfer package"),
    "roster.export_children": N_("register of children exported"),
    "roster.export_cases": N_("list of cases exported"),
    "care.list": N_("school care activities"),
    "report.five_ones": N_("five-ones report"),
    "evaluation": N_("annual evaluation"),
    "county.report": N_("county report"),
    "school": N_("school"),
}
# The things a refusal names by kind and number ("case:13").
REFUSED_KINDS: dict[str, str] = {
    "case": N_("case"),
    "child": N_("child"),
    "consent": N_("consent"),
    "staff": N_("staff member"),
    "meeting": N_("meeting"),
    "document": N_("document"),
}

STAGE_EVENTS = ("assess", "plan", "mentor", "review")
LEADERSHIP_EVENTS = ("continue", "revise", "reassess", "reopen")


@dataclass(frozen=True)
class Policy:
    """What one role may do: its record scope, tiers it reads and writes, events, capabilities.

    ``events`` names workflow events with the states they may be fired from; ``"*"`` as the
    state means from any state.
    """

    scope: str
    read: frozenset[str]
    write: frozenset[str]
    events: frozenset[tuple[str, str]]
    capabilities: frozenset[str]


def _events(names: Iterable[str], sources: Iterable[str] = ("*",)) -> frozenset[tuple[str, str]]:
    return frozenset((name, source) for name in names for source in sources)


# Closing from "reviewed" is the leadership group's decision; before a review, the counsellor may
# close a case opened by mistake or for a child who left (the rules add their own conditions).
_COUNSELLOR_CLOSE = _events(["close"], ["identified", "assessed", "individual_plan", "mentored"])
_LEADERSHIP = Policy(
    scope=SCHOOL,
    read=frozenset({T0, T1, T2}),
    write=frozenset({T0, T1, T2}),
    events=_events([*STAGE_EVENTS, *LEADERSHIP_EVENTS, "close"]),
    capabilities=frozenset(
        {
            ROSTER_IMPORT,
            ROSTER_EXPORT,
            YEAR_ROLLOVER,
            REVIEW_MEETING,
            REVIEW_SWEEP,
            FLAG_ACKNOWLEDGE,
            REPORT_INDICATORS,
            AUDIT_READ,
            PRIVACY_REPORT,
            CONSENT_RECORD,
            CASE_OPEN,
        }
    ),
)
_TEACHER = Policy(
    scope=ASSIGNED,
    read=frozenset({T0, T1, T2}),
    write=frozenset({T0, T1, T2}),
    events=frozenset(),
    capabilities=frozenset(),
)

POLICY: dict[str, Policy] = {
    "leader": _LEADERSHIP,
    "deputy": _LEADERSHIP,
    "counsellor": Policy(
        scope=ASSIGNED,
        read=frozenset({T0, T1, T2}),
        write=frozenset({T0, T1, T2}),
        events=_events(STAGE_EVENTS) | _COUNSELLOR_CLOSE,
        capabilities=frozenset({CONSENT_RECORD, CASE_OPEN}),
    ),
    "class_teacher": Policy(
        scope=ASSIGNED,
        read=frozenset({T0, T1, T2}),
        write=frozenset({T0, T1, T2}),
        events=frozenset(),
        capabilities=frozenset({CONSENT_RECORD}),
    ),
    "subject_teacher": _TEACHER,
    "mentor": _TEACHER,
    "caring_parent": _TEACHER,
    "auditor": Policy(
        scope=SCHOOL,
        read=frozenset({T0}),
        write=frozenset(),
        events=frozenset(),
        capabilities=frozenset({AUDIT_READ, PRIVACY_REPORT}),
    ),
    "admin": Policy(
        scope=SCHOOL,
        read=frozenset({T0, T1}),
        write=frozenset({T0, T1}),
        events=frozenset(),
        capabilities=frozenset(
            {
                STAFF_MANAGE,
                ROSTER_IMPORT,
                ROSTER_EXPORT,
                YEAR_ROLLOVER,
                AUDIT_READ,
                KEYS_MANAGE,
                BACKUP_MAKE,
                PRIVACY_PURGE,
                PRIVACY_REPORT,
            }
        ),
    ),
    # The education bureau (教育局): a membership at each school of the county it oversees; counts
    # only (T0), no case record, no event, no child's name or id.
    "bureau": Policy(
        scope=NONE,
        read=frozenset({T0}),
        write=frozenset(),
        events=frozenset(),
        capabilities=frozenset({COUNTY_REPORT}),
    ),
}

NO_ACCESS = Policy(scope=NONE, read=frozenset(), write=frozenset(), events=frozenset(), capabilities=frozenset())


def policy(role: str) -> Policy:
    """The policy of a role; a role the table does not name may do nothing."""
    return POLICY.get(role, NO_ACCESS)


def may_tier(roles: Iterable[str], action: str, tier: str) -> bool:
    """Whether any of the roles may read (or write) fields of the tier."""
    return any(tier in (policy(r).read if action == READ else policy(r).write) for r in roles)


def may_fire(roles: Iterable[str], event: str, source: str) -> bool:
    """Whether any of the roles may fire the workflow event from the source state."""
    return any((event, source) in policy(r).events or (event, "*") in policy(r).events for r in roles)


def may(roles: Iterable[str], capability: str) -> bool:
    return any(capability in policy(r).capabilities for r in roles)


def widest_scope(roles: Iterable[str]) -> str:
    """SCHOOL beats ASSIGNED beats NONE: a leader who also mentors sees the whole school."""
    scopes = {policy(r).scope for r in roles}
    for scope in (SCHOOL, ASSIGNED):
        if scope in scopes:
            return scope
    return NONE


def readable_tiers(roles: Iterable[str]) -> frozenset[str]:
    roles = list(roles)
    return frozenset(t for t in TIERS if may_tier(roles, READ, t))


# The tier of every column holding personal data, by table. A column not named here is T0. The
# encryption at rest seals exactly the T1 and T2 columns named here; the purge erases them.
SENSITIVE_COLUMNS: dict[str, dict[str, str]] = {
    "child": {
        "name": T1,
        "id_number": T1,
        "home_address": T1,
        "father_name": T1,
        "father_phone": T1,
        "father_address": T1,
        "father_workplace": T1,
        "father_workplace_address": T1,
        "father_workplace_phone": T1,
        "mother_name": T1,
        "mother_phone": T1,
        "mother_address": T1,
        "mother_workplace": T1,
        "mother_workplace_address": T1,
        "mother_workplace_phone": T1,
        "guardian_name": T1,
        "guardian_occupation": T1,
        "guardian_address": T1,
        "guardian_phone": T1,
        "health": T2,
        "guardian_health": T2,
    },
    "child_change": {"old_value": T1, "new_value": T1},
    "assessment": {"summary": T2, "facts": T2},
    "screening": {"item_scores": T2, "result": T2},
    "plan_item": {"measures": T2, "content": T2, "stage_target": T2},
    "pairing": {"partner_name": T1},
    "contact_entry": {"summary": T2, "follow_up": T2},
    "review": {"summary": T2},
    "review_effect": {"effect": T2},
    "referral": {"summary": T2},
    "aid": {"description": T2},
    "case_event": {"reason": T2},
    "extension": {"reason": T2},
    "meeting_item": {"decision_reason": T2},
    "document": {"content": T2},
    "consent": {"guardian_name": T1},
    # A staff member's own number: not a child's data, so the retention purge leaves it.
    "staff": {"phone": T1},
    # School-wide care (issue 21): who came to a seminar and what was said, why a child is a star,
    # the ordinary pupils of a 3+2+1+1 group.
    "care_event": {"guardians": T1, "minutes": T2},
    "star": {"reason": T2},
    "care_group_member": {"pupil_name": T1},
}


def column_tier(table: str, column: str) -> str:
    return SENSITIVE_COLUMNS.get(table, {}).get(column, T0)
