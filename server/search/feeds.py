"""What the index holds about cases and contacts, and the calls their services make to keep it current.

Documents build their own entries (server.documents.indexing) and register their reindexer.

Domain services are imported inside the functions: cases and contacts import this module, so a
module-level import back would be circular.
"""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.search import services as search

_LOCAL = ZoneInfo("Europe/Copenhagen")  # a case created at 00:30 Danish time is dated that day


# ---------------------------------------------------------------- cases


def index_case(session: Session, case) -> None:
    """After a case is created or changed (title, description, tags, fields, parties, key, status, owner)."""
    search.index(session, case_entry(session, case))


def case_entry(session: Session, case) -> search.IndexEntry:
    """Title: number and title. Body: description, tags, custom field values and the parties'
    names with their masked CPR and CVR. Visible to whoever may read the case."""
    from server.cases import services as cases
    from server.contacts import services as contacts

    parts = [case.description, " ".join(sorted(t.tag for t in case.tags))]
    parts += lists.field_words(cases.field_values(session, case))
    for party in case.parties:
        parts.append(party_text(contacts.get_contact(session, None, party.contact_id)))
    return search.IndexEntry(
        entity_type="case",
        entity_id=case.id,
        title=f"{case.number} {case.title}",
        body="\n".join(p for p in parts if p),
        case_id=case.id,
        journal_key_id=case.journal_key_id,
        entry_date=_local_date(case.created_at),
    )


def reindex_cases(session: Session, batch_size: int):
    from server.cases.models import Case

    return search.batches_by_id(session, Case, batch_size, case_entry)


def _local_date(moment) -> date | None:
    return moment.astimezone(_LOCAL).date() if moment is not None else None


# ---------------------------------------------------------------- contacts


def index_new_contacts(session: Session, contacts) -> None:
    """Contacts just created (a dispatch's new recipients): no case shows them yet."""
    search.index_new(session, [contact_entry(contact) for contact in contacts])


def index_contact(session: Session, contact) -> None:
    """After a contact is created or changed. If what a case shows of it as a party changed (name,
    masked CPR, CVR, P-number), the cases it is a party of are indexed again too."""
    entry = contact_entry(contact)
    before = search.indexed_text(session, "contact", contact.id)
    search.index(session, entry)
    if before is not None and _party_part(*before) != _party_part(entry.title, entry.body):
        from server.cases.models import Case, CaseParty

        # Index glue reading the cases' party table: no cases service answers "cases of a contact"
        # without an actor, and the index must follow every case, not only those someone can see.
        in_cases = select(CaseParty.case_id).where(CaseParty.contact_id == contact.id)
        for case in session.scalars(select(Case).where(Case.id.in_(in_cases))):
            index_case(session, case)


def contact_entry(contact) -> search.IndexEntry:
    """Title: the name. Body: first the identifiers (masked CPR, CVR, P-number), then address, e-mail
    and phone. Never the full CPR number. No case and no owner: every user may see contacts. Dated
    the day it was registered."""
    from server.contacts import numbers

    identifiers = " ".join(p for p in (numbers.mask_cpr(contact.cpr), contact.cvr, contact.p_number) if p)
    place = " ".join(p for p in (contact.postal_code, contact.city) if p)
    details = [p for p in (contact.co, contact.street, place, contact.country, contact.email, contact.phone) if p]
    return search.IndexEntry(
        entity_type="contact",
        entity_id=contact.id,
        title=contact.name or "",
        body="\n".join([identifiers, *details]),  # the first line, maybe empty, is always the identifiers
        entry_date=_local_date(contact.created_at),
    )


def party_text(contact) -> str:
    """How a party reads in its case's index entry."""
    entry = contact_entry(contact)
    return _party_part(entry.title, entry.body)


def _party_part(title: str, body: str) -> str:
    return f"{title} {body.partition(chr(10))[0]}".strip()


def reindex_contacts(session: Session, batch_size: int):
    from server.contacts.models import Contact

    return search.batches_by_id(session, Contact, batch_size, lambda _session, contact: contact_entry(contact))
