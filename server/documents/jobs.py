"""Background work on documents: extracting text for search after an upload."""
from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy.orm import Session

from server.documents import extraction, indexing, trash
from server.documents.models import Document, DocumentFile, FileVersion, TextStatus
from server.jobs.services import handler, periodic


@handler("documents.extract")
def extract_version_text(session: Session, payload: dict) -> None:
    version = session.get(FileVersion, uuid.UUID(payload["version_id"]))
    if version is None:  # purged before the job ran
        return
    store = current_app.extensions["sagspost.blobs"]
    result = extraction.extract_text(store.path(version.sha256), version.mime)
    version.text_status = TextStatus(result.status)
    version.text_reason = result.reason
    version.text = result.text or None
    file = session.get(DocumentFile, version.file_id)
    indexing.index_document(session, session.get(Document, file.document_id))


@periodic("documents.purge_trash", every_seconds=3600)
def purge_expired_trash(maker) -> None:
    with maker() as session, session.begin():
        trash.purge_expired(session, current_app.extensions["sagspost.blobs"])
