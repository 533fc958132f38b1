"""Background work on documents: extracting text for search after an upload."""
from __future__ import annotations

import time
import uuid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.documents import extraction, indexing, services, trash
from server.documents.blobs import BlobNotFound
from server.documents.models import FileVersion, TextStatus
from server.jobs.services import enqueue, handler, periodic


# A job's share of extraction: what is left goes on as a new job, so a job ends well inside the
# jobs' lease even when every file of a batch runs into extraction's time limit.
EXTRACTION_ROUND_S = 120


@handler(services.EXTRACT_JOB)
def extract_versions_text(session: Session, payload: dict) -> None:
    """Extract the text of a batch of new file versions, then write the texts and the documents'
    index entries with one statement each. A file that cannot be read marks only itself: its text
    status is failed with the reason, and the others are extracted and indexed as usual."""
    # "version_id": a job queued, one per version, before jobs took batches
    ids = [uuid.UUID(v) for v in payload.get("version_ids") or [payload["version_id"]]]
    versions = session.scalars(
        select(FileVersion).where(FileVersion.id.in_(ids), FileVersion.text_status == TextStatus.PENDING)
    ).all()  # a version purged before the job ran, or already given its text, is left out
    done = _extract(versions, time.monotonic() + EXTRACTION_ROUND_S)
    left = [str(v.id) for v in versions[len(done):]]
    if left:
        enqueue(session, services.EXTRACT_JOB, {"version_ids": left})
    if done:
        indexing.index_documents(session, services.documents_of_versions(session, done))


def _extract(versions: list[FileVersion], deadline: float) -> list[FileVersion]:
    """Give each version its text until the deadline passes; the versions done. The same content is read once."""
    store = current_app.extensions["sagspost.blobs"]
    firsts: dict[str, FileVersion] = {}  # each content's first version, in the order met
    for version in versions:
        firsts.setdefault(version.sha256, version)
    texts = extraction.extract_texts((_path(store, v), v.mime) for v in firsts.values())
    results: dict[str, extraction.ExtractionResult] = {}
    done = []
    for version in versions:
        if done and time.monotonic() > deadline:
            break
        if version.sha256 not in results:
            results[version.sha256] = next(texts)
        result = results[version.sha256]
        version.text_status = TextStatus(result.status)
        version.text_reason = result.reason
        version.text = result.text or None
        done.append(version)
    return done


def _path(store, version: FileVersion):
    try:
        return store.path(version.sha256)
    except BlobNotFound:
        return None


@periodic("documents.purge_trash", every_seconds=3600)
def purge_expired_trash(maker) -> None:
    with maker() as session, session.begin():
        trash.purge_expired(session, current_app.extensions["sagspost.blobs"])
