"""What comes back from Digital Post: receipts applied to letters, replies filed on the letter's case,
and every delivered letter archived as an outgoing, final document."""
from __future__ import annotations

import io
import json
import logging
import uuid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.admin import services as settings_
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import services as cases
from server.cases import templates
from server.contacts import services as contacts
from server.db import utcnow
from server.documents import services as documents
from server.documents.models import Direction, DocumentStatus
from server.jobs import services as jobs
from server.post import dispatches, memo
from server.post.models import Channel, Dispatch, InboundMessage, Letter, LetterStatus
from server.post.providers import DigitalPostProvider, TransientError

log = logging.getLogger("sagspost.post")
RECEIPT_PAGE = 500
ARCHIVE_BATCH = 100  # delivered letters filed per archiving job
MAX_PAGES_PER_POLL = 20
_RECEIPT_STATUS = {"delivered": (LetterStatus.DELIVERED, Channel.DIGITAL), "printed": (LetterStatus.DELIVERED, Channel.PRINT),
                   "failed": (LetterStatus.FAILED, None)}


@jobs.handler("post.poll")
def poll_now(_session: Session, _payload: dict) -> None:
    """Asked for from the API ("fetch now"); runs outside the request, which holds its transaction."""
    poll(current_app.extensions["sagspost.sessionmaker"])


@jobs.periodic("post.receipts", every_seconds=10)
def poll(maker: sessionmaker) -> dict:
    """Fetch receipts and inbound post once; each is acknowledged only after it is recorded."""
    provider = current_app.extensions["sagspost.post_provider"]
    try:
        receipts = total = apply_receipts(maker, provider)
        # a big dispatch leaves thousands of receipts: keep fetching while full pages come back
        for _ in range(MAX_PAGES_PER_POLL):
            if receipts < RECEIPT_PAGE:
                break
            receipts = apply_receipts(maker, provider)
            total += receipts
        return {"receipts": total, "replies": file_inbound(maker, provider)}
    except TransientError as exc:
        log.warning("Digital Post unavailable; trying again later", extra={"error": str(exc)})
        return {"receipts": 0, "replies": 0}


def apply_receipts(maker: sessionmaker, provider: DigitalPostProvider) -> int:
    receipts = provider.fetch_receipts(limit=RECEIPT_PAGE)
    with maker() as session, session.begin():
        delivered = []
        for receipt in receipts:
            letter = session.scalar(select(Letter).where(Letter.message_uuid == receipt.message_uuid))
            if letter is None:
                continue  # not ours (another system on the same sender): acknowledged all the same
            status, channel = _RECEIPT_STATUS[receipt.status]
            letter.status, letter.provider_answer = status, receipt.reason or receipt.status
            if channel is not None:
                letter.channel = channel
            if status == LetterStatus.DELIVERED:
                letter.delivered_at = receipt.at
                delivered.append({"letter_id": str(letter.id), "receipt": _receipt_json(receipt)})
            else:
                letter.failed_at = receipt.at
        for start in range(0, len(delivered), ARCHIVE_BATCH):
            # one job per batch: a 10,000-letter dispatch must not queue 10,000 jobs ahead of new post
            jobs.enqueue(session, "post.archive_letters", {"letters": delivered[start : start + ARCHIVE_BATCH]})
    for receipt in receipts:
        provider.acknowledge_receipt(receipt.receipt_id)
    return len(receipts)


def _receipt_json(receipt) -> dict:
    return {"receipt_id": receipt.receipt_id, "message_uuid": str(receipt.message_uuid), "status": receipt.status,
            "reason": receipt.reason, "at": receipt.at.isoformat()}


def file_inbound(maker: sessionmaker, provider: DigitalPostProvider) -> int:
    """Replies to our letters are filed on the letter's case; others wait for inbound handling."""
    messages = provider.fetch_inbound()
    store = current_app.extensions["sagspost.blobs"]
    for message in messages:
        with maker() as session, session.begin():
            if session.scalar(select(InboundMessage).where(InboundMessage.provider_message_id == message.message_id)):
                continue
            summary = memo.read_memo(message.memo_xml)
            letter = session.scalar(select(Letter).where(Letter.message_uuid == message.reply_to)) if message.reply_to else None
            blob = store.put_bytes(message.memo_xml)
            inbound = InboundMessage(provider_message_id=message.message_id, reply_to_letter_id=letter.id if letter else None,
                                     sha256=blob.sha256, label=(summary.label or "")[:300], received_at=message.received_at)
            session.add(inbound)
            if letter is not None:
                inbound.filed_document_id = _file_reply(session, store, letter, message, summary)
        provider.acknowledge_inbound(message.message_id)
    return len(messages)


def _file_reply(session: Session, store, letter: Letter, message, summary) -> uuid.UUID | None:
    actor = _archivist(session, session.get(Dispatch, letter.dispatch_id))
    case_id = _case_for(session, actor, letter)
    stored = documents.store_upload(session, store, documents.Upload(io.BytesIO(message.memo_xml), "svar.xml"),
                                    max_bytes=200 * 2**20)
    doc = documents.create_document(session, actor, store, title=f"Svar: {summary.label or 'Digital Post'}", main=stored,
                                    case_id=case_id, direction=Direction.INCOMING,
                                    document_date=message.received_at.date())
    return doc.id


@jobs.handler("post.archive_letters", priority=jobs.LATER)
def archive_letters(session: Session, payload: dict) -> None:
    """File delivered letters as outgoing documents; a retried job skips those already filed."""
    for item in payload["letters"]:
        archive_letter(session, item)


def archive_letter(session: Session, payload: dict) -> None:
    """File the delivered letter (its files and the receipt) as an outgoing, final document."""
    letter = session.get(Letter, uuid.UUID(payload["letter_id"]))
    if letter is None or letter.archived_document_id is not None:
        return
    dispatch = session.get(Dispatch, letter.dispatch_id)
    store = current_app.extensions["sagspost.blobs"]
    actor = _archivist(session, dispatch)
    case_id = _case_for(session, actor, letter)
    files = dispatches.letter_files(session, letter)
    main, *attachments = [documents.StoredFile(f.sha256, f.size, f.mime, f.filename) for f in files]
    receipt = json.dumps(payload["receipt"], ensure_ascii=False, indent=2).encode()
    attachments.append(documents.store_upload(session, store, documents.Upload(io.BytesIO(receipt), "kvittering.json"),
                                              max_bytes=2**20))
    doc = documents.create_document(
        session, actor, store, title=dispatch.title, main=main, attachments=attachments, case_id=case_id,
        direction=Direction.OUTGOING, document_date=(letter.sent_at or utcnow()).date(),
        contacts_=[{"contact_id": letter.recipient_contact_id, "role": "recipient"}],
    )
    documents.set_status(session, actor, doc.id, DocumentStatus.FINAL)
    letter.archived_document_id = doc.id
    if letter.case_id is None:
        letter.case_id = case_id


def _archivist(session: Session, dispatch: Dispatch) -> Principal:
    """Archiving acts for the sender, with the reach to file on the recipient's case wherever it is."""
    sender = auth.principal_for(auth.get_user(session, dispatch.created_by_id))
    rights = sender.rights | {Right.CASES_ACCESS_ALL.value, Right.CASES_CREATE.value}
    return Principal(sender.user_id, sender.username, frozenset(rights), sender.group_ids)


def _case_for(session: Session, actor: Principal, letter: Letter) -> uuid.UUID:
    """The case chosen for the letter or its dispatch; else the recipient's case under the
    configured journal key; else a new case from the configured template with the recipient as party."""
    dispatch = session.get(Dispatch, letter.dispatch_id)
    chosen = letter.case_id or dispatch.case_id
    if chosen is not None:
        return chosen
    key_id = settings_.get_setting(session, "post.archive_journal_key_id")
    for case in cases.cases_of_contact(session, actor, letter.recipient_contact_id):
        if key_id is None or str(case.journal_key_id) == key_id:
            return case.id
    template = _archive_template(session)
    contact = contacts.get_contact(session, actor, letter.recipient_contact_id)
    case = cases.create_case(session, actor, template_id=template.id, title=contact.name,
                             journal_key_id=uuid.UUID(key_id) if key_id else None,
                             parties=[{"contact_id": contact.id, "is_primary": True}])
    return case.id


def _archive_template(session: Session):
    configured = settings_.get_setting(session, "post.archive_case_template_id")
    if configured:
        return templates.get_template(session, uuid.UUID(configured))
    active = templates.list_templates(session)
    if not active:
        raise RuntimeError("No case template to archive sent letters with; set post.archive_case_template_id.")
    return next((t for t in active if t.name == "Standardsag"), active[0])
