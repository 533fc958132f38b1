"""Generating documents: a template filled from a case, a recipient, the sender and the organisation."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.admin import services as admin
from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import journal
from server.cases import services as cases
from server.cases.access import Level
from server.contacts import services as contacts
from server.documents import services as documents
from server.documents.blobs import BlobStore
from server.errors import Invalid
from server.generation import convert, fields, templates, wordfill

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ORGANISATION_SETTINGS = {
    "navn": "organisation.name", "adresse": "organisation.address", "postnr": "organisation.postal_code",
    "by": "organisation.city", "cvr": "organisation.cvr", "telefon": "organisation.phone",
    "email": "organisation.email", "web": "organisation.web",
}


def base_context(session: Session, actor: Principal, today: date | None = None) -> dict:
    """What every letter knows: today, the sender and the organisation."""
    today = today or datetime.now(ZoneInfo("Europe/Copenhagen")).date()  # the letter's date is Danish
    user = auth.get_user(session, actor.user_id)
    return {
        "dato": fields.danish_date(today),
        "dato_kort": today.strftime("%d.%m.%Y"),
        "afsender": {"navn": user.full_name or user.username, "email": user.email or "", "telefon": "", "titel": ""},
        "organisation": {name: admin.get_setting(session, key) or "" for name, key in ORGANISATION_SETTINGS.items()},
    }


def case_context(session: Session, actor: Principal, case_id: uuid.UUID, recipient_contact_id: uuid.UUID | None) -> dict:
    case = cases.read_case(session, actor, case_id, "generate_document")
    key = journal.get_key(session, case.journal_key_id) if case.journal_key_id else None
    owner = auth.display_name(session, case.owner_user_id) if case.owner_user_id else ""
    parties = [_party_fields(session, actor, party) for party in cases.list_parties(session, actor, case_id)]
    primary = next((p for p in parties if p["primaer"]), parties[0] if parties else {})
    custom = cases.field_values(session, case)
    recipient = (fields.contact_fields(contacts.get_contact(session, actor, recipient_contact_id))
                 if recipient_contact_id else primary)
    return {
        "sag": {
            "nummer": case.number, "titel": case.title, "beskrivelse": case.description,
            "status": case.status.value, "journalnoegle": key.number if key else "",
            "journalnoegle_titel": key.title if key else "", "oprettet": case.created_at.strftime("%d.%m.%Y"),
            "sagsbehandler": owner or "", "felter": custom,
        },
        "felter": custom,
        "parter": parties,
        "part": primary,
        "modtager": recipient or fields.address_values({}),
    }


def _party_fields(session: Session, actor: Principal, party: dict) -> dict:
    contact = contacts.get_contact(session, actor, party["contact"]["id"])
    return {**fields.contact_fields(contact), "rolle": party["role"] or "", "primaer": party["is_primary"]}


def fill(session: Session, actor: Principal, store: BlobStore, template_id: uuid.UUID, *,
         case_id: uuid.UUID | None = None, recipient_contact_id: uuid.UUID | None = None,
         values: dict | None = None) -> tuple[bytes, str]:
    """The filled .docx and a file name for it."""
    template = templates.require_template(session, template_id, for_use=True)
    context = base_context(session, actor)
    if case_id is not None:
        context.update(case_context(session, actor, case_id, recipient_contact_id))
    elif recipient_contact_id is not None:
        context["modtager"] = fields.contact_fields(contacts.get_contact(session, actor, recipient_contact_id))
    context["række"] = {str(k): v for k, v in (values or {}).items()}
    context.update({k: v for k, v in context["række"].items() if k.isidentifier() and k not in context})
    compiled = templates.compiled(session, store, template.id)
    return wordfill.fill_docx(compiled, fields.with_lookup(context)), _filename(template.name, "docx")


def render(session: Session, actor: Principal, store: BlobStore, template_id: uuid.UUID, *, fmt: str, **given):
    data, filename = fill(session, actor, store, template_id, **given)
    if fmt == "pdf":
        return convert.to_pdf(data, filename), _filename(filename.rsplit(".", 1)[0], "pdf"), "application/pdf"
    return data, filename, DOCX


def generate_on_case(session: Session, actor: Principal, store: BlobStore, case_id: uuid.UUID, template_id: uuid.UUID,
                     *, title: str | None = None, recipient_contact_id: uuid.UUID | None = None,
                     values: dict | None = None, folder_id: uuid.UUID | None = None):
    """A draft document on the case, its main file the filled template."""
    cases.require_case(session, actor, case_id, Level.WRITE)
    template = templates.require_template(session, template_id, for_use=True)
    data, filename = fill(session, actor, store, template_id, case_id=case_id,
                          recipient_contact_id=recipient_contact_id, values=values)
    blob = store.put_bytes(data)
    stored = documents.StoredFile(blob.sha256, blob.size, DOCX, filename)
    links = [{"contact_id": recipient_contact_id, "role": "recipient"}] if recipient_contact_id else []
    return documents.create_document(
        session, actor, store, title=title or template.name, main=stored, case_id=case_id, folder_id=folder_id,
        document_type_id=template.document_type_id, direction=documents.Direction.OUTGOING, contacts_=links,
    )


def document_pdf(session: Session, actor: Principal, store: BlobStore, document_id: uuid.UUID) -> tuple[bytes, str]:
    """The document's main file as PDF: as it is when it is one, converted when it is a Word file and the like."""
    doc = documents.read_document(session, actor, document_id, "preview_pdf")
    main = next((f for f in doc.files if f.role.value == "main"), None)
    if main is None:
        raise Invalid(f"The document \"{doc.title}\" has no main file.")
    version = documents.current_version(main)
    with store.open(version.sha256) as stream:
        data = stream.read()
    name = _filename(version.filename.rsplit(".", 1)[0], "pdf")
    if version.mime == "application/pdf":
        return data, name
    if not convert.is_supported(version.filename, version.mime):
        raise Invalid(f"\"{version.filename}\" ({version.mime}) cannot be shown as PDF.")
    return convert.to_pdf(data, version.filename), name


def _filename(stem: str, extension: str) -> str:
    cleaned = re.sub(r"[^\w æøåÆØÅ.-]", "", stem).strip() or "dokument"
    return f"{cleaned[:120]}.{extension}"
