"""Archiving an e-mail into a case: the original, the body as main document, every part as bilag."""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import services as cases
from server.cases.access import Level
from server.contacts import services as contacts
from server.documents import mail, services
from server.documents.blobs import BlobStore
from server.documents.models import ContactRole, Direction, Document, DocumentStatus
from server.errors import Invalid


@dataclass(frozen=True)
class Archived:
    document: Document
    duplicate: bool  # the same e-mail was on the case already; nothing new was stored


def archive_email(
    session: Session,
    actor: Principal,
    store: BlobStore,
    raw: bytes,
    *,
    case_id: uuid.UUID,
    folder_id: uuid.UUID | None = None,
    document_type_id: uuid.UUID | None = None,
    final: bool = False,
    keep_attachments: list[str] | None = None,
    max_bytes: int,
) -> Archived:
    """`keep_attachments`: the attachment filenames to keep (None keeps all; inline images always stay)."""
    cases.require_case(session, actor, case_id, Level.WRITE)
    try:
        parsed = mail.parse_email(raw)
    except mail.NotAnEmail as exc:
        raise Invalid.field("file", f"This is not an e-mail: {exc}.") from None
    existing = _already_archived(session, case_id, parsed)
    if existing is not None:
        return Archived(existing, duplicate=True)
    original = _stored(session, store, raw, _original_name(parsed), max_bytes)
    body_name, _type, body = mail.body_document(parsed)
    main = _stored(session, store, body, body_name, max_bytes)
    bilag = [
        _stored(session, store, part.data, part.filename, max_bytes)
        for part in parsed.parts
        if part.data and (keep_attachments is None or part.inline or part.filename in keep_attachments)
    ]
    doc = services.create_document(
        session, actor, store,
        title=parsed.subject or "(intet emne)",
        main=main,
        attachments=bilag,
        case_id=case_id,
        folder_id=folder_id,
        document_type_id=document_type_id,
        document_date=parsed.date.date() if parsed.date else None,
        direction=_direction(session, actor, parsed),
        description=_header_summary(parsed),
        contacts_=_contact_links(session, parsed),
    )
    doc.email_message_id, doc.email_sha256 = parsed.message_id, parsed.sha256
    services.attach_original(session, actor, doc, original)
    if final:
        services.set_status(session, actor, doc.id, DocumentStatus.FINAL)
    return Archived(doc, duplicate=False)


def archived_copies(session: Session, actor: Principal, message_id: str) -> list[Document]:
    """The e-mail with this Message-ID where it lies archived on cases the actor may read, oldest first
    (for the add-ins' "already archived, and where")."""
    stmt = (
        select(Document)
        .where(Document.email_message_id == message_id, Document.deleted_at.is_(None),
               cases.visible_case_id(actor, Document.case_id))
        .order_by(Document.created_at)
    )
    return list(session.scalars(stmt))


def _already_archived(session: Session, case_id: uuid.UUID, parsed: mail.ParsedEmail) -> Document | None:
    same = [Document.email_sha256 == parsed.sha256]
    if parsed.message_id:
        same.append(Document.email_message_id == parsed.message_id)
    stmt = select(Document).where(Document.case_id == case_id, Document.deleted_at.is_(None), or_(*same))
    return session.scalars(stmt.limit(1)).first()


def _stored(session, store, data: bytes, filename: str, max_bytes: int) -> services.StoredFile:
    return services.store_upload(session, store, services.Upload(io.BytesIO(data), filename), max_bytes)


def _original_name(parsed: mail.ParsedEmail) -> str:
    return f"{(parsed.subject or 'e-mail')[:120]}.eml"


def _direction(session: Session, actor: Principal, parsed: mail.ParsedEmail) -> Direction:
    me = auth.get_user(session, actor.user_id).email
    sent_by_me = bool(me and parsed.sender and parsed.sender.address.lower() == me.lower())
    return Direction.OUTGOING if sent_by_me else Direction.INCOMING


def _header_summary(parsed: mail.ParsedEmail) -> str:
    def people(boxes):
        return ", ".join(f"{b.name} <{b.address}>" if b.name else b.address for b in boxes)

    lines = [f"Fra: {people([parsed.sender]) if parsed.sender else ''}", f"Til: {people(parsed.to)}"]
    if parsed.cc:
        lines.append(f"Cc: {people(parsed.cc)}")
    if parsed.date:
        lines.append(f"Dato: {parsed.date.isoformat()}")
    return "\n".join(lines)


def _contact_links(session: Session, parsed: mail.ParsedEmail) -> list[dict]:
    """Known contacts among the sender and recipients, linked in their roles."""
    links = []
    roles = [(ContactRole.SENDER, [parsed.sender] if parsed.sender else []), (ContactRole.RECIPIENT, parsed.to),
             (ContactRole.COPY, parsed.cc)]
    for role, boxes in roles:
        for box in boxes:
            for contact in contacts.find_by_email(session, box.address) if box.address else []:
                links.append({"contact_id": contact.id, "role": role})
    return links
