"""Contacts: create, change, find and show persons and organisations; every change audited.

CPR numbers are personal data of the most sensitive everyday kind. They are stored once, never put
in an error message, a log line or an audit record (those get the masked DDMMYY-xxxx), and shown in
full only to holders of contacts.view_cpr.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.principal import Principal
from server.auth.rights import Right
from server.contacts import numbers
from server.contacts.models import Contact, ContactKind
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.search import feeds as search_feeds

# The fields a caller sets; kind is fixed at creation, birth_date follows the CPR number.
FIELDS = (
    "name", "first_name", "last_name", "cpr", "cvr", "p_number",
    "co", "street", "postal_code", "city", "country", "email", "phone",
)
_NUMBERS = {"cpr": numbers.normalise_cpr, "cvr": numbers.normalise_cvr, "p_number": numbers.normalise_p_number}
_TEXT_SEARCHED = ("name", "first_name", "last_name", "email", "co", "street", "postal_code", "city")
_DUPLICATE_CPR = "A person with this CPR number is already registered."


# ---------------------------------------------------------------- reading


_IN_CHUNK = 500  # ids or numbers per IN (...) in bulk look-ups

def get_contact(session: Session, actor: Principal, contact_id: uuid.UUID) -> Contact:
    # Every signed-in user may read contacts; the actor is taken so that can change in one place.
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("No such contact.")
    return contact


def contacts_by_id(session: Session, contact_ids) -> dict[uuid.UUID, Contact]:
    """Many contacts at once (for workers, which act for no user)."""
    ids = list(set(contact_ids))
    found: dict[uuid.UUID, Contact] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        found.update((c.id, c) for c in session.scalars(select(Contact).where(Contact.id.in_(ids[start : start + _IN_CHUNK]))))
    return found


def find_by_cpr(session: Session, actor: Principal, cpr: str) -> Contact | None:
    """The person with this CPR number (either form), or None; 422 if the number is not valid."""
    return session.scalar(select(Contact).where(Contact.cpr == _normalised("cpr", cpr)))


def find_by_email(session: Session, email: str) -> list[Contact]:
    """Contacts with this e-mail address (case-insensitive), e.g. an archived email's sender."""
    return list(session.scalars(select(Contact).where(func.lower(Contact.email) == email.strip().lower())))


@dataclass(frozen=True)
class ContactFilter:
    kind: ContactKind | None = None
    q: str | None = None
    cpr: str | None = None
    cvr: str | None = None
    p_number: str | None = None


def list_contacts(
    session: Session, actor: Principal, flt: ContactFilter, *, offset: int, limit: int
) -> tuple[list[Contact], int]:
    stmt = select(Contact)
    if flt.kind:
        stmt = stmt.where(Contact.kind == ContactKind(flt.kind))
    if flt.cpr and not actor.has(Right.CONTACTS_VIEW_CPR):
        # The masked form shows DDMMYY, so answering full-CPR lookups would let the last four
        # digits be guessed by trying them.
        raise Forbidden("Searching by CPR number needs the right contacts.view_cpr.")
    for field in ("cpr", "cvr", "p_number"):
        value = getattr(flt, field)
        if value:
            # normalised first, so "25 31 37 63" finds 25313763 and DDMMYYSSSS finds DDMMYY-SSSS
            stmt = stmt.where(getattr(Contact, field) == _normalised(field, value))
    for term in (flt.q or "").lower().split():
        like = f"%{_escape_like(term)}%"
        stmt = stmt.where(or_(*(func.lower(getattr(Contact, c)).like(like, escape="\\") for c in _TEXT_SEARCHED)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Contact.name, Contact.id).offset(offset).limit(limit)).all()
    return list(rows), total


def _escape_like(term: str) -> str:
    # A user typing "50%" or "a_b" means those characters, not SQL wildcards.
    return re.sub(r"([\\%_])", r"\\\1", term)


# ---------------------------------------------------------------- showing


def shown_cpr(contact: Contact, actor: Principal) -> str | None:
    """The CPR number as this actor may see it: in full with contacts.view_cpr, else DDMMYY-xxxx."""
    if contact.cpr is None:
        return None
    return contact.cpr if actor.has(Right.CONTACTS_VIEW_CPR) else numbers.mask_cpr(contact.cpr)


def contact_summary(contact: Contact, actor: Principal) -> dict:
    """The few facts a case shows about a party."""
    return {
        "id": contact.id,
        "kind": contact.kind.value,
        "name": contact.name,
        "cpr": shown_cpr(contact, actor),
        "cvr": contact.cvr,
        "p_number": contact.p_number,
        "email": contact.email,
    }


def contact_details(contact: Contact, actor: Principal) -> dict:
    """Everything about a contact for the API, with the CPR number as the actor may see it."""
    values = {f: getattr(contact, f) for f in FIELDS}
    return {
        **values,
        "id": contact.id,
        "kind": contact.kind.value,
        "cpr": shown_cpr(contact, actor),
        "birth_date": contact.birth_date,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


# ---------------------------------------------------------------- changing


def create_contact(session: Session, actor: Principal, kind: ContactKind | str, values: dict) -> Contact:
    _require(actor, Right.CONTACTS_CREATE)
    kind = ContactKind(kind)
    wanted = _checked(kind, {f: None for f in FIELDS} | _cleaned(values))
    _ensure_cpr_free(session, wanted["cpr"], None)
    contact = Contact(kind=kind)
    _apply(contact, wanted)
    session.add(contact)
    session.flush()
    audit.record_change(session, actor, "contact.created", "contact", contact.id, after=_audited(contact))
    search_feeds.index_contact(session, contact)
    return contact


def recipient_contact(session: Session, actor: Principal, kind: ContactKind, number: str, values: dict) -> Contact:
    """The contact for a letter's recipient by CPR or CVR, created from register data if new.

    Sending a letter to a number is a right of its own, so no contacts.create is needed here;
    the creation is audited as the sender's.
    """
    normalised = _normalised("cpr" if kind is ContactKind.PERSON else "cvr", number)
    return recipient_contacts(session, actor, kind, {normalised: values})[normalised]



def recipient_contacts(session: Session, actor: Principal, kind: ContactKind, wanted: dict[str, dict]) -> dict[str, Contact]:
    """recipient_contact for many numbers (normalised) at once: one look-up per 500, the new ones
    inserted, audited and indexed together — a dispatch to 10,000 recipients makes few round trips."""
    field = "cpr" if kind is ContactKind.PERSON else "cvr"
    column = getattr(Contact, field)
    numbers_ = list(wanted)
    found: dict[str, Contact] = {}
    for start in range(0, len(numbers_), _IN_CHUNK):
        query = select(Contact).where(column.in_(numbers_[start : start + _IN_CHUNK])).order_by(Contact.created_at)
        for contact in session.scalars(query):
            found.setdefault(getattr(contact, field), contact)
    created = []
    for number in numbers_:
        if number not in found:
            contact = Contact(kind=kind)
            _apply(contact, _checked(kind, {f: None for f in FIELDS} | _cleaned({**wanted[number], field: number})))
            found[number] = contact
            created.append(contact)
    if created:
        session.add_all(created)
        session.flush()
        for contact in created:
            audit.record_change(session, actor, "contact.created", "contact", contact.id,
                                summary="Oprettet som modtager af post", after=_audited(contact))
        search_feeds.index_new_contacts(session, created)
    return found


def post_number(contact: Contact) -> tuple[str, str]:
    """(id type, number) a letter to the contact is addressed with: the CPR or the CVR number."""
    if contact.kind is ContactKind.PERSON and contact.cpr:
        return "CPR", contact.cpr.replace("-", "")
    if contact.cvr:
        return "CVR", contact.cvr
    raise Invalid.field("recipient", f"{contact.name} has no CPR or CVR number to send Digital Post to.")


def update_contact(session: Session, actor: Principal, contact_id: uuid.UUID, changes: dict) -> Contact:
    _require(actor, Right.CONTACTS_EDIT)
    contact = get_contact(session, actor, contact_id)
    current = {f: getattr(contact, f) for f in FIELDS}
    changes = _cleaned(changes)
    if contact.kind is ContactKind.PERSON and "name" not in changes and current["name"] == _person_name(current):
        # the display name was derived from first and last name, so it follows them
        current["name"] = None
    wanted = _checked(contact.kind, current | changes)
    _ensure_cpr_free(session, wanted["cpr"], contact.id)
    before, old_cpr = _audited(contact), contact.cpr
    _apply(contact, wanted)
    session.flush()
    b, a = audit.changed_fields(before, _audited(contact))
    if contact.cpr != old_cpr:
        # the masked forms can be equal although the numbers differ, so say so in words
        b["cpr"], a["cpr"] = before["cpr"], _audited(contact)["cpr"]
    if a:  # a PATCH that changes nothing leaves no trace
        summary = "CPR number changed" if contact.cpr != old_cpr else ""
        audit.record_change(session, actor, "contact.updated", "contact", contact.id, summary=summary, before=b, after=a)
        search_feeds.index_contact(session, contact)
    return contact


def _require(actor: Principal, right: Right) -> None:
    if not actor.has(right):
        raise Forbidden(f"This needs the right {right.value}.")


def _cleaned(values: dict) -> dict:
    """Known fields only, text stripped, blank text as None (so a blank clears a field)."""
    cleaned = {}
    for key in FIELDS:
        if key in values:
            value = values[key]
            value = value.strip() if isinstance(value, str) else value
            cleaned[key] = value or None
    return cleaned


def _checked(kind: ContactKind, values: dict) -> dict:
    """The values made whole and normalised, or Invalid naming every field that is wrong."""
    problems: dict[str, list[str]] = {}
    values = dict(values)
    for field in _NUMBERS:
        if values[field] is not None:
            try:
                values[field] = _NUMBERS[field](values[field])
            except numbers.NumberError as exc:
                problems.setdefault(field, []).append(str(exc))
    if values["country"] is not None:
        if not re.fullmatch(r"[A-Za-z]{2}", values["country"]):
            problems.setdefault("country", []).append("Country must be a two-letter ISO 3166 code such as DK.")
        values["country"] = values["country"].upper()
    rules = _person_rules if kind is ContactKind.PERSON else _organisation_rules
    for field, message in rules(values):
        problems.setdefault(field, []).append(message)
    if problems:
        raise Invalid("; ".join(m for ms in problems.values() for m in ms), errors=problems)
    if kind is ContactKind.PERSON and values["name"] is None:
        values["name"] = _person_name(values)
    return values


def _person_rules(values: dict):
    for field in ("cvr", "p_number"):
        if values[field] is not None:
            yield field, "A person has no CVR or P-number; register the business as an organisation."
    if not (values["name"] or values["first_name"] or values["last_name"]):
        yield "last_name", "A person needs a first name, a last name or a display name."


def _organisation_rules(values: dict):
    if values["cpr"] is not None:
        yield "cpr", "An organisation has no CPR number."
    for field in ("first_name", "last_name"):
        if values[field] is not None:
            yield field, "An organisation has a name, not first and last names."
    if not values["name"]:
        yield "name", "An organisation needs a name."


def _person_name(values: dict) -> str:
    return " ".join(p for p in (values["first_name"], values["last_name"]) if p)


def _normalised(field: str, value: str) -> str:
    try:
        return _NUMBERS[field](value)
    except numbers.NumberError as exc:
        raise Invalid.field(field, str(exc)) from None


def _ensure_cpr_free(session: Session, cpr: str | None, own_id: uuid.UUID | None) -> None:
    # Checked here for a clear message; the unique constraint still catches a simultaneous insert.
    if cpr is None:
        return
    other = session.scalar(select(Contact.id).where(Contact.cpr == cpr))
    if other is not None and other != own_id:
        raise Conflict(_DUPLICATE_CPR)


def _apply(contact: Contact, values: dict) -> None:
    for field in FIELDS:
        setattr(contact, field, values[field])
    contact.birth_date = numbers.cpr_birth_date(contact.cpr) if contact.cpr else None


def _audited(contact: Contact) -> dict:
    """The contact's values for the audit trail, with the CPR number masked."""
    values = {f: getattr(contact, f) for f in FIELDS}
    values["cpr"] = numbers.mask_cpr(contact.cpr)
    return {"kind": contact.kind.value, **values}
