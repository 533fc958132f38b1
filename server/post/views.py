"""Dispatches and letters as the API shows them, and what recipients get, for preview and print."""
from __future__ import annotations

import io
import uuid

from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.principal import Principal
from server.contacts import services as contacts
from server.errors import NotFound
from server.post import dispatches
from server.post.models import Dispatch, Letter, LetterStatus, PostFile


def dispatch_view(session: Session, dispatch: Dispatch, counts: dict | None = None) -> dict:
    view = {c: getattr(dispatch, c) for c in ("id", "title", "sender_identity_id", "created_by_id", "status", "send_at",
                                               "case_id", "mandatory", "legal_notification", "reply_allowed",
                                               "memo_version", "created_at", "finished_at")}
    view["counts"] = counts if counts is not None else dispatches.letter_counts(session, [dispatch.id])[dispatch.id]
    return view


def dispatch_views(session: Session, items: list[Dispatch]) -> list[dict]:
    counts = dispatches.letter_counts(session, [d.id for d in items])
    return [dispatch_view(session, d, counts[d.id]) for d in items]


def letter_view(session: Session, actor: Principal, letter: Letter) -> dict:
    view = {c: getattr(letter, c) for c in ("id", "message_uuid", "kind", "copy_of_id", "p_number", "status", "channel",
                                             "recipient_state", "provider_answer", "attempts", "queued_at", "sent_at",
                                             "delivered_at", "failed_at", "case_id", "archived_document_id")}
    view["recipient"] = _jsonable(contacts.contact_summary(contacts.get_contact(session, actor, letter.recipient_contact_id), actor))
    return view


def _jsonable(summary: dict) -> dict:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in summary.items()}


def preview(session: Session, actor: Principal, dispatch_id: uuid.UUID, letter_id: uuid.UUID) -> list[dict]:
    letter = dispatches.get_letter(session, actor, dispatch_id, letter_id)
    base = f"/api/dispatches/{dispatch_id}/letters/{letter_id}/files"
    return [
        {"position": i, "role": f.role, "filename": f.filename, "mime": f.mime, "size": f.size, "url": f"{base}/{i}"}
        for i, f in enumerate(dispatches.letter_files(session, letter))
    ]


def letter_file(session: Session, actor: Principal, dispatch_id: uuid.UUID, letter_id: uuid.UUID, position: int) -> PostFile:
    letter = dispatches.get_letter(session, actor, dispatch_id, letter_id)
    files = dispatches.letter_files(session, letter)
    if not 0 <= position < len(files):
        raise NotFound("The letter has no such file.")
    return files[position]


def to_print(session: Session, actor: Principal, *, offset: int, limit: int) -> tuple[list[Letter], int]:
    """Letters set aside for print (the recipient cannot get Digital Post), in dispatches the actor may see."""
    stmt = (
        select(Letter).join(Dispatch, Dispatch.id == Letter.dispatch_id)
        .where(Letter.status == LetterStatus.TO_PRINT).order_by(Letter.queued_at)
    )
    visible = [letter for letter in session.scalars(stmt) if dispatches.may_see(actor, letter.dispatch)]
    return visible[offset:offset + limit], len(visible)


def combined_print_pdf(session: Session, actor: Principal, store) -> bytes:
    """Every to-print letter's main document in one PDF, in order, for the printer."""
    writer = PdfWriter()
    letters, _ = to_print(session, actor, offset=0, limit=10_000)
    for letter in letters:
        main = dispatches.letter_files(session, letter)[0]
        with store.open(main.sha256) as stream:
            writer.append(io.BytesIO(stream.read()))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
