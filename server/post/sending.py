"""Carrying out dispatches exactly once, and applying what the provider reports back.

Letters are claimed in batches (status sending, with who and when) in one short transaction, each
sent with its fixed messageUUID, and the batch's outcomes recorded together in another. A worker killed between sending
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
from dataclasses import dataclass
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


@jobs.handler("post.run_dispatch", priority=jobs.URGENT)
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
            outgoing = prepare(maker, store, dispatch_id, claimed)
            record(maker, list(pool.map(lambda item: attempt(provider, item, states), outgoing)))
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


@dataclass
class Outgoing:
    """A claimed letter, ready to go: its recipient and its MeMo (files already read)."""

    letter_id: uuid.UUID
    message_uuid: uuid.UUID
    id_type: str
    number: str
    draft: memo.MemoLetter


@dataclass
class Outcome:
    letter_id: uuid.UUID
    status: LetterStatus | None  # None: a transient failure, to be retried later
    answer: str
    channel: Channel | None = None
    recipient_state: str | None = None


def prepare(maker: sessionmaker, store, dispatch_id: uuid.UUID, letter_ids: list[uuid.UUID]) -> list[Outgoing]:
    """The claimed letters with their recipients and MeMo drafts, read in one short session; each file
    read once for the batch. No transaction stays open over a call to the provider: on SQLite it
    would hold the write lock."""
    from server.post.identities import get_identity

    with maker() as session:
        dispatch = session.get(Dispatch, dispatch_id)
        identity = get_identity(session, dispatch.sender_identity_id)
        letters = list(session.scalars(select(Letter).where(Letter.id.in_(letter_ids))))
        people = contacts.contacts_by_id(session, [l.recipient_contact_id for l in letters] +
                                         [l.about_contact_id for l in letters if l.about_contact_id])
        files = dispatches.files_of_letters(session, dispatch_id, letters)
        contents: dict[str, bytes] = {}

        def content(f) -> bytes:
            if f.sha256 not in contents:
                with store.open(f.sha256) as stream:
                    contents[f.sha256] = stream.read()
            return contents[f.sha256]

        prepared = []
        for letter in letters:
            id_type, number = contacts.post_number(people[letter.recipient_contact_id])
            about = people.get(letter.about_contact_id) if letter.about_contact_id else None
            draft = dispatches.memo_letter(dispatch, identity, letter, id_type, number, about, files[letter.id], content)
            prepared.append(Outgoing(letter.id, letter.message_uuid, id_type, number, draft))
        return prepared


def attempt(provider: DigitalPostProvider, item: Outgoing, states: dict) -> Outcome:
    """Check the recipient, then send (or set aside for print); the outcome, recorded by the caller."""
    try:
        state = states.get((item.id_type, item.number)) or provider.recipient_state(item.id_type, item.number)
        states[(item.id_type, item.number)] = state
        if state != RecipientState.REGISTERED:
            return Outcome(item.letter_id, LetterStatus.TO_PRINT, f"recipient is {state.value}", Channel.PRINT, state.value)
        sent = provider.send(item.message_uuid, memo.build_memo(item.draft))
    except TransientError as exc:
        return Outcome(item.letter_id, None, str(exc))
    if sent.status in ("accepted", "duplicate"):
        return Outcome(item.letter_id, LetterStatus.SENT, sent.reason or sent.status, Channel.DIGITAL, state.value)
    return Outcome(item.letter_id, LetterStatus.FAILED, sent.reason or "rejected by the provider", None, state.value)


def record(maker: sessionmaker, outcomes: list[Outcome]) -> None:
    """A batch's outcomes in one transaction, each only while this worker still holds its letter
    (a slower twin must not overwrite a newer outcome)."""
    now = utcnow()
    with maker() as session, session.begin():
        for outcome in outcomes:
            if outcome.status is None:
                _retry_later(session, outcome.letter_id, outcome.answer)
                continue
            values = {"status": outcome.status, "provider_answer": outcome.answer[:2000], "claimed_by": None,
                      "next_attempt_at": None}
            if outcome.channel is not None:
                values["channel"] = outcome.channel
            if outcome.recipient_state is not None:
                values["recipient_state"] = outcome.recipient_state
            values["failed_at" if outcome.status is LetterStatus.FAILED else "sent_at"] = now
            session.execute(update(Letter).where(Letter.id == outcome.letter_id, Letter.status == LetterStatus.SENDING)
                            .values(**values))


def _retry_later(session: Session, letter_id: uuid.UUID, reason: str) -> None:
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
