"""Creating a dispatch: every recipient resolved and every letter checked before anything is queued."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import services as cases
from server.cases.access import Level
from server.contacts import numbers
from server.contacts import services as contacts
from server.contacts.models import ContactKind
from server.db import utcnow
from server.documents import services as documents
from server.documents.blobs import BlobStore
from server.generation import convert
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.jobs import services as jobs
from server.post import identities, memo
from server.post.models import Dispatch, DispatchStatus, Letter, LetterKind, LetterStatus, PostFile
from server.post.registers import BusinessRegister, PersonRegister

PDF = "application/pdf"


@dataclass(frozen=True)
class Registers:
    persons: PersonRegister
    businesses: BusinessRegister


@dataclass
class RecipientInput:
    type: str  # cpr | cvr | p_number | contact
    number: str | None = None
    contact_id: uuid.UUID | None = None
    copies: list[str] = field(default_factory=list)  # CPR numbers that get a copy
    include_guardians: bool = False
    main_document_id: uuid.UUID | None = None  # this recipient's own letter (a mail merge)
    attachment_document_ids: list[uuid.UUID] = field(default_factory=list)
    case_id: uuid.UUID | None = None
    # files made for this recipient already (a mail merge's letter): {role, filename, mime, sha256, size}
    files: list[dict] = field(default_factory=list)


@dataclass
class _File:
    role: str
    filename: str
    mime: str
    sha256: str
    size: int


@dataclass
class _Planned:
    kind: LetterKind
    contact_id: uuid.UUID
    id_type: str
    number: str
    p_number: str | None
    own_files: list[_File]
    case_id: uuid.UUID | None
    copy_of: int | None = None  # index of the planned letter this copies


def create_dispatch(
    session: Session,
    actor: Principal,
    store: BlobStore,
    registers: Registers,
    *,
    title: str,
    sender_identity_id: uuid.UUID,
    recipients: list[RecipientInput],
    main_document_id: uuid.UUID | None = None,
    attachment_document_ids: list[uuid.UUID] = (),
    about: dict | None = None,
    case_id: uuid.UUID | None = None,
    mandatory: bool = False,
    legal_notification: bool = False,
    reply_allowed: bool = False,
    actions: list[dict] = (),
    memo_version: str = "1.2",
    send_at: datetime | None = None,
) -> Dispatch:
    identity = identities.get_identity(session, sender_identity_id)
    needs_approval = identities.sending_terms(session, actor, identity)
    if not recipients:
        raise Invalid.field("recipients", "A dispatch needs at least one recipient.")
    if send_at is not None and send_at <= utcnow():
        raise Invalid.field("send_at", "A deferred dispatch is sent at a time in the future.")
    if case_id is not None:
        cases.require_case(session, actor, case_id, Level.WRITE)
    common = _files(session, actor, store, main_document_id, attachment_document_ids)
    about_contact = _about(session, actor, registers, about)
    planned = _plan(session, actor, store, registers, recipients, common, about_contact)
    dispatch = Dispatch(
        title=title, sender_identity_id=identity.id, created_by_id=actor.user_id,
        group_id=min(actor.group_ids, default=None), case_id=case_id, mandatory=mandatory,
        legal_notification=legal_notification, reply_allowed=reply_allowed, actions=list(actions),
        memo_version=memo_version, send_at=send_at,
        status=DispatchStatus.AWAITING_APPROVAL if needs_approval else
        (DispatchStatus.SCHEDULED if send_at else DispatchStatus.QUEUED),
    )
    letters = [
        Letter(message_uuid=uuid.uuid4(), kind=p.kind, recipient_contact_id=p.contact_id, recipient_type=p.id_type,
               p_number=p.p_number, about_contact_id=about_contact.id if about_contact else None, case_id=p.case_id)
        for p in planned
    ]
    _check_all(session, store, dispatch, identity, planned, letters, common, about_contact)
    session.add(dispatch)
    dispatch.letters = letters
    session.flush()
    for index, p in enumerate(planned):
        if p.copy_of is not None:
            letters[index].copy_of_id = letters[p.copy_of].id
    _store_files(session, dispatch, letters, planned, common)
    audit.record_change(session, actor, "dispatch.created", "dispatch", dispatch.id, case_id=case_id,
                        summary=f"Oprettede afsendelsen \"{title}\" med {len(letters)} breve",
                        after={"letters": len(letters), "status": dispatch.status, "send_at": send_at})
    if dispatch.status in (DispatchStatus.QUEUED, DispatchStatus.SCHEDULED):
        start(session, dispatch)
    return dispatch


# a dispatch this large gets a second sending job, so two worker processes share it (claims are atomic)
SHARED_FROM = 200


def start(session: Session, dispatch: Dispatch) -> None:
    for _ in range(2 if len(dispatch.letters) >= SHARED_FROM else 1):
        jobs.enqueue(session, "post.run_dispatch", {"dispatch_id": str(dispatch.id)}, run_after=dispatch.send_at,
                     max_attempts=1000)


# ---------------------------------------------------------------- resolving


def _files(session, actor, store, main_id, attachment_ids) -> list[_File]:
    files = [_document_file(session, actor, store, main_id, "main")] if main_id else []
    return files + [_document_file(session, actor, store, d, "attachment") for d in attachment_ids]


def _document_file(session: Session, actor: Principal, store: BlobStore, document_id: uuid.UUID, role: str) -> _File:
    doc = documents.read_document(session, actor, document_id, "read_for_post")
    main = next((f for f in doc.files if f.role.value == "main"), None)
    if main is None:
        raise Invalid.field("document_id", f"The document \"{doc.title}\" has no main file to send.")
    version = documents.current_version(main)
    found = _File(role, version.filename, version.mime, version.sha256, version.size)
    if role == "main" and version.mime != PDF:
        return _as_pdf(store, found, doc.title)
    return found


def _as_pdf(store: BlobStore, source: _File, title: str) -> _File:
    """A Word, Excel, OpenDocument or RTF letter becomes the PDF Digital Post needs (PDF/A-2b, so the
    archived copy of what was sent is fit for archiving too)."""
    if not convert.is_supported(source.filename, source.mime):
        raise Invalid.field("main_document_id",
                            f"The letter \"{title}\" is {source.mime}; Digital Post letters are PDF and this cannot be converted.")
    with store.open(source.sha256) as stream:
        pdf = convert.to_pdf(stream.read(), source.filename, pdfa=True)
    blob = store.put_bytes(pdf)
    stem = source.filename.rsplit(".", 1)[0]
    return _File(source.role, f"{stem}.pdf", PDF, blob.sha256, blob.size)


def _about(session, actor, registers: Registers, about: dict | None):
    if not about:
        return None
    return _contact_for(session, actor, registers, about["type"], about.get("number"), about.get("contact_id"))[0]


def _contact_for(session, actor, registers: Registers, kind: str, number: str | None, contact_id, known=None):
    """(contact, p_number) for a recipient given by CPR, CVR, P-number or an existing contact;
    `known`: those looked up in bulk beforehand (see _known_recipients)."""
    if kind == "contact":
        if contact_id is None:
            raise Invalid.field("contact_id", "Give the contact's id.")
        return contacts.get_contact(session, actor, contact_id), None
    if not number:
        raise Invalid.field("number", f"Give the recipient's {kind.upper().replace('_', '-')} number.")
    try:
        found = (known or {}).get((kind, _normalised(kind, number)))
        return found or _contact_for_number(session, actor, registers, kind, number)
    except numbers.NumberError as exc:
        raise Invalid.field("number", str(exc)) from None


_NORMALISE = {"cpr": numbers.normalise_cpr, "cvr": numbers.normalise_cvr, "p_number": numbers.normalise_p_number}


def _normalised(kind: str, number: str) -> str:
    return _NORMALISE[kind](number) if kind in _NORMALISE else number


def _known_recipients(session, actor, registers: Registers, recipients) -> dict:
    """(kind, number) -> (contact, p_number) for every recipient and copy given by number, looked up in
    the registers and made into contacts in bulk: a dispatch to 10,000 numbers in a few statements."""
    by_kind: dict[ContactKind, dict[str, dict]] = {ContactKind.PERSON: {}, ContactKind.ORGANISATION: {}}
    wanted = []
    for given in recipients:
        for kind, number in [(given.type, given.number)] + [("cpr", copy) for copy in given.copies]:
            if kind not in _NORMALISE or not number:
                continue
            try:
                number = _normalised(kind, number)
                contact_kind, key, values, p_number = _register_entry(registers, kind, number)
            except (numbers.NumberError, Invalid):
                continue  # refused with its reason when the recipient is planned
            by_kind[contact_kind].setdefault(key, values)
            wanted.append((kind, number, contact_kind, key, p_number))
    made = {kind: contacts.recipient_contacts(session, actor, kind, items) for kind, items in by_kind.items() if items}
    return {(kind, number): (made[contact_kind][key], p_number) for kind, number, contact_kind, key, p_number in wanted}


def _contact_for_number(session, actor, registers: Registers, kind: str, number: str):
    contact_kind, key, values, p_number = _register_entry(registers, kind, number)
    return contacts.recipient_contact(session, actor, contact_kind, key, values), p_number


def _register_entry(registers: Registers, kind: str, number: str):
    """(contact kind, the number its contact is kept by, the contact's values, P-number) from the registers."""
    if kind == "cpr":
        return ContactKind.PERSON, number, _person_values(registers.persons.person(number)), None
    if kind == "cvr":
        company = registers.businesses.company(number)
        values = {"name": company.name, **_address(company.address)} if company else {"name": f"CVR {number}"}
        return ContactKind.ORGANISATION, number, values, None
    if kind == "p_number":
        unit = registers.businesses.production_unit(number)
        if unit is None:
            raise Invalid.field("number", "The P-number is not found in the business register.")
        values = {"name": unit.name, "p_number": unit.p_number, **_address(unit.address)}
        return ContactKind.ORGANISATION, unit.cvr, values, unit.p_number
    raise Invalid.field("type", "A recipient is given by cpr, cvr, p_number or contact.")


def _person_values(person) -> dict:
    if person is None:
        return {"name": "Ukendt person"}
    first, _, last = person.name.rpartition(" ")
    return {"first_name": first or person.name, "last_name": last if first else None, **_address(person.address)}


def _address(address) -> dict:
    if address is None:
        return {}
    return {"street": address.street, "postal_code": address.postal_code, "city": address.city, "co": address.co,
            "country": address.country}


def _plan(session, actor, store, registers: Registers, recipients, common, about_contact) -> list[_Planned]:
    planned: list[_Planned] = []
    known = _known_recipients(session, actor, registers, recipients)
    for given in recipients:
        contact, p_number = _contact_for(session, actor, registers, given.type, given.number, given.contact_id, known)
        id_type, number = contacts.post_number(contact)
        own = [_File(**f) for f in given.files] + _files(session, actor, store, given.main_document_id,
                                                          given.attachment_document_ids)
        if not any(f.role == "main" for f in common + own):
            raise Invalid.field("main_document_id", "Each letter needs a main document: one for all, or one per recipient.")
        case_id = given.case_id
        if case_id is not None:
            cases.require_case(session, actor, case_id, Level.WRITE)
        index = len(planned)
        planned.append(_Planned(LetterKind.RECIPIENT, contact.id, id_type, number, p_number, own, case_id))
        for cpr in given.copies:
            copy_contact, _ = _contact_for(session, actor, registers, "cpr", cpr, None, known)
            planned.append(_Planned(LetterKind.COPY, copy_contact.id, "CPR", contacts.post_number(copy_contact)[1],
                                    None, own, case_id, copy_of=index))
        if given.include_guardians:
            for holder in guardians_for(registers, id_type, number, about_contact):
                guardian, _ = _contact_for(session, actor, registers, "cpr", holder, None)
                planned.append(_Planned(LetterKind.GUARDIAN, guardian.id, "CPR", contacts.post_number(guardian)[1],
                                        None, own, case_id, copy_of=index))
    _refuse_duplicates(planned)
    return planned


def guardians_for(registers: Registers, id_type: str, number: str, about_contact=None) -> list[str]:
    """CPR numbers of the custody holders when the recipient (or the person written about) is under 15."""
    children = [number] if id_type == "CPR" else []
    if about_contact is not None and about_contact.cpr:
        children.append(about_contact.cpr)
    holders: list[str] = []
    today = utcnow().date()
    for cpr in children:
        person = registers.persons.person(cpr)
        if person is not None and person.is_child_on(today):
            holders += [h for h in person.custody_holders if h not in holders]
    return holders


def _refuse_duplicates(planned: list[_Planned]) -> None:
    seen = set()
    for p in planned:
        key = (p.id_type, p.number, p.p_number)
        if key in seen and p.copy_of is None:
            raise Invalid.field("recipients", "The same recipient is given twice; each gets one letter.")
        seen.add(key)


# ---------------------------------------------------------------- checking and storing


def _check_all(session, store, dispatch, identity, planned, letters, common, about_contact) -> None:
    """Build every letter's MeMo in memory-light form and refuse the dispatch if any breaks a limit."""
    problems: dict[str, list[str]] = {}
    # the limits need sizes, not contents: a stand-in of the right length, made once per file
    stand_ins: dict[str, bytes] = {}

    def stand_in(f: _File) -> bytes:
        return stand_ins.setdefault(f.sha256, bytes(f.size))

    for index, (p, letter) in enumerate(zip(planned, letters)):
        files = _letter_files(p, common)
        draft = memo_letter(dispatch, identity, letter, p.id_type, p.number, about_contact, files, stand_in)
        found = memo.check_letter(draft)
        if found:
            problems[f"recipients.{index}"] = found
    if problems:
        first = next(iter(problems.values()))[0]
        raise Invalid(f"{len(problems)} letter(s) break Digital Post's limits, e.g.: {first}", errors=problems)


def _letter_files(p: _Planned, common: list[_File]) -> list[_File]:
    own_main = [f for f in p.own_files if f.role == "main"]
    main = own_main or [f for f in common if f.role == "main"]
    attachments = [f for f in common if f.role == "attachment"] + [f for f in p.own_files if f.role == "attachment"]
    return main[:1] + attachments


def memo_letter(dispatch, identity, letter, id_type, number, about_contact, files, content_of) -> memo.MemoLetter:
    """The MeMo letter for one recipient; `content_of(file)` gives each file's bytes."""
    main, *attachments = files
    about = None
    if about_contact is not None:
        about_type, about_number = contacts.post_number(about_contact)
        about = memo.MemoParty(about_type, about_number, about_contact.name)
    return memo.MemoLetter(
        message_uuid=letter.message_uuid,
        label=dispatch.title,
        sender=memo.MemoParty("CVR", identity.cvr, identity.name),
        recipient=memo.MemoParty(id_type, number),
        main=memo.MemoFile(main.filename, main.mime, content_of(main)),
        attachments=[memo.MemoFile(f.filename, f.mime, content_of(f)) for f in attachments],
        about=about,
        mandatory=dispatch.mandatory,
        legal_notification=dispatch.legal_notification,
        reply_allowed=dispatch.reply_allowed,
        actions=[memo.MemoAction(**a) for a in dispatch.actions],
        memo_version=dispatch.memo_version,
    )


def _store_files(session, dispatch, letters, planned, common) -> None:
    for position, f in enumerate(common):
        session.add(PostFile(dispatch_id=dispatch.id, role=f.role, filename=f.filename, mime=f.mime, sha256=f.sha256,
                             size=f.size, position=position))
    for letter, p in zip(letters, planned):
        for position, f in enumerate(p.own_files):
            session.add(PostFile(dispatch_id=dispatch.id, letter_id=letter.id, role=f.role, filename=f.filename,
                                 mime=f.mime, sha256=f.sha256, size=f.size, position=position))


# ---------------------------------------------------------------- reading and changing


def may_see(actor: Principal, dispatch: Dispatch) -> bool:
    return (dispatch.created_by_id == actor.user_id or actor.has(Right.POST_APPROVE) or actor.has(Right.POST_MANAGE)
            or (dispatch.group_id is not None and dispatch.group_id in actor.group_ids))


def get_dispatch(session: Session, actor: Principal, dispatch_id: uuid.UUID) -> Dispatch:
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None or not may_see(actor, dispatch):
        raise NotFound("No such dispatch.")
    return dispatch


def list_dispatches(session: Session, actor: Principal, *, status=None, offset: int, limit: int):
    stmt = select(Dispatch)
    if not (actor.has(Right.POST_APPROVE) or actor.has(Right.POST_MANAGE)):
        mine = Dispatch.created_by_id == actor.user_id
        stmt = stmt.where(mine | Dispatch.group_id.in_(actor.group_ids) if actor.group_ids else mine)
    if status is not None:
        stmt = stmt.where(Dispatch.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Dispatch.created_at.desc()).offset(offset).limit(limit))
    return list(rows), total


def letter_counts(session: Session, dispatch_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    rows = session.execute(
        select(Letter.dispatch_id, Letter.status, func.count()).where(Letter.dispatch_id.in_(dispatch_ids))
        .group_by(Letter.dispatch_id, Letter.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {d: {} for d in dispatch_ids}
    for dispatch_id, status, count in rows:
        counts[dispatch_id][status.value] = count
    return counts


def list_letters(session: Session, actor: Principal, dispatch_id: uuid.UUID, *, status=None, offset: int, limit: int):
    get_dispatch(session, actor, dispatch_id)
    stmt = select(Letter).where(Letter.dispatch_id == dispatch_id)
    if status is not None:
        stmt = stmt.where(Letter.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Letter.queued_at, Letter.id).offset(offset).limit(limit))
    return list(rows), total


def get_letter(session: Session, actor: Principal, dispatch_id: uuid.UUID, letter_id: uuid.UUID) -> Letter:
    get_dispatch(session, actor, dispatch_id)
    letter = session.get(Letter, letter_id)
    if letter is None or letter.dispatch_id != dispatch_id:
        raise NotFound("No such letter in this dispatch.")
    return letter


def letter_statuses(session: Session, letter_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each letter's status by id (for a mail merge's rows)."""
    rows = session.execute(select(Letter.id, Letter.status).where(Letter.id.in_(letter_ids))) if letter_ids else []
    return {letter_id: status.value for letter_id, status in rows}


def letter_files(session: Session, letter: Letter) -> list[PostFile]:
    """The files the recipient gets, main document first: the letter's own main or the common one."""
    return files_of_letters(session, letter.dispatch_id, [letter])[letter.id]


def files_of_letters(session: Session, dispatch_id: uuid.UUID, letters: list[Letter]) -> dict[uuid.UUID, list[PostFile]]:
    """letter_files for many letters of one dispatch, in one query."""
    owners = {letter.id: letter.copy_of_id or letter.id for letter in letters}
    rows = list(session.scalars(
        select(PostFile).where(PostFile.dispatch_id == dispatch_id,
                               PostFile.letter_id.is_(None) | PostFile.letter_id.in_(set(owners.values())))
        .order_by(PostFile.letter_id.is_not(None), PostFile.position)
    ))
    common = [f for f in rows if f.letter_id is None]
    own: dict[uuid.UUID, list[PostFile]] = {}
    for f in rows:
        if f.letter_id is not None:
            own.setdefault(f.letter_id, []).append(f)
    return {letter_id: _chosen_files(common + own.get(owner, [])) for letter_id, owner in owners.items()}


def _chosen_files(rows: list[PostFile]) -> list[PostFile]:
    own_main = [f for f in rows if f.role == "main" and f.letter_id is not None]
    mains = own_main or [f for f in rows if f.role == "main"]
    return mains[:1] + [f for f in rows if f.role == "attachment"]


def cancel(session: Session, actor: Principal, dispatch_id: uuid.UUID) -> Dispatch:
    """Cancel what has not gone yet: a scheduled or waiting dispatch, or the queued rest of one."""
    dispatch = get_dispatch(session, actor, dispatch_id)
    if dispatch.created_by_id != actor.user_id and not actor.has(Right.POST_MANAGE):
        raise Forbidden("Only the sender or a post administrator may cancel a dispatch.")
    if dispatch.status in (DispatchStatus.DONE, DispatchStatus.CANCELLED):
        raise Conflict("The dispatch is finished; nothing is left to cancel.")
    cancelled = 0
    for letter in dispatch.letters:
        if letter.status == LetterStatus.QUEUED:
            letter.status = LetterStatus.CANCELLED
            cancelled += 1
    if cancelled == len(dispatch.letters):
        dispatch.status, dispatch.finished_at = DispatchStatus.CANCELLED, utcnow()
    audit.record_change(session, actor, "dispatch.cancelled", "dispatch", dispatch.id, case_id=dispatch.case_id,
                        summary=f"Annullerede {cancelled} breve", after={"cancelled": cancelled})
    return dispatch


def approve(session: Session, actor: Principal, dispatch_id: uuid.UUID) -> Dispatch:
    auth.require(actor, Right.POST_APPROVE)
    dispatch = get_dispatch(session, actor, dispatch_id)
    if dispatch.status != DispatchStatus.AWAITING_APPROVAL:
        raise Conflict("The dispatch is not waiting for approval.")
    if dispatch.created_by_id == actor.user_id:
        raise Forbidden("A dispatch is approved by someone other than its sender.")
    dispatch.approved_by_id = actor.user_id
    send_at = dispatch.send_at if dispatch.send_at and dispatch.send_at > utcnow() else None
    dispatch.status = DispatchStatus.SCHEDULED if send_at else DispatchStatus.QUEUED
    audit.record_change(session, actor, "dispatch.approved", "dispatch", dispatch.id, case_id=dispatch.case_id,
                        summary="Godkendte afsendelsen")
    start(session, dispatch)
    return dispatch
