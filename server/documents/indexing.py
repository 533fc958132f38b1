"""What the search index knows about a document: its metadata and its files' extracted text."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.admin import services as lists
from server.admin.models import DocumentType, FieldEntity
from server.cases import services as cases
from server.documents.models import Document
from server.search import services as search

# the index body is capped; beyond this the extra text adds little to finding the document
MAX_BODY = 1_000_000


def index_document(session: Session, doc: Document) -> None:
    if doc.deleted_at is not None:
        search.remove(session, "document", doc.id)
        return
    search.index(session, entry_for(session, doc))


def index_documents(session: Session, docs: list[Document]) -> None:
    """index_document for many documents, with one statement for all their entries."""
    for doc in docs:
        if doc.deleted_at is not None:
            search.remove(session, "document", doc.id)
    search.index_many(session, entries_for(session, [doc for doc in docs if doc.deleted_at is None]))


def index_new_documents(session: Session, docs: list[Document]) -> None:
    """Index documents just created, with one statement for all their entries."""
    search.index_new(session, entries_for(session, docs))


def entries_for(session: Session, docs: list[Document]) -> list[search.IndexEntry]:
    """entry_for of many documents, each case's journal key read once."""
    journal_keys: dict = {}
    return [entry_for(session, doc, journal_keys) for doc in docs]


def entry_for(session: Session, doc: Document, journal_keys: dict | None = None) -> search.IndexEntry:
    """The document's index entry; `journal_keys` remembers the keys of cases read before (case id -> key)."""
    doc_type = lists.get_named(session, DocumentType, doc.document_type_id) if doc.document_type_id else None
    parts = [doc.description, " ".join(t.tag for t in doc.tags), doc_type.name if doc_type else ""]
    parts += lists.field_words(lists.plain_field_values(session, FieldEntity.DOCUMENT, doc.field_values))
    for file in doc.files:
        version = file.versions[-1] if file.versions else None
        parts.append(file.name)
        if version is not None and version.text:
            parts.append(version.text)
    body = "\n".join(p for p in parts if p)[:MAX_BODY]
    return search.IndexEntry(
        entity_type="document",
        entity_id=doc.id,
        title=doc.title,
        body=body,
        case_id=doc.case_id,
        owner_user_id=doc.owner_user_id if doc.case_id is None and doc.shared_group_id is None else None,
        group_id=doc.shared_group_id if doc.case_id is None else None,
        document_type_id=doc.document_type_id,
        journal_key_id=_journal_key(session, doc.case_id, {} if journal_keys is None else journal_keys),
        entry_date=doc.document_date,
    )


def _journal_key(session: Session, case_id, known: dict):
    if case_id is None:
        return None
    if case_id not in known:
        known[case_id] = cases.journal_key_id_of(session, case_id)
    return known[case_id]


def _reindex_documents(session: Session, batch_size: int):
    return search.batches_by_id(session, Document, batch_size, entry_for, Document.deleted_at.is_(None))


search.register_reindexer("document", _reindex_documents)
