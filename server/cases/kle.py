"""Import of a KLE emneplan XML file (or one in the same shape) as a journal plan.

KLE's XML nests <HovedgruppeKomponent> → <GruppeKomponent> → <EmneKomponent>, each with
<HovedgruppeNr>/<GruppeNr>/<EmneNr>, <...Titel> and <...AdministrativInfo> with an optional
<UdgaaetDato>. Keys that left the plan are deactivated, never deleted: cases may be filed on them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.principal import Principal
from server.auth.rights import Right
from server.auth.services import require
from server.cases import journal
from server.cases.models import JournalKey
from server.errors import Invalid

_LEVELS = (
    ("HovedgruppeKomponent", "HovedgruppeNr", "HovedgruppeTitel", "HovedgruppeAdministrativInfo"),
    ("GruppeKomponent", "GruppeNr", "GruppeTitel", "GruppeAdministrativInfo"),
    ("EmneKomponent", "EmneNr", "EmneTitel", "EmneAdministrativInfo"),
)


@dataclass
class KleReport:
    plan_id: uuid.UUID
    created: int = 0
    updated: int = 0
    deactivated: int = 0

    def describe(self) -> str:
        return f"KLE import: {self.created} keys created, {self.updated} updated, {self.deactivated} deactivated."


@dataclass(frozen=True)
class _Entry:
    number: str
    title: str
    parent: str | None
    retired: bool


def import_kle(session: Session, actor: Principal | None, data: bytes, plan_name: str = "KLE") -> KleReport:
    if actor is not None:
        require(actor, Right.JOURNAL_PLAN_MANAGE)
    entries = parse_kle(data)
    plan = journal.find_plan(session, plan_name) or journal.create_plan(session, actor, plan_name, "Importeret fra KLE")
    existing = {k.number: k for k in session.scalars(select(JournalKey).where(JournalKey.plan_id == plan.id))}
    report = KleReport(plan_id=plan.id)
    for entry in entries:  # parents come before their children
        key = existing.get(entry.number)
        parent_id = existing[entry.parent].id if entry.parent else None
        if key is None:
            key = JournalKey(plan_id=plan.id, parent_id=parent_id, number=entry.number, title=entry.title,
                             active=not entry.retired)
            session.add(key)
            session.flush()
            existing[entry.number] = key
            report.created += 1
        elif (key.title, key.active, key.parent_id) != (entry.title, not entry.retired, parent_id):
            key.title, key.active, key.parent_id = entry.title, not entry.retired, parent_id
            report.updated += 1
    seen = {e.number for e in entries}
    for number, key in existing.items():
        if number not in seen and key.active:
            key.active = False
            report.deactivated += 1
    audit.record_change(session, actor, "journal_plan.kle_imported", "journal_plan", plan.id,
                        after={"created": report.created, "updated": report.updated, "deactivated": report.deactivated})
    return report


def parse_kle(data: bytes) -> list[_Entry]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise Invalid.field("file", f"The file is not well-formed XML ({exc}).") from None
    entries: list[_Entry] = []
    _walk(root, 0, None, entries)
    if not entries:
        raise Invalid.field("file", "No KLE keys found: expected <HovedgruppeKomponent> elements with <HovedgruppeNr>.")
    return entries


def _walk(element, depth: int, parent: str | None, out: list[_Entry]) -> None:
    if depth == len(_LEVELS):
        return
    component, number_tag, title_tag, admin_tag = _LEVELS[depth]
    for child in _children(element, component):
        number = _text(child, number_tag)
        title = _text(child, title_tag)
        if not number or not title:
            raise Invalid.field("file", f"A <{component}> lacks <{number_tag}> or <{title_tag}>.")
        admin = _child(child, admin_tag)
        retired = admin is not None and bool(_text(admin, "UdgaaetDato"))
        out.append(_Entry(number=number, title=title, parent=parent, retired=retired))
        _walk(child, depth + 1, number, out)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str):
    return [c for c in element if _local(c.tag) == name]


def _child(element, name: str):
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""
