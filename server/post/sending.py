"""Carrying out dispatches exactly once, and applying what the provider reports back.

Each letter is claimed (status sending, with who and when) in its own short transaction, sent
with its fixed messageUUID, and its outcome recorded in another. A worker killed between sending
and recording leaves the letter `sending`; it is claimed again once its claimant is known dead (or
its lease runs out) and sent again with the same UUID, which the provider answers as a duplicate:
the recipient gets it once.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.contacts import services as contacts
from server.db import utcnow
from server.jobs import services as jobs
from server.post import dispatches, memo
from server.post.models import Channel, Dispatch, DispatchStatus, Letter, LetterStatus
from server.post.providers import DigitalPostProvider, RecipientState, TransientError

log = logging.getLogger("sagspost.post")

BATCH = 64
THREADS = 8
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 10


def claim_token() -> str:
    """host:pid:random — the host and pid tell whether the claimant still lives; the random part
    tells this batch's rows from others. Read when needed: a forked pool process has its own pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@jobs.handler("post.run_dispatch")
def run_dispatch(session: Session, payload: dict) -> None:
    """Send every due letter of the dispatch; come back later for letters waiting to be retried."""
    maker = current_app.extensions["sagspost.sessionmaker"]
    provider = current_app.extensions["sagspost.post_provider"]
    store = current_app.extensions["sagspost.blobs"]
    dispatch_id = uuid.UUID(payload["dispatch_id"])
    _mark(maker, dispatch_id, DispatchStatus.SENDING)
    states: dict[tuple[str, str], RecipientState] = {}
    with ThreadPoolExecutor(THREADS) as pool:
        while claimed := claim(maker, dispatch_id, BATCH):
            list(pool.map(lambda letter_id: send_letter(maker, provider, store, letter_id, states), claimed))
    _finish_or_reschedule(session, dispatch_id)


def claim(maker: sessionmaker, dispatch_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
    """Take up to `limit` letters that are due: queued, or sending under a claimant that is gone."""
    now = utcnow()
    with maker() as session, session.begin():
        dead = _dead_claimants(session, dispatch_id)
        due = (
            select(Letter.id)
            .where(
                Letter.dispatch_id == dispatch_id,
                or_(
                    (Letter.status == LetterStatus.QUEUED) & or_(Letter.next_attempt_at.is_(None), Letter.next_attempt_at <= now),
                    (Letter.status == LetterStatus.SENDING) & or_(Letter.claimed_at < now - LEASE, Letter.claimed_by.in_(dead)),
                ),
            )
            .order_by(Letter.queued_at, Letter.id)
            .limit(limit)
        )
        ids = list(session.scalars(due))
        if not ids:
            return []
        token = claim_token()
        session.execute(
            update(Letter)
            .where(Letter.id.in_(ids), Letter.status.in_([LetterStatus.QUEUED, LetterStatus.SENDING]))
            .values(status=LetterStatus.SENDING, claimed_by=token, claimed_at=now, attempts=Letter.attempts + 1)
        )
        # only the rows this batch now holds (another worker may have taken some meanwhile)
        return list(session.scalars(select(Letter.id).where(Letter.id.in_(ids), Letter.claimed_by == token)))


def _dead_claimants(session: Session, dispatch_id: uuid.UUID) -> list[str]:
    """Claimants on this machine whose process no longer exists (a worker killed mid-send)."""
    claimants = session.scalars(
        select(Letter.claimed_by).where(Letter.dispatch_id == dispatch_id, Letter.status == LetterStatus.SENDING).distinct()
    )
    return jobs.dead_local_workers(claimants)


def send_letter(maker: sessionmaker, provider: DigitalPostProvider, store, letter_id: uuid.UUID, states: dict) -> None:
    """Check the recipient, send (or set aside for print), and record the outcome.

    No transaction stays open over a call to the provider: on SQLite it would hold the write lock.
    """
    with maker() as session:
        letter = session.get(Letter, letter_id)
        message_uuid = letter.message_uuid
        id_type, number = contacts.post_number(contacts.get_contact(session, None, letter.recipient_contact_id))
    try:
        state = states.get((id_type, number)) or provider.recipient_state(id_type, number)
        states[(id_type, number)] = state
        if state != RecipientState.REGISTERED:
            _record(maker, letter_id, LetterStatus.TO_PRINT, f"recipient is {state.value}", channel=Channel.PRINT,
                    recipient_state=state.value)
            return
        with maker() as session:
            letter = session.get(Letter, letter_id)
            xml = build(session, store, session.get(Dispatch, letter.dispatch_id), letter)
        outcome = provider.send(message_uuid, xml)
    except TransientError as exc:
        _retry_later(maker, letter_id, str(exc))
        return
    if outcome.status in ("accepted", "duplicate"):
        _record(maker, letter_id, LetterStatus.SENT, outcome.reason or outcome.status, channel=Channel.DIGITAL,
                recipient_state=state.value)
    else:
        _record(maker, letter_id, LetterStatus.FAILED, outcome.reason or "rejected by the provider", recipient_state=state.value)


def build(session: Session, store, dispatch: Dispatch, letter: Letter) -> bytes:
    """The letter's MeMo with its real files (the same the preview shows)."""
    from server.post.identities import get_identity

    contact = contacts.get_contact(session, None, letter.recipient_contact_id)
    id_type, number = contacts.post_number(contact)
    about = contacts.get_contact(session, None, letter.about_contact_id) if letter.about_contact_id else None
    files = dispatches.letter_files(session, letter)

    def content(f):
        with store.open(f.sha256) as stream:
            return stream.read()

    draft = dispatches.memo_letter(dispatch, get_identity(session, dispatch.sender_identity_id), letter, id_type, number,
                                   about, files, content)
    return memo.build_memo(draft)


def _record(maker, letter_id, status: LetterStatus, answer: str, *, channel=None, recipient_state=None) -> None:
    now = utcnow()
    values = {"status": status, "provider_answer": answer[:2000], "claimed_by": None, "next_attempt_at": None}
    if channel is not None:
        values["channel"] = channel
    if recipient_state is not None:
        values["recipient_state"] = recipient_state
    values[{LetterStatus.SENT: "sent_at", LetterStatus.FAILED: "failed_at"}.get(status, "sent_at")] = now
    with maker() as session, session.begin():
        # only while this worker still holds it: a slower twin must not overwrite a newer outcome
        session.execute(update(Letter).where(Letter.id == letter_id, Letter.status == LetterStatus.SENDING).values(**values))


def _retry_later(maker, letter_id, reason: str) -> None:
    with maker() as session, session.begin():
        letter = session.get(Letter, letter_id)
        if letter.status != LetterStatus.SENDING:
            return
        if letter.attempts >= MAX_ATTEMPTS:
            letter.status, letter.failed_at = LetterStatus.FAILED, utcnow()
            letter.provider_answer = f"gave up after {letter.attempts} attempts: {reason}"[:2000]
        else:
            letter.status, letter.next_attempt_at = LetterStatus.QUEUED, utcnow() + jobs.backoff(letter.attempts)
            letter.provider_answer = f"attempt {letter.attempts} failed, will retry: {reason}"[:2000]
        letter.claimed_by = None


def _mark(maker, dispatch_id: uuid.UUID, status: DispatchStatus) -> None:
    with maker() as session, session.begin():
        session.execute(update(Dispatch).where(Dispatch.id == dispatch_id,
                                               Dispatch.status.in_([DispatchStatus.QUEUED, DispatchStatus.SCHEDULED]))
                        .values(status=status))


def _finish_or_reschedule(session: Session, dispatch_id: uuid.UUID) -> None:
    """Done when no letter is waiting; a follow-up job when letters wait for a retry.

    Letters still `sending` belong to another job of this dispatch (or to a dead worker whose job
    row is taken again), which finishes the dispatch itself.
    """
    dispatch = session.get(Dispatch, dispatch_id)
    queued, retry_at = session.execute(
        select(func.count(), func.min(Letter.next_attempt_at))
        .where(Letter.dispatch_id == dispatch_id, Letter.status == LetterStatus.QUEUED)
    ).one()
    if queued:
        # two jobs share a big dispatch; the one finishing last must not queue a second follow-up
        if not jobs.is_queued(session, "post.run_dispatch", {"dispatch_id": str(dispatch_id)}):
            jobs.enqueue(session, "post.run_dispatch", {"dispatch_id": str(dispatch_id)},
                         run_after=max(retry_at or utcnow(), utcnow()), max_attempts=1000)
        return
    sending = session.scalar(select(func.count()).where(Letter.dispatch_id == dispatch_id,
                                                        Letter.status == LetterStatus.SENDING))
    if sending == 0 and dispatch.status != DispatchStatus.CANCELLED:
        dispatch.status, dispatch.finished_at = DispatchStatus.DONE, utcnow()
