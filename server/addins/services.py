"""Services the mail-client add-ins share: which case a message belongs on, and where it already is."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.addins.models import ArchivedConversation
from server.auth import entra
from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import services as cases
from server.cases.schemas import CaseListItemSchema
from server.contacts import services as contacts
from server.documents import archive
from server.documents.blobs import BlobStore
from server.errors import Forbidden

# why a case is suggested, strongest first; the pane shows them in this order
REASON_ARCHIVED = "message_archived"  # this very message lies on the case
REASON_CONVERSATION = "same_conversation"  # an earlier message of the conversation was archived there
REASON_SENDER = "sender_is_party"  # the sender is a party of the case
REASON_RECENT = "recent"  # one of my cases, recently changed
_case_dump = CaseListItemSchema()


def suggest_cases(
    session: Session,
    actor: Principal,
    *,
    sender_email: str | None,
    conversation_id: str | None,
    message_id: str | None,
    limit: int = 10,
) -> list[dict]:
    """Cases to archive a message on, each {case, reasons}; only cases the actor may read."""
    found: dict[uuid.UUID, tuple[object, list[str]]] = {}

    def add(case, reason: str) -> None:
        found.setdefault(case.id, (case, []))[1].append(reason)

    if message_id:
        for _doc, case in _archived(session, actor, message_id):
            add(case, REASON_ARCHIVED)
    if conversation_id:
        for case in _conversation_cases(session, actor, conversation_id):
            add(case, REASON_CONVERSATION)
    if sender_email:
        for contact in contacts.find_by_email(session, sender_email):
            for case in cases.cases_of_contact(session, actor, contact.id, limit=limit):
                add(case, REASON_SENDER)
    recent, _total = cases.list_cases(session, actor, cases.CaseFilter(scope="mine"), offset=0, limit=limit)
    for case in recent:
        add(case, REASON_RECENT)
    return [{"case": _case_dump.dump(case), "reasons": list(dict.fromkeys(reasons))}
            for case, reasons in list(found.values())[:limit]]


def archived_locations(session: Session, actor: Principal, message_id: str) -> list[dict]:
    """Where the message with this Message-ID (angle brackets or not) is archived, on cases the actor may read."""
    return [{"case_id": case.id, "case_number": case.number, "case_title": case.title, "document_id": doc.id,
             "archived_at": doc.created_at} for doc, case in _archived(session, actor, message_id)]


def archive_message(
    session: Session,
    actor: Principal,
    store: BlobStore,
    raw: bytes,
    *,
    case_id: uuid.UUID,
    conversation_id: str | None = None,
    max_bytes: int,
    **options,
) -> archive.Archived:
    """Archive a message from a mail client (the documents domain's e-mail archiving) and remember its
    conversation for later suggestions. `options` are archive_email's (document type, final, attachments)."""
    result = archive.archive_email(session, actor, store, raw, case_id=case_id, max_bytes=max_bytes, **options)
    if conversation_id and not result.duplicate:
        session.add(ArchivedConversation(conversation_id=conversation_id, case_id=case_id,
                                         document_id=result.document.id, archived_by_id=actor.user_id))
        session.flush()
    return result


def _archived(session: Session, actor: Principal, message_id: str) -> list[tuple]:
    """(document, case) for each archived copy of the message the actor may see."""
    return [(doc, cases.require_case(session, actor, doc.case_id))
            for doc in archive.archived_copies(session, actor, _bare(message_id))]


def _conversation_cases(session: Session, actor: Principal, conversation_id: str) -> list:
    stmt = (
        select(ArchivedConversation.case_id)
        .where(ArchivedConversation.conversation_id == conversation_id,
               cases.visible_case_id(actor, ArchivedConversation.case_id))
        .order_by(ArchivedConversation.archived_at.desc())
    )
    return [cases.require_case(session, actor, case_id) for case_id in dict.fromkeys(session.scalars(stmt))]


def _bare(message_id: str) -> str:
    # Outlook's internetMessageId keeps the angle brackets; the documents domain stores it without
    return message_id.strip().removeprefix("<").removesuffix(">")


# ---------------------------------------------------------------- signing the pane in

PANE_TOKEN_NAME = "Office add-in"


def sign_in_with_password(session: Session, passwords, username: str, password: str, days: int) -> dict:
    """The Office dialog's fallback sign-in: a personal API token for the pane."""
    return _pane_token(session, auth.authenticate(session, passwords, username, password), days)


def sign_in_with_entra(session: Session, config: entra.EntraConfig, token: str, days: int, *, http=None) -> dict:
    """Single sign-on: the pane's Entra token exchanged for a personal API token of the linked user."""
    claims = entra.verify_token(config, token, http=http)
    return _pane_token(session, entra.user_for_claims(session, config, claims), days)


def _pane_token(session: Session, user, days: int) -> dict:
    plaintext, token = auth.create_api_token(session, auth.principal_for(user), PANE_TOKEN_NAME, days, days)
    return {"token": plaintext, "expires_at": token.expires_at, "user_id": user.id, "name": user.full_name or user.username}


def message_from_graph(session: Session, actor: Principal, config: entra.EntraConfig, sso_token: str, item_id: str,
                       *, http=None) -> bytes:
    """The message's MIME read through Graph as the signed-in Microsoft user, who must be the actor."""
    claims = entra.verify_token(config, sso_token, http=http)
    if entra.user_for_claims(session, config, claims).id != actor.user_id:
        raise Forbidden("The Microsoft sign-in belongs to another Sagspost user.")
    return entra.fetch_message_mime(config, sso_token, item_id, http=http)
