"""Kassation: what is past its retention period is listed, and disposed of with a record of what went.

Cases follow their template's retention (from closing or from creation); documents follow their
document type's retention from the document's date. A document on a case that is itself due goes
with the case.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import services as cases
from server.cases import templates
from server.documents import services as documents
from server.documents import trash
from server.documents.blobs import BlobStore
from server.errors import Conflict
from server.retention.models import DisposalRecord


@dataclass(frozen=True)
class DueCase:
    id: uuid.UUID
    number: str
    template: str
    rule: str


@dataclass(frozen=True)
class DueDocument:
    id: uuid.UUID
    case_id: uuid.UUID | None
    document_type: str
    document_date: date
    rule: str


def due(session: Session, actor: Principal, today: date) -> tuple[list[DueCase], list[DueDocument]]:
    auth.require(actor, Right.RETENTION_MANAGE)
    due_cases = [_due_case(session, c) for c in cases.cases_past_retention(session, today)]
    case_ids = {c.id for c in due_cases}
    due_documents = [
        DueDocument(doc.id, doc.case_id, type_name, doc.document_date, f"{type_name}: {years} år fra dokumentdato")
        for doc, type_name, years in documents.documents_past_retention(session, today)
        if doc.case_id not in case_ids
    ]
    return due_cases, due_documents


def _due_case(session: Session, case) -> DueCase:
    template = templates.get_template(session, case.template_id)
    start = "oprettelse" if template.retention_from == "created" else "lukning"
    return DueCase(case.id, case.number, template.name, f"{template.name}: {template.retention_years} år fra {start}")


def dispose(
    session: Session, actor: Principal, store: BlobStore, *, case_ids: list[uuid.UUID], document_ids: list[uuid.UUID],
    today: date,
) -> list[DisposalRecord]:
    """Dispose of the chosen items; each must be past its retention now, or nothing happens."""
    due_cases, due_documents = due(session, actor, today)
    cases_by_id = {c.id: c for c in due_cases}
    documents_by_id = {d.id: d for d in due_documents}
    not_due = [str(i) for i in case_ids if i not in cases_by_id] + [str(i) for i in document_ids if i not in documents_by_id]
    if not_due:
        raise Conflict(f"Not past their retention period: {', '.join(not_due)}.")
    records = []
    for case_id in case_ids:
        case = cases.deleted_or_live_case(session, case_id)
        details = trash.dispose_case(session, actor, store, case, "case.disposed")
        records.append(_record(actor, "case", details["number"], cases_by_id[case_id].rule, details))
    for document_id in document_ids:
        details = trash.erase_document(session, actor, store, documents.get_document_unchecked(session, document_id))
        records.append(_record(actor, "document", str(document_id), documents_by_id[document_id].rule, details))
    session.add_all(records)
    session.flush()
    return records


def _record(actor: Principal, kind: str, reference: str, rule: str, details: dict) -> DisposalRecord:
    return DisposalRecord(actor_id=actor.user_id, actor_name=actor.username, kind=kind, reference=reference,
                          rule=rule, details=details)


def list_disposals(session: Session, actor: Principal, *, offset: int, limit: int) -> tuple[list[DisposalRecord], int]:
    auth.require(actor, Right.RETENTION_MANAGE)
    total = session.scalar(select(func.count()).select_from(DisposalRecord))
    rows = session.scalars(select(DisposalRecord).order_by(DisposalRecord.at.desc()).offset(offset).limit(limit))
    return list(rows), total
