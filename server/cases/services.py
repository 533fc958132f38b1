"""Cases: creation from a template, reads (logged), changes (audited), members, parties, notes."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.admin.models import CustomField, FieldEntity, FieldType, NoteCategory, PartyRole
from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import access, journal, templates
from server.cases.access import Level
from server.cases.models import (
    AccessLevel,
    Case,
    CaseAccess,
    CaseFieldValue,
    CaseFolder,
    CaseMember,
    CaseNote,
    CaseNumberCounter,
    CaseParty,
    CaseStatus,
    CaseTag,
    CaseTemplate,
    TemplateAccess,
)
from server.contacts import services as contacts
from server.dates import add_years
from server.db import utcnow
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.search import feeds as search_feeds
from server.search import services as search_index

_NOT_FOUND = "No such case."
_STATUS_MOVES = {
    CaseStatus.OPEN: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN, CaseStatus.ARCHIVED},
    CaseStatus.ARCHIVED: set(),
}


# ---------------------------------------------------------------- numbers


def allocate_case_number(session: Session, year: int) -> str:
    """The next number of the year, e.g. 2026-000123; concurrent callers never get the same one.

    The counter row is locked by the UPDATE until the transaction ends, so allocations queue.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(CaseNumberCounter).values(year=year, last=0).on_conflict_do_nothing())
    stmt = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.year == year)
        .values(last=CaseNumberCounter.last + 1)
        .returning(CaseNumberCounter.last)
    )
    sequence = session.execute(stmt).scalar_one()
    return f"{year}-{sequence:06d}"


# ---------------------------------------------------------------- reading


def require_case(session: Session, actor: Principal, case_id: uuid.UUID, needed: Level = Level.READ) -> Case:
    """The case if the actor has `needed` access. A case the actor may not read is 404, not 403,
    so its existence is not revealed."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_NOT_FOUND)
    have = access.level(session, actor, case)
    if have == Level.NONE:
        raise NotFound(_NOT_FOUND)
    if have < needed:
        raise Forbidden("You may read this case but not change it." if needed == Level.WRITE else
                        "Only the case owner or an administrator may do this.")
    return case


def read_case(session: Session, actor: Principal, case_id: uuid.UUID, what: str = "read", channel: str = "api") -> Case:
    """A read by a user: access-checked and written to the access log."""
    case = require_case(session, actor, case_id)
    audit.record_case_read(session, actor, case.id, action=what, channel=channel)
    return case


def my_level(session: Session, actor: Principal, case: Case) -> Level:
    return access.level(session, actor, case)


@dataclass(frozen=True)
class CaseFilter:
    scope: str = "all"  # all | mine | unassigned
    status: CaseStatus | None = None
    journal_key_id: uuid.UUID | None = None
    template_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    owner_group_id: uuid.UUID | None = None
    tag: str | None = None
    q: str | None = None
    fields: list[str] = field(default_factory=list)  # "key:value" or "key:from..to"
    party_contact_id: uuid.UUID | None = None


_SORTS = {
    "updated_at": Case.updated_at,
    "created_at": Case.created_at,
    "number": Case.number,
    "title": Case.title,
}


def list_cases(
    session: Session, actor: Principal, flt: CaseFilter, *, sort: str = "-updated_at", offset: int, limit: int
) -> tuple[list[Case], int]:
    stmt = select(Case).where(_scope(session, actor, flt.scope), *_conditions(session, flt))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    column = _SORTS.get(sort.lstrip("-"))
    if column is None:
        raise Invalid.field("sort", f"Sort by one of {', '.join(_SORTS)} (prefix - for descending).")
    order = column.desc() if sort.startswith("-") else column.asc()
    rows = session.scalars(stmt.order_by(order, Case.id).offset(offset).limit(limit)).all()
    return list(rows), total


def _scope(session: Session, actor: Principal, scope: str):
    if scope == "mine":
        return access.mine(session, actor)
    if scope == "unassigned":
        return access.unassigned_in_my_groups(actor)
    if scope == "all":
        return access.visible(actor)
    raise Invalid.field("scope", "The scope is all, mine or unassigned.")


def _conditions(session: Session, flt: CaseFilter) -> list:
    conds = []
    for name in ("status", "journal_key_id", "template_id", "owner_user_id", "owner_group_id"):
        value = getattr(flt, name)
        if value is not None:
            conds.append(getattr(Case, name) == value)
    if flt.tag:
        conds.append(Case.id.in_(select(CaseTag.case_id).where(CaseTag.tag == flt.tag.strip().lower())))
    if flt.q:
        like = f"%{flt.q.strip().lower()}%"
        conds.append(or_(func.lower(Case.title).like(like), Case.number.like(like)))
    if flt.party_contact_id:
        conds.append(Case.id.in_(select(CaseParty.case_id).where(CaseParty.contact_id == flt.party_contact_id)))
    if flt.fields:
        defs = lists.fields_by_key(session, FieldEntity.CASE)
        conds.extend(_field_condition(defs, expr) for expr in flt.fields)
    return conds


def _field_condition(defs: dict, expr: str):
    key, sep, raw = expr.partition(":")
    if not sep or key not in defs:
        raise Invalid.field("field", f"Filter custom fields as key:value or key:from..to; {key!r} is not a case field.")
    definition = defs[key]
    if ".." in raw and definition.type in (FieldType.NUMBER, FieldType.DATE):
        low, high = raw.split("..", 1)
        return having_field_value(Case.id, definition, low=low or None, high=high or None)
    return having_field_value(Case.id, definition, value=raw)


def having_field_value(case_id_column, definition: CustomField, *, value=None, low=None, high=None):
    """For other domains (search) too: a predicate on a case-id column, true for the cases whose
    value of this case field equals `value`, or lies from `low` to `high` (see lists.value_condition)."""
    return lists.owners_with_value(case_id_column, CaseFieldValue.case_id, FieldEntity.CASE, definition,
                                   value=value, low=low, high=high)


# ---------------------------------------------------------------- creating


def create_case(
    session: Session,
    actor: Principal,
    *,
    template_id: uuid.UUID,
    title: str | None = None,
    description: str = "",
    journal_key_id: uuid.UUID | None = None,
    owner_user_id: uuid.UUID | None = None,
    owner_group_id: uuid.UUID | None = None,
    unassigned: bool = False,
    tags: list[str] = (),
    custom_fields: dict | None = None,
    parties: list[dict] = (),
) -> Case:
    auth.require(actor, Right.CASES_CREATE)
    template = templates.get_template(session, template_id)
    if not template.active:
        raise Invalid.field("template_id", f"The case template {template.name!r} is no longer in use.")
    key_id = journal_key_id or template.journal_key_id
    key = journal.require_leaf(session, key_id) if key_id else None
    owner_user_id, owner_group_id = _initial_owner(session, actor, template, owner_user_id, owner_group_id, unassigned)
    now = utcnow()
    number = allocate_case_number(session, now.year)
    case = Case(
        number=number,
        title=(title or "").strip() or templates.render_title(template, key, number, now.date()),
        description=description,
        template_id=template.id,
        journal_key_id=key.id if key else None,
        access=CaseAccess.PUBLIC if template.access == TemplateAccess.PUBLIC else CaseAccess.RESTRICTED,
        owner_user_id=owner_user_id,
        owner_group_id=owner_group_id,
        created_by_id=actor.user_id,
    )
    case.members = [
        CaseMember(user_id=m.user_id, group_id=m.group_id, access=m.access)
        for m in template.members
        if template.access != TemplateAccess.MEMBERS or m.user_id is not None
    ]
    case.folders = [CaseFolder(name=name, position=i) for i, name in enumerate(dict.fromkeys(template.standard_folders))]
    session.add(case)
    _set_tags(case, tags)
    _set_fields(session, case, custom_fields or {}, creating=True)
    session.flush()
    audit.record_change(session, actor, "case.created", "case", case.id, case_id=case.id,
                        summary=f"Oprettede sagen {case.number}", after=_values(case))
    for party in parties:
        add_party(session, actor, case.id, **party)
    search_feeds.index_case(session, case)
    return case


def _initial_owner(session, actor, template, owner_user_id, owner_group_id, unassigned):
    """The creator owns a new case unless another user is named or it is left unassigned in its group."""
    group_id = owner_group_id or template.owner_group_id
    if group_id is not None:
        auth.get_group(session, group_id)
    if unassigned:
        if group_id is None:
            raise Invalid.field("owner_group_id", "An unassigned case needs an owning group.")
        return None, group_id
    if owner_user_id is not None and owner_user_id != actor.user_id:
        auth.require(actor, Right.CASES_ASSIGN)
        auth.get_user(session, owner_user_id)
    return owner_user_id or actor.user_id, group_id


# ---------------------------------------------------------------- changing


def update_case(session: Session, actor: Principal, case_id: uuid.UUID, changes: dict) -> Case:
    case = require_case(session, actor, case_id, Level.WRITE)
    if case.status == CaseStatus.ARCHIVED:
        raise Conflict("An archived case cannot be changed.")
    before = _values(case)
    if "title" in changes:
        if not changes["title"].strip():
            raise Invalid.field("title", "A case needs a title.")
        case.title = changes["title"].strip()
    if "description" in changes:
        case.description = changes["description"]
    if "journal_key_id" in changes:
        key_id = changes["journal_key_id"]
        case.journal_key_id = journal.require_leaf(session, key_id).id if key_id else None
    if "access" in changes:
        if access.level(session, actor, case) < Level.MANAGE:
            raise Forbidden("Only the case owner or an administrator may change who can see the case.")
        case.access = changes["access"]
    if "tags" in changes:
        _set_tags(case, changes["tags"])
    if "custom_fields" in changes:
        _set_fields(session, case, changes["custom_fields"], creating=False)
    _touch(case)
    session.flush()
    b, a = audit.changed_fields(before, _values(case))
    if a:
        audit.record_change(session, actor, "case.updated", "case", case.id, case_id=case.id,
                            summary="Redigerede sagens informationer", before=b, after=a)
    search_feeds.index_case(session, case)
    return case


def change_status(session: Session, actor: Principal, case_id: uuid.UUID, status: CaseStatus) -> Case:
    case = require_case(session, actor, case_id, Level.WRITE)
    if status == case.status:
        return case
    if status not in _STATUS_MOVES[case.status]:
        raise Conflict(f"A case that is {case.status.value} cannot become {status.value}.")
    before = case.status
    case.status = status
    case.closed_at = utcnow() if status == CaseStatus.CLOSED else (case.closed_at if status == CaseStatus.ARCHIVED else None)
    _touch(case)
    audit.record_change(session, actor, "case.status_changed", "case", case.id, case_id=case.id,
                        summary=f"Ændrede status til {status.value}", before={"status": before}, after={"status": status})
    search_feeds.index_case(session, case)
    return case


def assign_case(
    session: Session, actor: Principal, case_id: uuid.UUID, *, user_id: uuid.UUID | None, group_id: uuid.UUID | None = None
) -> Case:
    """Tildel til: give the case to a user (taking an unassigned case is assigning it to oneself),
    or to a group only, which makes it unassigned in that group."""
    auth.require(actor, Right.CASES_ASSIGN)
    case = require_case(session, actor, case_id, Level.WRITE)
    if user_id is not None:
        user = auth.get_user(session, user_id)
        if not user.active:
            raise Invalid.field("user_id", "The user is deactivated.")
    if group_id is not None:
        auth.get_group(session, group_id)
    if user_id is None and group_id is None and case.owner_group_id is None:
        raise Invalid.field("group_id", "A case without an owning user needs an owning group.")
    before = {"owner_user_id": case.owner_user_id, "owner_group_id": case.owner_group_id}
    case.owner_user_id = user_id
    if group_id is not None:
        case.owner_group_id = group_id
    _touch(case)
    after = {"owner_user_id": case.owner_user_id, "owner_group_id": case.owner_group_id}
    audit.record_change(session, actor, "case.assigned", "case", case.id, case_id=case.id,
                        summary="Tildelte sagen", before=before, after=after)
    search_feeds.index_case(session, case)
    return case


def _touch(case: Case) -> None:
    case.updated_at = utcnow()


def _set_tags(case: Case, tags) -> None:
    wanted = sorted({t.strip().lower() for t in tags if t.strip()})
    if any(len(t) > 100 for t in wanted):
        raise Invalid.field("tags", "A tag is at most 100 characters.")
    case.tags = [CaseTag(tag=t) for t in wanted]


def _set_fields(session: Session, case: Case, values: dict, *, creating: bool) -> None:
    case.field_values = lists.merged_field_values(
        session, FieldEntity.CASE, case.field_values, values, creating=creating, new_row=CaseFieldValue
    )


def field_values(session: Session, case: Case) -> dict:
    return lists.plain_field_values(session, FieldEntity.CASE, case.field_values)


def _values(case: Case) -> dict:
    return {
        "title": case.title,
        "description": case.description,
        "journal_key_id": case.journal_key_id,
        "access": case.access,
        "status": case.status,
        "owner_user_id": case.owner_user_id,
        "owner_group_id": case.owner_group_id,
        "tags": [t.tag for t in case.tags],
        "fields": lists.audited_field_values(case.field_values),
    }


# ---------------------------------------------------------------- members


def list_members(session: Session, actor: Principal, case_id: uuid.UUID) -> list[CaseMember]:
    return list(read_case(session, actor, case_id, "read_members").members)


def add_member(
    session: Session, actor: Principal, case_id: uuid.UUID, *, user_id=None, group_id=None, access_level=AccessLevel.WRITE
) -> CaseMember:
    case = require_case(session, actor, case_id, Level.WRITE)
    if bool(user_id) == bool(group_id):
        raise Invalid.field("user_id", "Give either user_id or group_id.")
    subject = auth.get_user(session, user_id).username if user_id else auth.get_group(session, group_id).name
    if any((m.user_id, m.group_id) == (user_id, group_id) for m in case.members):
        raise Conflict(f"{subject} is already a member of the case.")
    member = CaseMember(user_id=user_id, group_id=group_id, access=access_level)
    case.members.append(member)
    _touch(case)
    session.flush()
    audit.record_change(session, actor, "case.member_added", "case_member", member.id, case_id=case.id,
                        summary=f"Tilføjede medlem {subject}", after={"member": subject, "access": access_level})
    return member


def remove_member(session: Session, actor: Principal, case_id: uuid.UUID, member_id: uuid.UUID) -> None:
    case = require_case(session, actor, case_id, Level.WRITE)
    member = next((m for m in case.members if m.id == member_id), None)
    if member is None:
        raise NotFound("No such member on this case.")
    subject = auth.get_user(session, member.user_id).username if member.user_id else auth.get_group(session, member.group_id).name
    case.members.remove(member)
    _touch(case)
    audit.record_change(session, actor, "case.member_removed", "case_member", member_id, case_id=case.id,
                        summary=f"Fjernede medlem {subject}", before={"member": subject, "access": member.access})


# ---------------------------------------------------------------- parties


def list_parties(session: Session, actor: Principal, case_id: uuid.UUID) -> list[dict]:
    case = read_case(session, actor, case_id, "read_parties")
    return [party_view(session, actor, p) for p in case.parties]


def party_view(session: Session, actor: Principal, party: CaseParty) -> dict:
    contact = contacts.get_contact(session, actor, party.contact_id)
    role = session.get(PartyRole, party.role_id) if party.role_id else None
    return {
        "id": party.id,
        "contact": contacts.contact_summary(contact, actor),
        "role_id": party.role_id,
        "role": role.name if role else None,
        "is_primary": party.is_primary,
        "note": party.note,
    }


def add_party(
    session: Session, actor: Principal, case_id: uuid.UUID, *, contact_id: uuid.UUID, role_id: uuid.UUID | None = None,
    is_primary: bool = False, note: str = "",
) -> CaseParty:
    case = require_case(session, actor, case_id, Level.WRITE)
    contact = contacts.get_contact(session, actor, contact_id)
    role = lists.get_named(session, PartyRole, role_id) if role_id else None
    if role is not None and not role.active:
        raise Invalid.field("role_id", f"The party role {role.name!r} is no longer in use.")
    if any(p.contact_id == contact_id and p.role_id == role_id for p in case.parties):
        raise Conflict("The contact is already a party of the case in that role.")
    if is_primary:
        for other in case.parties:
            other.is_primary = False
    party = CaseParty(contact_id=contact_id, role_id=role_id, is_primary=is_primary, note=note)
    case.parties.append(party)
    _touch(case)
    session.flush()
    name = contacts.contact_summary(contact, actor)["name"]
    audit.record_change(session, actor, "case.party_added", "case_party", party.id, case_id=case.id,
                        summary=f"Tilføjede part {name}" + (f" som {role.name}" if role else ""),
                        after={"contact_id": contact_id, "role": role.name if role else None, "is_primary": is_primary})
    search_feeds.index_case(session, case)
    return party


def update_party(session: Session, actor: Principal, case_id: uuid.UUID, party_id: uuid.UUID, changes: dict) -> CaseParty:
    case = require_case(session, actor, case_id, Level.WRITE)
    party = _party(case, party_id)
    before = {k: getattr(party, k) for k in changes}
    if "role_id" in changes and changes["role_id"] is not None:
        lists.get_named(session, PartyRole, changes["role_id"])
    if changes.get("is_primary"):
        for other in case.parties:
            other.is_primary = False
    for key, value in changes.items():
        setattr(party, key, value)
    _touch(case)
    audit.record_change(session, actor, "case.party_updated", "case_party", party.id, case_id=case.id,
                        summary="Redigerede en part", before=before, after=changes)
    return party


def remove_party(session: Session, actor: Principal, case_id: uuid.UUID, party_id: uuid.UUID) -> None:
    case = require_case(session, actor, case_id, Level.WRITE)
    party = _party(case, party_id)
    case.parties.remove(party)
    _touch(case)
    audit.record_change(session, actor, "case.party_removed", "case_party", party_id, case_id=case.id,
                        summary="Fjernede en part", before={"contact_id": party.contact_id, "role_id": party.role_id})
    search_feeds.index_case(session, case)


def _party(case: Case, party_id: uuid.UUID) -> CaseParty:
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        raise NotFound("No such party on this case.")
    return party


def cases_of_contact(session: Session, actor: Principal, contact_id: uuid.UUID, limit: int = 50) -> list[Case]:
    """Visible cases where the contact is a party, newest first (for suggesting where to archive)."""
    stmt = (
        select(Case)
        .where(access.visible(actor), Case.id.in_(select(CaseParty.case_id).where(CaseParty.contact_id == contact_id)))
        .order_by(Case.updated_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- notes


def list_notes(session: Session, actor: Principal, case_id: uuid.UUID) -> list[CaseNote]:
    read_case(session, actor, case_id, "read_notes")
    stmt = select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.created_at.desc())
    return list(session.scalars(stmt))


def add_note(session: Session, actor: Principal, case_id: uuid.UUID, *, text: str, category_id: uuid.UUID | None = None) -> CaseNote:
    case = require_case(session, actor, case_id, Level.WRITE)
    if not text.strip():
        raise Invalid.field("text", "A note needs text.")
    if category_id is not None:
        lists.get_named(session, NoteCategory, category_id)
    note = CaseNote(case_id=case.id, text=text, category_id=category_id, author_id=actor.user_id)
    session.add(note)
    _touch(case)
    session.flush()
    audit.record_change(session, actor, "case.note_added", "case_note", note.id, case_id=case.id,
                        summary="Tilføjede en note", after={"text": text, "category_id": category_id})
    return note


def update_note(session: Session, actor: Principal, case_id: uuid.UUID, note_id: uuid.UUID, changes: dict) -> CaseNote:
    case = require_case(session, actor, case_id, Level.WRITE)
    note = session.get(CaseNote, note_id)
    if note is None or note.case_id != case.id:
        raise NotFound("No such note on this case.")
    if note.author_id != actor.user_id and access.level(session, actor, case) < Level.MANAGE:
        raise Forbidden("Only the note's author or the case owner may change it.")
    if "category_id" in changes and changes["category_id"] is not None:
        lists.get_named(session, NoteCategory, changes["category_id"])
    before = {k: getattr(note, k) for k in changes}
    for key, value in changes.items():
        setattr(note, key, value)
    _touch(case)
    audit.record_change(session, actor, "case.note_updated", "case_note", note.id, case_id=case.id,
                        summary="Redigerede en note", before=before, after=changes)
    return note


# ---------------------------------------------------------------- history


def history(session: Session, actor: Principal, case_id: uuid.UUID, *, offset: int, limit: int):
    read_case(session, actor, case_id, "read_history")
    return audit.case_history(session, case_id, offset=offset, limit=limit)




def visible_case_id(actor: Principal, case_id_column):
    """For other domains (documents, search): a predicate on their case-id column that is true
    exactly where the actor may read the case."""
    return access.visible_case_id(actor, case_id_column)


def journal_key_id_of(session: Session, case_id: uuid.UUID) -> uuid.UUID | None:
    """For indexing what lies on a case (no reader involved, so no access check)."""
    return session.scalar(select(Case.journal_key_id).where(Case.id == case_id))


# ---------------------------------------------------------------- trash and retention


def delete_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """Move the case, with everything on it, to the trash (cases.delete and owner-level access)."""
    auth.require(actor, Right.CASES_DELETE)
    case = require_case(session, actor, case_id, Level.MANAGE)
    case.deleted_at, case.deleted_by_id = utcnow(), actor.user_id
    audit.record_change(session, actor, "case.deleted", "case", case.id, case_id=case.id,
                        summary=f"Flyttede sagen {case.number} til papirkurven")
    return case


def deleted_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """A case in the trash, for the one who deleted it or a holder of trash.manage."""
    case = session.get(Case, case_id)
    if case is None or case.deleted_at is None or (
        case.deleted_by_id != actor.user_id and not actor.has(Right.TRASH_MANAGE)
    ):
        raise NotFound("No such case in the trash.")
    return case


def list_deleted_cases(session: Session, actor: Principal, *, offset: int, limit: int) -> tuple[list[Case], int]:
    stmt = select(Case).where(Case.deleted_at.is_not(None))
    if not actor.has(Right.TRASH_MANAGE):
        stmt = stmt.where(Case.deleted_by_id == actor.user_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(session.scalars(stmt.order_by(Case.deleted_at.desc()).offset(offset).limit(limit))), total


def deleted_before(session: Session, cutoff: datetime) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.deleted_at < cutoff)))


def restore_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    case = deleted_case(session, actor, case_id)
    case.deleted_at = case.deleted_by_id = None
    audit.record_change(session, actor, "case.restored", "case", case.id, case_id=case.id,
                        summary=f"Gendannede sagen {case.number} fra papirkurven")
    return case


def erase_case(session: Session, case: Case) -> dict:
    """Delete the case row and its parts for good; the caller has purged its documents first.

    Returns what a disposal record keeps: no title, since titles often name people.
    """
    template = templates.get_template(session, case.template_id)
    key = journal.get_key(session, case.journal_key_id) if case.journal_key_id else None
    record = {"number": case.number, "template": template.name, "journal_key": journal.key_label(key) or None,
              "created_at": case.created_at.isoformat(), "closed_at": case.closed_at.isoformat() if case.closed_at else None}
    search_index.remove(session, "case", case.id)
    session.execute(delete(CaseNote).where(CaseNote.case_id == case.id))
    session.delete(case)
    session.flush()
    return record


def cases_past_retention(session: Session, today: date) -> list[Case]:
    """Cases whose template's retention period has run out (from closing, or from creation)."""
    rows = session.execute(
        select(Case, CaseTemplate.retention_years, CaseTemplate.retention_from)
        .join(CaseTemplate, CaseTemplate.id == Case.template_id)
        .where(CaseTemplate.retention_years.is_not(None))
        .order_by(Case.number)
    )
    due = []
    for case, years, start in rows:
        since = case.created_at if start == "created" else case.closed_at
        if since is not None and (start == "created" or case.status != CaseStatus.OPEN) and add_years(since.date(), years) <= today:
            due.append(case)
    return due



def deleted_or_live_case(session: Session, case_id: uuid.UUID) -> Case:
    """For disposal under a retention rule, which applies whether or not the case is in the trash."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_NOT_FOUND)
    return case
