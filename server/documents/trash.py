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
from server.documents import indexing
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


def purge_expired(session: Session, store: BlobStore) -> int:
    """Purge what has been in the trash longer than the administrable period (if automatic)."""
    if not lists.get_setting(session, "trash.auto_purge"):
        return 0
    cutoff = utcnow() - timedelta(days=lists.get_setting(session, "trash.retention_days"))
    expired = list(session.scalars(select(Document.id).where(Document.deleted_at < cutoff)))
    for document_id in expired:
        purge_document(session, None, store, document_id)
    return len(expired)


def _deleted(session: Session, actor: Principal, document_id: uuid.UUID) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.deleted_at is None:
        raise NotFound("No such document in the trash.")
    if doc.deleted_by_id != actor.user_id and not actor.has(Right.TRASH_MANAGE):
        raise NotFound("No such document in the trash.")
    return doc
