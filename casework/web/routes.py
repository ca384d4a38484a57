"""The one route table: every page's path, method, handler and the roles it is open to.

The table says who may reach a page at all; what they may read or change there is decided by
the services they call, with the same policy as the CLI. The role × route test matrix is
generated from this table, so a route added here cannot be left out of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response

from casework.domain import access as policy
from casework.web import admin, auditor, leadership, pages
from casework.web.core import Req

PUBLIC = "public"  # no sign-in needed
ACCOUNT = "account"  # any signed-in person, whatever their roles

EVERY_ROLE = frozenset(policy.POLICY)
# People who care for children and read counselling content (T2) in their record scope.
CARE = frozenset({"leader", "deputy", "counsellor", "class_teacher", "subject_teacher", "mentor", "caring_parent"})
# Roles that read children's names (T1): care roles and the administrator.
NAMES = CARE | {"admin"}
MOVERS = frozenset(r for r in EVERY_ROLE if policy.policy(r).events)
CHILD_RECORDS = CARE  # exam results by any teacher; consent by those the policy lets (the service decides)
CLASS_TEACHERS = frozenset({"class_teacher"})


def holding(capability: str) -> frozenset[str]:
    """The roles whose policy grants ``capability``: the route table follows the access policy."""
    return frozenset(r for r in EVERY_ROLE if capability in policy.policy(r).capabilities)


STAFF_MANAGERS = holding(policy.STAFF_MANAGE)
LEADERSHIP = holding(policy.REVIEW_MEETING)
INDICATORS = holding(policy.REPORT_INDICATORS)
AUDITORS = holding(policy.AUDIT_READ)
ROSTER = holding(policy.ROSTER_IMPORT)
ROLLOVER = holding(policy.YEAR_ROLLOVER)
KEYS = holding(policy.KEYS_MANAGE)
COUNTY = holding(policy.COUNTY_REPORT)
JOB_HOLDERS = AUDITORS | ROSTER | ROLLOVER

Needs = str | frozenset[str]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    handler: Callable[[Req], Response]
    needs: Needs
    upload: int = 0  # a route that takes files: its body limit in bytes (others: 1 MB, no files)

    def open_to(self, roles: frozenset[str] | None) -> bool:
        """Whether a person with ``roles`` (None: signed out) may reach the route."""
        if self.needs == PUBLIC:
            return True
        if roles is None:
            return False
        if isinstance(self.needs, frozenset):
            return bool(roles & self.needs)
        return self.needs == ACCOUNT


ROUTES: tuple[Route, ...] = (
    Route("home", "GET", "/", pages.home, PUBLIC),
    Route("ping", "GET", "/ping", pages.ping, PUBLIC),
    Route("sign_in_form", "GET", "/sign-in", pages.sign_in_form, PUBLIC),
    Route("sign_in", "POST", "/sign-in", pages.sign_in, PUBLIC),
    Route("lang", "POST", "/lang", pages.set_lang, PUBLIC),
    Route("sign_out", "POST", "/sign-out", pages.sign_out, ACCOUNT),
    Route("password_form", "GET", "/password", pages.password_form, ACCOUNT),
    Route("password", "POST", "/password", pages.password, ACCOUNT),
    Route("desk", "GET", "/desk", pages.desk, EVERY_ROLE),
    Route("class_sheet", "GET", "/class-sheet", pages.class_sheet, CLASS_TEACHERS),
    Route("class_sheet_save", "POST", "/class-sheet", pages.class_sheet_save, CLASS_TEACHERS),
    Route("search", "GET", "/children", pages.search, NAMES),
    Route("child", "GET", "/children/{child_id}", pages.child, NAMES),
    Route("child_record_form", "GET", "/children/{child_id}/record/{kind}", pages.child_record, CHILD_RECORDS),
    Route("child_record", "POST", "/children/{child_id}/record/{kind}", pages.child_record, CHILD_RECORDS),
    Route("case", "GET", "/cases/{case_id}", pages.case, CARE),
    Route("case_move", "POST", "/cases/{case_id}/move", pages.case_move, MOVERS),
    Route("case_record_form", "GET", "/cases/{case_id}/record/{kind}", pages.case_record, CARE),
    Route("case_record", "POST", "/cases/{case_id}/record/{kind}", pages.case_record, CARE),
    Route("documents", "GET", "/cases/{case_id}/documents", pages.documents, CARE),
    Route("documents_render", "POST", "/cases/{case_id}/documents", pages.documents_render, CARE),
    Route("document", "GET", "/documents/{document_id}", pages.document, CARE),
    Route("staff", "GET", "/staff", pages.staff_accounts, STAFF_MANAGERS),
    Route("staff_password", "POST", "/staff/{staff_id}/password", pages.staff_password, STAFF_MANAGERS),
    Route("staff_disable", "POST", "/staff/{staff_id}/disable", pages.staff_disable, STAFF_MANAGERS),
    # the leadership group
    Route("stalled", "GET", "/stalled", leadership.stalled, LEADERSHIP),
    Route("mentor_load", "GET", "/mentor-load", leadership.mentor_load, LEADERSHIP),
    Route("meetings", "GET", "/meetings", leadership.meetings, LEADERSHIP),
    Route("meeting_new", "POST", "/meetings", leadership.meeting_new, LEADERSHIP),
    Route("meeting", "GET", "/meetings/{meeting_id}", leadership.meeting, LEADERSHIP),
    Route("meeting_decide", "POST", "/meetings/{meeting_id}/decide", leadership.meeting_decide, LEADERSHIP),
    Route("meeting_minutes", "GET", "/meetings/{meeting_id}/minutes", leadership.minutes, LEADERSHIP),
    Route("indicators", "GET", "/indicators", leadership.indicators, INDICATORS),
    Route("indicators_xlsx", "GET", "/indicators.xlsx", leadership.indicators_xlsx, INDICATORS),
    Route("evaluation", "GET", "/evaluation", leadership.evaluation, INDICATORS),
    Route("evaluation_download", "GET", "/evaluation/download", leadership.evaluation_download, INDICATORS),
    # the education bureau (教育局): every school it oversees, side by side, no child
    Route("county", "GET", "/county", leadership.county, COUNTY),
    Route("county_download", "GET", "/county/download", leadership.county_download, COUNTY),
    # the auditor
    Route("audit", "GET", "/audit", auditor.desk, AUDITORS),
    Route("audit_verify", "POST", "/audit/verify", auditor.verify, AUDITORS),
    Route("audit_checkpoint", "POST", "/audit/checkpoint", auditor.checkpoint, AUDITORS, upload=auditor.UPLOAD_LIMIT),
    Route("audit_export", "GET", "/audit/export", auditor.export, AUDITORS),
    Route("access_log", "GET", "/access-log", auditor.access_log, AUDITORS),
    Route("job", "GET", "/jobs/{job_id}", auditor.job, JOB_HOLDERS),
    # the school administrator
    Route("staff_add", "POST", "/staff/add", admin.staff_add, STAFF_MANAGERS),
    Route("staff_roles", "POST", "/staff/{staff_id}/roles", admin.staff_roles, STAFF_MANAGERS),
    Route("rollover", "GET", "/rollover", admin.rollover_preview, ROLLOVER),
    Route("rollover_confirm", "POST", "/rollover", admin.rollover_confirm, ROLLOVER),
    Route("roster", "GET", "/roster", admin.roster_form, ROSTER),
    Route("roster_upload", "POST", "/roster", admin.roster_upload, ROSTER, upload=admin.UPLOAD_LIMIT),
    Route("roster_confirm", "POST", "/roster/{job_id}/confirm", admin.roster_confirm, ROSTER),
    Route("roster_problems", "GET", "/roster/{job_id}/problems", admin.roster_problems, ROSTER),
    Route("privacy", "GET", "/privacy", admin.privacy, KEYS),
)

BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}
# What a person whose password is a one-time one may still reach: only what changes it.
WHILE_ONE_TIME = frozenset({"password_form", "password", "sign_out", "lang", "ping", "home"})


def url(name: str, **params: object) -> str:
    path = BY_NAME[name].path
    for key, value in params.items():
        path = path.replace("{" + key + "}", str(value))
    return path
