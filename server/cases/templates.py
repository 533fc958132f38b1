"""Case templates (sagsskabeloner): what a new case starts with."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import journal
from server.cases.models import CaseTemplate, CaseTemplateMember
from server.errors import Conflict, Invalid, NotFound

_SCALARS = (
    "name", "description", "title_pattern", "journal_key_id", "access", "owner_group_id", "standard_folders",
    "standard_documents", "retention_years", "retention_from", "with_work_plan", "active",
)

_DEFAULTS = {"title_pattern": "{template}", "retention_from": "closed", "standard_folders": [], "standard_documents": []}


def list_templates(session: Session, include_inactive: bool = False) -> list[CaseTemplate]:
    stmt = select(CaseTemplate).order_by(CaseTemplate.name)
    if not include_inactive:
        stmt = stmt.where(CaseTemplate.active.is_(True))
    return list(session.scalars(stmt))


def get_template(session: Session, template_id: uuid.UUID) -> CaseTemplate:
    template = session.get(CaseTemplate, template_id)
    if template is None:
        raise NotFound("No such case template.")
    return template


def create_template(session: Session, actor: Principal | None, values: dict) -> CaseTemplate:
    if actor is not None:
        auth.require(actor, Right.CASE_TEMPLATES_MANAGE)
    _ensure_unique_name(session, values["name"])
    values = {**_DEFAULTS, **values}
    template = CaseTemplate(**{k: v for k, v in values.items() if k in _SCALARS})
    _check_refs(session, template)
    template.members = _members(session, values.get("members", []))
    session.add(template)
    session.flush()
    audit.record_change(session, actor, "case_template.created", "case_template", template.id, after=_values(template))
    return template


def update_template(session: Session, actor: Principal, template_id: uuid.UUID, changes: dict) -> CaseTemplate:
    auth.require(actor, Right.CASE_TEMPLATES_MANAGE)
    template = get_template(session, template_id)
    if "name" in changes and changes["name"].lower() != template.name.lower():
        _ensure_unique_name(session, changes["name"])
    before = _values(template)
    for key in _SCALARS:
        if key in changes:
            setattr(template, key, changes[key])
    _check_refs(session, template)
    if "members" in changes:
        template.members = _members(session, changes["members"])
    session.flush()
    b, a = audit.changed_fields(before, _values(template))
    audit.record_change(session, actor, "case_template.updated", "case_template", template.id, before=b, after=a)
    return template


def _ensure_unique_name(session: Session, name: str) -> None:
    if session.scalar(select(CaseTemplate).where(func.lower(CaseTemplate.name) == name.strip().lower())):
        raise Conflict(f"A case template named {name!r} exists.")


def _check_refs(session: Session, template: CaseTemplate) -> None:
    if template.journal_key_id is not None:
        journal.require_leaf(session, template.journal_key_id)
    if template.owner_group_id is not None:
        auth.get_group(session, template.owner_group_id)
    check_title_pattern(template.title_pattern)
    if template.retention_from not in ("closed", "created"):
        raise Invalid.field("retention_from", "Retention counts from 'closed' or 'created'.")


def _members(session: Session, members: list[dict]) -> list[CaseTemplateMember]:
    result = []
    for m in members:
        if bool(m.get("user_id")) == bool(m.get("group_id")):
            raise Invalid.field("members", "Each member is either a user_id or a group_id.")
        if m.get("user_id"):
            auth.get_user(session, m["user_id"])
        else:
            auth.get_group(session, m["group_id"])
        result.append(CaseTemplateMember(user_id=m.get("user_id"), group_id=m.get("group_id"), access=m["access"]))
    return result


def _values(template: CaseTemplate) -> dict:
    values = {k: getattr(template, k) for k in _SCALARS}
    values["members"] = [
        {"user_id": str(m.user_id) if m.user_id else None, "group_id": str(m.group_id) if m.group_id else None,
         "access": m.access.value}
        for m in template.members
    ]
    return values


TITLE_PLACEHOLDERS = ("template", "number", "year", "date", "journal_key", "journal_key_number", "journal_key_title")


def check_title_pattern(pattern: str) -> None:
    """Refuse a pattern with unknown or broken placeholders when the template is saved."""
    try:
        pattern.format_map({name: "x" for name in TITLE_PLACEHOLDERS})
    except KeyError as exc:
        raise Invalid.field(
            "title_pattern", f"Unknown placeholder {{{exc.args[0]}}}; use {', '.join('{' + p + '}' for p in TITLE_PLACEHOLDERS)}."
        ) from None
    except (ValueError, IndexError):
        raise Invalid.field("title_pattern", "The title pattern has an unmatched { or }.") from None


def render_title(template: CaseTemplate, key, number: str, today) -> str:
    return template.title_pattern.format_map({
        "template": template.name,
        "number": number,
        "year": today.year,
        "date": today.isoformat(),
        "journal_key": journal.key_label(key),
        "journal_key_number": key.number if key else "",
        "journal_key_title": key.title if key else "",
    }).strip() or template.name
