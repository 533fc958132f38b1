"""The trash (papirkurv): deleted documents wait here to be restored or purged."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases.access import Level
from server.db import utcnow
from server.cases import services as cases
from server.documents import indexing
from server.search import services as search
from server.documents.blobs import BlobStore
from server.documents.models import Document, DocumentStatus, FileVersion
from server.documents.services import require_document
from server.errors import Forbidden, NotFound


def delete_document(session: Session, actor: Principal, document_id: uuid.UUID) -> None:
    doc = require_document(session, actor, document_id, Level.WRITE)
    if doc.status == DocumentStatus.FINAL and not actor.has(Right.TRASH_MANAGE):
        raise Forbidden("A final document is part of the record; deleting it needs the right trash.manage.")
    doc.deleted_at, doc.deleted_by_id = utcnow(), actor.user_id
    audit.record_change(session, actor, "document.deleted", "document", doc.id, case_id=doc.case_id,
                        summary=f"Flyttede dokumentet \"{doc.title}\" til papirkurven")
    indexing.index_document(session, doc)


def list_trash(session: Session, actor: Principal, *, offset: int, limit: int) -> tuple[list[Document], int]:
    """What the actor deleted; everything deleted for holders of trash.manage."""
    stmt = select(Document).where(Document.deleted_at.is_not(None))
    if not actor.has(Right.TRASH_MANAGE):
        stmt = stmt.where(Document.deleted_by_id == actor.user_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Document.deleted_at.desc()).offset(offset).limit(limit))
    return list(rows), total


def restore_document(session: Session, actor: Principal, document_id: uuid.UUID) -> Document:
    doc = _deleted(session, actor, document_id)
    require_document(session, actor, document_id, Level.WRITE, include_deleted=True)
    doc.deleted_at = doc.deleted_by_id = None
    audit.record_change(session, actor, "document.restored", "document", doc.id, case_id=doc.case_id,
                        summary=f"Gendannede dokumentet \"{doc.title}\" fra papirkurven")
    indexing.index_document(session, doc)
    return doc


def purge_document(session: Session, actor: Principal | None, store: BlobStore, document_id: uuid.UUID) -> None:
    """Delete for good: the rows, and each file whose content no other version shares."""
    if actor is not None:
        auth.require(actor, Right.TRASH_MANAGE)
    doc = session.get(Document, document_id)
    if doc is None or doc.deleted_at is None:
        raise NotFound("No such document in the trash.")
    erase_document(session, actor, store, doc)


def erase_document(session: Session, actor: Principal | None, store: BlobStore, doc: Document) -> dict:
    """Remove the document, its files' rows and unshared contents; returns what a disposal record keeps."""
    doc_id = doc.id
    record = {"document_id": str(doc.id), "case_id": str(doc.case_id) if doc.case_id else None,
              "files": len(doc.files), "document_date": doc.document_date.isoformat() if doc.document_date else None}
    shas = {v.sha256 for f in doc.files for v in f.versions}
    audit.record_change(session, actor, "document.purged", "document", doc.id, case_id=doc.case_id,
                        summary=f"Slettede dokumentet \"{doc.title}\" permanent",
                        before={"title": doc.title, "files": sorted(f.name for f in doc.files)})
    session.delete(doc)
    session.flush()
    still_used = set(session.scalars(select(FileVersion.sha256).where(FileVersion.sha256.in_(shas))))
    # After commit would be safer for the files, but a crash here only leaves an orphan blob.
    for sha in shas - still_used:
        store.delete(sha)
    search.remove(session, "document", doc_id)
    return record


def purge_case(session: Session, actor: Principal, store: BlobStore, case_id: uuid.UUID) -> dict:
    """Delete a case in the trash for good, with every document on it."""
    auth.require(actor, Right.TRASH_MANAGE)
    return dispose_case(session, actor, store, cases.deleted_case(session, actor, case_id), "case.purged")


def dispose_case(session: Session, actor: Principal | None, store: BlobStore, case, action: str) -> dict:
    """Erase the case, its documents and its trail; one audit record without personal data remains."""
    case_id = case.id
    documents = list(session.scalars(select(Document).where(Document.case_id == case_id)))
    for doc in documents:
        erase_document(session, actor, store, doc)
    record = cases.erase_case(session, case)
    record["documents"] = len(documents)
    audit.erase_case_trail(session, case_id)
    audit.record_change(session, actor, action, "case", case_id, summary=f"Sagen {record['number']} er slettet permanent",
                        before=record)
    return record


def purge_expired(session: Session, store: BlobStore) -> int:
    """Purge what has been in the trash longer than the administrable period (if automatic)."""
    if not lists.get_setting(session, "trash.auto_purge"):
        return 0
    cutoff = utcnow() - timedelta(days=lists.get_setting(session, "trash.retention_days"))
    expired = list(session.scalars(select(Document.id).where(Document.deleted_at < cutoff)))
    for document_id in expired:
        purge_document(session, None, store, document_id)
    old_cases = cases.deleted_before(session, cutoff)
    for case in old_cases:
        dispose_case(session, None, store, case, "case.purged")
    return len(expired) + len(old_cases)


def _deleted(session: Session, actor: Principal, document_id: uuid.UUID) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.deleted_at is None:
        raise NotFound("No such document in the trash.")
    if doc.deleted_by_id != actor.user_id and not actor.has(Right.TRASH_MANAGE):
        raise NotFound("No such document in the trash.")
    return doc
