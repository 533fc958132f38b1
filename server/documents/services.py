"""Documents: where they live, who may see them, drafts and finals, files and versions."""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import BinaryIO

from sqlalchemy import func, insert, inspect as sa_inspect, select
from sqlalchemy.orm import Session, selectinload

from server.admin import services as lists
from server.admin.models import CustomField, FieldEntity
from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import services as cases
from server.cases.access import Level
from server.contacts import services as contacts
from server.dates import add_years
from server.db import utcnow
from server.documents import extraction, filetypes, indexing
from server.documents.blobs import BlobStore, TooLarge
from server.documents.models import (
    ContactRole,
    Direction,
    Document,
    DocumentComment,
    DocumentContact,
    DocumentFieldValue,
    DocumentFile,
    DocumentReference,
    DocumentStatus,
    DocumentTag,
    FileRole,
    FileVersion,
    TextStatus,
)
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.jobs import services as jobs

_NOT_FOUND = "No such document."
EXTRACT_JOB = "documents.extract"  # payload: {"version_ids": [...]}


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: a readable stream and the name the client gave it."""

    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    mime: str
    filename: str


# ---------------------------------------------------------------- access


def require_document(
    session: Session, actor: Principal, document_id: uuid.UUID, needed: Level = Level.READ, *, include_deleted=False
) -> Document:
    """The document if the actor may read (or change) it; 404 when they may not see it at all."""
    doc = session.get(Document, document_id)
    if doc is None or (doc.deleted_at is not None and not include_deleted):
        raise NotFound(_NOT_FOUND)
    if doc.case_id is not None:
        try:
            cases.require_case(session, actor, doc.case_id, needed)
        except NotFound:
            raise NotFound(_NOT_FOUND) from None
        return doc
    if doc.owner_user_id == actor.user_id or (doc.shared_group_id is not None and doc.shared_group_id in actor.group_ids):
        return doc
    raise NotFound(_NOT_FOUND)


def read_document(session: Session, actor: Principal, document_id: uuid.UUID, what: str = "read_document") -> Document:
    """A read by a user; a document on a case is part of the case, so the read goes to its access log."""
    doc = require_document(session, actor, document_id)
    if doc.case_id is not None:
        audit.record_case_read(session, actor, doc.case_id, action=what)
    return doc


def _require_draft(doc: Document) -> None:
    if doc.status == DocumentStatus.FINAL:
        raise Conflict("The document is final; reopen it (a right of its own) before changing it.")


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class DocumentFilter:
    scope: str = "mine"  # mine | shared | case
    case_id: uuid.UUID | None = None
    folder_id: uuid.UUID | None = None
    status: DocumentStatus | None = None
    document_type_id: uuid.UUID | None = None
    tag: str | None = None
    q: str | None = None


def list_documents(session: Session, actor: Principal, flt: DocumentFilter, *, offset: int, limit: int):
    stmt = select(Document).where(Document.deleted_at.is_(None))
    if flt.scope == "case":
        if flt.case_id is None:
            raise Invalid.field("case_id", "Listing a case's documents needs case_id.")
        cases.read_case(session, actor, flt.case_id, "read_documents")
        stmt = stmt.where(Document.case_id == flt.case_id)
        if flt.folder_id:
            stmt = stmt.where(Document.folder_id == flt.folder_id)
    elif flt.scope == "mine":
        stmt = stmt.where(Document.case_id.is_(None), Document.owner_user_id == actor.user_id,
                          Document.shared_group_id.is_(None))
    elif flt.scope == "shared":
        if not actor.group_ids:
            return [], 0
        stmt = stmt.where(Document.case_id.is_(None), Document.shared_group_id.in_(actor.group_ids))
    else:
        raise Invalid.field("scope", "The scope is mine, shared or case.")
    if flt.status:
        stmt = stmt.where(Document.status == flt.status)
    if flt.document_type_id:
        stmt = stmt.where(Document.document_type_id == flt.document_type_id)
    if flt.tag:
        stmt = stmt.where(Document.id.in_(select(DocumentTag.document_id).where(DocumentTag.tag == flt.tag.lower())))
    if flt.q:
        stmt = stmt.where(func.lower(Document.title).like(f"%{flt.q.lower()}%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Document.updated_at.desc(), Document.id).offset(offset).limit(limit))
    return list(rows), total


# ---------------------------------------------------------------- files


def store_upload(session: Session, store: BlobStore, upload: Upload, max_bytes: int) -> StoredFile:
    """Stream the upload into the blob store and decide its type from its content."""
    try:
        blob = store.put_stream(upload.stream, max_bytes=max_bytes)
    except TooLarge:
        raise _too_large(max_bytes) from None
    return _typed(session, store, blob, upload.filename, {})


def _too_large(max_bytes: int) -> Invalid:
    return Invalid.field("file", f"The file is larger than the limit of {max_bytes // (1024 * 1024)} MB.")


def _typed(session: Session, store: BlobStore, blob, filename: str, type_rules: dict) -> StoredFile:
    """The stored blob as a file of the type its content shows, if that type may be uploaded.
    `type_rules` remembers the file type rules' answers per type (across a batch of uploads)."""
    filetype = filetypes.detect_file(store.path(blob.sha256))
    if blob.size == 0 or filetype.mime == filetypes.EMPTY.mime:
        raise Invalid.field("file", f"The file {filetypes.safe_filename(filename)!r} is empty.")
    _check_file_type(session, filetype, type_rules)
    return StoredFile(sha256=blob.sha256, size=blob.size, mime=filetype.mime, filename=_stored_name(filename, filetype))


def _check_file_type(session: Session, filetype, known: dict) -> None:
    if filetype.mime not in known:
        try:
            lists.check_file_type(session, filetype.mime, filetype.label)
            known[filetype.mime] = None
        except Invalid as refused:
            known[filetype.mime] = refused
    if known[filetype.mime] is not None:
        raise known[filetype.mime]


def _stored_name(filename: str, filetype) -> str:
    """The client's name, made safe; the content decides the extension, so a PDF called .docx
    is stored and shown as the PDF it is."""
    name = filetypes.safe_filename(filename) or "fil"
    if filetype.extension and not filetypes.extension_matches(name, filetype):
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = f"{stem}.{filetype.extension}"
    return name


def _version(actor: Principal, stored: StoredFile, number: int, comment: str = "") -> FileVersion:
    return FileVersion(
        number=number,
        sha256=stored.sha256,
        size=stored.size,
        mime=stored.mime,
        filename=stored.filename,
        comment=comment,
        created_by_id=actor.user_id,
        created_at=utcnow(),
    )


def _new_version(session: Session, actor: Principal, file: DocumentFile, stored: StoredFile, comment: str = "") -> FileVersion:
    version = _version(actor, stored, (file.versions[-1].number + 1) if file.versions else 1, comment)
    file.versions.append(version)
    session.flush()
    _start_text_extraction(session, [version])
    return version


def _index_if_text_known(session: Session, doc: Document, versions: list[FileVersion]) -> None:
    """A version whose text was taken from the same content gets no extraction job, which would have
    indexed the document afterwards: index it now."""
    if any(v.text_status is not TextStatus.PENDING for v in versions):
        indexing.index_document(session, doc)


def _texts_of_contents(session: Session, sha256s: set[str]) -> dict[str, tuple]:
    """sha256 -> (text status, reason, text) already extracted from the same bytes: a letter archived
    for each of its 10,000 recipients is read once, not 10,000 times."""
    if not sha256s:
        return {}
    done = (
        select(FileVersion.sha256, FileVersion.text_status, FileVersion.text_reason, FileVersion.text,
               func.row_number().over(partition_by=FileVersion.sha256).label("n"))
        .where(FileVersion.sha256.in_(sha256s),
               FileVersion.text_status.in_([TextStatus.OK, TextStatus.EMPTY, TextStatus.FAILED]))
        .subquery()
    )
    rows = session.execute(select(done.c.sha256, done.c.text_status, done.c.text_reason, done.c.text).where(done.c.n == 1))
    return {sha256: (status, reason, text) for sha256, status, reason, text in rows}


def documents_of_versions(session: Session, versions: list[FileVersion]) -> list[Document]:
    """The documents the versions belong to, with their files and versions, read in a few statements."""
    file_ids = {v.file_id for v in versions}
    doc_ids = select(DocumentFile.document_id).where(DocumentFile.id.in_(file_ids))
    # the versions' texts are not read again: those given are in the session, others load when used
    files = selectinload(Document.files).selectinload(DocumentFile.versions).defer(FileVersion.text)
    return list(session.scalars(select(Document).where(Document.id.in_(doc_ids)).options(files)))


def attach_original(session: Session, actor: Principal, doc: Document, stored: StoredFile) -> DocumentFile:
    """Keep the source a document was made from (an archived e-mail's .eml) beside its files."""
    return _add_file(session, actor, doc, FileRole.ORIGINAL, stored)


def current_version(file: DocumentFile) -> FileVersion:
    return file.versions[-1]


def _add_file(session, actor, doc: Document, role: FileRole, stored: StoredFile) -> DocumentFile:
    file = DocumentFile(role=role, name=stored.filename, position=len(doc.files))
    doc.files.append(file)
    session.flush()
    _new_version(session, actor, file, stored)
    return file


# ---------------------------------------------------------------- creating


def create_document(
    session: Session,
    actor: Principal,
    store: BlobStore,
    *,
    title: str | None,
    main: StoredFile | None = None,
    attachments: list[StoredFile] = (),
    case_id: uuid.UUID | None = None,
    folder_id: uuid.UUID | None = None,
    shared_group_id: uuid.UUID | None = None,
    document_type_id: uuid.UUID | None = None,
    document_date: date | None = None,
    direction: Direction = Direction.INTERNAL,
    description: str = "",
    tags: list[str] = (),
    contacts_: list[dict] = (),
    custom_fields: dict | None = None,
) -> Document:
    """Always a draft. On a case (needs write access), shared in one of the actor's groups, or mine.

    `custom_fields` (field key → value) is what its creator fills in, so required fields must be
    there; None is a document that arrives from elsewhere (an e-mail, a letter, a generated draft),
    whose fields are filled in afterwards.
    """
    placement = Placement(case_id, folder_id, shared_group_id, document_type_id, document_date, direction, description, tags)
    _check_placement(session, actor, placement)
    doc = _new_document(actor, placement, _title(title, main))
    session.add(doc)
    _set_contacts(session, actor, doc, contacts_)
    if custom_fields is not None:
        _set_fields(session, doc, custom_fields, creating=True)
    session.flush()
    if main is not None:
        _add_file(session, actor, doc, FileRole.MAIN, main)
    for stored in attachments:
        _add_file(session, actor, doc, FileRole.ATTACHMENT, stored)
    _audit_created(session, actor, doc)
    indexing.index_document(session, doc)
    return doc


@dataclass(frozen=True)
class Placement:
    """Where new documents go and the metadata they start with."""

    case_id: uuid.UUID | None = None
    folder_id: uuid.UUID | None = None
    shared_group_id: uuid.UUID | None = None
    document_type_id: uuid.UUID | None = None
    document_date: date | None = None
    direction: Direction = Direction.INTERNAL
    description: str = ""
    tags: list[str] = ()


def _check_placement(session: Session, actor: Principal, placement: Placement) -> None:
    if placement.case_id is not None:
        case = cases.require_case(session, actor, placement.case_id, Level.WRITE)
        _check_folder(case, placement.folder_id)
    elif placement.folder_id is not None:
        raise Invalid.field("folder_id", "Folders belong to cases; give case_id too.")
    group_id = placement.shared_group_id
    if group_id is not None and placement.case_id is None and group_id not in actor.group_ids:
        raise Forbidden("You can only share documents in groups you belong to.")
    lists.document_type(session, placement.document_type_id)


def _title(title: str | None, main: StoredFile | None) -> str:
    title = (title or "").strip() or (main.filename if main else "")
    if not title:
        raise Invalid.field("title", "A document needs a title or a main file to take it from.")
    return title[:500]


def _new_document(actor: Principal, placement: Placement, title: str) -> Document:
    now = utcnow()
    doc = Document(
        id=uuid.uuid4(),  # every column set: a batch writes the row itself (create_documents)
        created_at=now,
        updated_at=now,
        status=DocumentStatus.DRAFT,
        title=title,
        description=placement.description,
        case_id=placement.case_id,
        folder_id=placement.folder_id,
        owner_user_id=actor.user_id,
        shared_group_id=placement.shared_group_id if placement.case_id is None else None,
        document_type_id=placement.document_type_id,
        document_date=placement.document_date or utcnow().date(),
        direction=placement.direction,
        created_by_id=actor.user_id,
        contacts=[],
        files=[],
        field_values=[],
    )
    _set_tags(doc, placement.tags)
    return doc


def _audit_created(session: Session, actor: Principal, doc: Document) -> None:
    audit.record_change(session, actor, **asdict(_created_change(doc)))


def _created_change(doc: Document) -> audit.Change:
    return audit.Change("document.created", "document", doc.id, doc.case_id, f"Oprettede dokumentet \"{doc.title}\"",
                        after=_values(doc))


# ---------------------------------------------------------------- creating many at once


MAX_BATCH_FILES = 200
EXTRACTION_BATCH = 50  # versions per extraction job, so that the worker's processes share a large upload


@dataclass(frozen=True)
class FileError:
    index: int  # the file's position in the upload
    filename: str
    message: str


@dataclass(frozen=True)
class Created:
    index: int
    document: Document


@dataclass(frozen=True)
class BatchResult:
    documents: list[Created]
    errors: list[FileError]


def create_documents(
    session: Session,
    actor: Principal,
    store: BlobStore,
    uploads: list[Upload],
    max_bytes: int,
    placement: Placement,
    titles: list[str] = (),
) -> BatchResult:
    """Each file its own draft document (title: the title at its position, else the file's name), all
    placed alike, in the caller's transaction with a statement per table for all of them.

    The request as a whole (where, the document type, the number of files) is checked first and
    refused whole. A file that is refused (empty, too large, a type not allowed) is reported in
    `errors` and the others are created; when none is left, nothing is created (422). The documents
    are found by search once their text is extracted.
    """
    if not uploads:
        raise Invalid.field("files", "Send at least one file.")
    if len(uploads) > MAX_BATCH_FILES:
        raise Invalid.field("files", f"At most {MAX_BATCH_FILES} files at a time.")
    if len(titles) > len(uploads):
        raise Invalid.field("titles", "There are more titles than files.")
    _check_placement(session, actor, placement)
    stored, errors = _store_uploads(session, store, uploads, max_bytes)
    if not stored:
        raise Invalid("No file could be added.", errors={"files": [f"{e.filename}: {e.message}" for e in errors]})
    created = []
    for index, file in stored:
        doc = _new_document(actor, placement, _title(titles[index] if index < len(titles) else None, file))
        _add_new_file(actor, doc, FileRole.MAIN, file)
        created.append(Created(index, doc))
    docs = [c.document for c in created]
    # the documents are made in memory and written with a statement per table, not through the session:
    # its unit of work costs more than the rest of an upload
    _start_text_extraction(session, [f.versions[0] for doc in docs for f in doc.files])
    _insert_new(session, docs)
    audit.record_changes(session, actor, [_created_change(doc) for doc in docs])
    # A document whose text is on its way is indexed once, with the text, by its extraction job
    # (seconds later), rather than now and again then.
    indexing.index_new_documents(session, [doc for doc in docs if not text_pending(doc)])
    return BatchResult(created, errors)


def _insert_new(session: Session, docs: list[Document]) -> None:
    """Write documents made in memory, with their tags, files and first versions."""
    files = [f for doc in docs for f in doc.files]
    tags = [{"document_id": doc.id, "tag": t.tag} for doc in docs for t in doc.tags]
    session.execute(insert(Document), [_columns(doc) for doc in docs])
    if tags:
        session.execute(insert(DocumentTag), tags)
    session.execute(insert(DocumentFile), [_columns(f) for f in files])
    session.execute(insert(FileVersion), [_columns(v) for f in files for v in f.versions])


def _columns(obj) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in sa_inspect(type(obj)).column_attrs}


def _store_uploads(session: Session, store: BlobStore, uploads: list[Upload], max_bytes: int):
    """(position, stored file) of the files taken, and the errors of those refused."""
    stored, errors, type_rules = [], [], {}
    blobs = store.put_streams([upload.stream for upload in uploads], max_bytes=max_bytes)
    for index, (upload, blob) in enumerate(zip(uploads, blobs)):
        try:
            if isinstance(blob, TooLarge):
                raise _too_large(max_bytes)
            stored.append((index, _typed(session, store, blob, upload.filename, type_rules)))
        except Invalid as error:
            errors.append(FileError(index, filetypes.safe_filename(upload.filename), error.message))
    return stored, errors


def _add_new_file(actor: Principal, doc: Document, role: FileRole, stored: StoredFile) -> None:
    """A file with its first version, every column set, on a document made in memory."""
    file = DocumentFile(id=uuid.uuid4(), document_id=doc.id, role=role, name=stored.filename, position=len(doc.files))
    version = _version(actor, stored, number=1)
    version.id, version.file_id, version.text_status = uuid.uuid4(), file.id, TextStatus.PENDING
    file.versions = [version]
    doc.files.append(file)


def _start_text_extraction(session: Session, versions: list[FileVersion]) -> None:
    """New versions (written already, or to be written after): text taken from the same content read
    before, else extraction jobs of up to EXTRACTION_BATCH versions each."""
    known = _texts_of_contents(session, {v.sha256 for v in versions})
    waiting = []
    for version in versions:
        if not extraction.is_supported(version.mime):
            version.text_status = TextStatus.UNSUPPORTED
        elif version.sha256 in known:
            version.text_status, version.text_reason, version.text = known[version.sha256]
        else:
            waiting.append(str(version.id))
    for start in range(0, len(waiting), EXTRACTION_BATCH):
        jobs.enqueue(session, EXTRACT_JOB, {"version_ids": waiting[start:start + EXTRACTION_BATCH]})


def _check_folder(case, folder_id: uuid.UUID | None) -> None:
    if folder_id is not None and folder_id not in {f.id for f in case.folders}:
        raise Invalid.field("folder_id", "The folder is not one of the case's folders.")


def _set_tags(doc: Document, tags) -> None:
    doc.tags = [DocumentTag(tag=t) for t in sorted({t.strip().lower()[:100] for t in tags if t.strip()})]


def _set_contacts(session: Session, actor: Principal, doc: Document, links: list[dict]) -> None:
    seen = set()
    doc.contacts = []
    for link in links:
        key = (link["contact_id"], ContactRole(link["role"]))
        if key in seen:
            continue
        seen.add(key)
        contacts.get_contact(session, actor, link["contact_id"])
        doc.contacts.append(DocumentContact(contact_id=key[0], role=key[1]))


def _set_fields(session: Session, doc: Document, values: dict, *, creating: bool) -> None:
    doc.field_values = lists.merged_field_values(
        session, FieldEntity.DOCUMENT, doc.field_values, values, creating=creating, new_row=DocumentFieldValue
    )


def field_values(session: Session, doc: Document) -> dict:
    """The document's custom fields: key → value."""
    return lists.plain_field_values(session, FieldEntity.DOCUMENT, doc.field_values)


def having_field_value(document_id_column, definition: CustomField, *, value=None, low=None, high=None):
    """For other domains (search): a predicate on a document-id column, true for the documents whose
    value of this document field equals `value`, or lies from `low` to `high` (see lists.value_condition)."""
    return lists.owners_with_value(document_id_column, DocumentFieldValue.document_id, FieldEntity.DOCUMENT, definition,
                                   value=value, low=low, high=high)


# ---------------------------------------------------------------- changing


def update_document(session: Session, actor: Principal, document_id: uuid.UUID, changes: dict) -> Document:
    doc = require_document(session, actor, document_id, Level.WRITE)
    _require_draft(doc)
    before = _values(doc)
    if "title" in changes:
        if not changes["title"].strip():
            raise Invalid.field("title", "A document needs a title.")
        doc.title = changes["title"].strip()
    if "document_type_id" in changes:
        lists.document_type(session, changes["document_type_id"])
        doc.document_type_id = changes["document_type_id"]
    for key in ("description", "document_date", "direction"):
        if key in changes:
            setattr(doc, key, changes[key])
    if "folder_id" in changes:
        if doc.case_id is None and changes["folder_id"] is not None:
            raise Invalid.field("folder_id", "Only documents on a case are in folders.")
        if doc.case_id is not None:
            _check_folder(cases.require_case(session, actor, doc.case_id, Level.WRITE), changes["folder_id"])
        doc.folder_id = changes["folder_id"]
    if "tags" in changes:
        _set_tags(doc, changes["tags"])
    if "contacts" in changes:
        _set_contacts(session, actor, doc, changes["contacts"])
    if "custom_fields" in changes:
        _set_fields(session, doc, changes["custom_fields"], creating=False)
    doc.updated_at = utcnow()
    session.flush()
    b, a = audit.changed_fields(before, _values(doc))
    if a:
        _audit(session, actor, doc, "document.updated", f"Redigerede dokumentet \"{doc.title}\"", before=b, after=a)
    indexing.index_document(session, doc)
    return doc


def add_version(
    session: Session, actor: Principal, document_id: uuid.UUID, file_id: uuid.UUID, stored: StoredFile, comment: str = ""
) -> FileVersion:
    doc = require_document(session, actor, document_id, Level.WRITE)
    _require_draft(doc)
    file = _file(doc, file_id)
    version = _new_version(session, actor, file, stored, comment)
    doc.updated_at = utcnow()
    _index_if_text_known(session, doc, [version])
    _audit(session, actor, doc, "document.version_added", f"Ny version {version.number} af \"{file.name}\"",
           after={"file": file.name, "version": version.number, "sha256": stored.sha256})
    return version


def add_attachment(session: Session, actor: Principal, document_id: uuid.UUID, stored: StoredFile) -> DocumentFile:
    doc = require_document(session, actor, document_id, Level.WRITE)
    _require_draft(doc)
    role = FileRole.MAIN if not any(f.role == FileRole.MAIN for f in doc.files) else FileRole.ATTACHMENT
    file = _add_file(session, actor, doc, role, stored)
    doc.updated_at = utcnow()
    _index_if_text_known(session, doc, file.versions)
    _audit(session, actor, doc, "document.file_added", f"Tilføjede {'bilag' if role == FileRole.ATTACHMENT else 'hoveddokument'} \"{file.name}\"",
           after={"file": file.name, "role": role})
    return file


def remove_file(session: Session, actor: Principal, document_id: uuid.UUID, file_id: uuid.UUID) -> None:
    doc = require_document(session, actor, document_id, Level.WRITE)
    _require_draft(doc)
    file = _file(doc, file_id)
    doc.files.remove(file)
    doc.updated_at = utcnow()
    _audit(session, actor, doc, "document.file_removed", f"Fjernede \"{file.name}\"", before={"file": file.name})
    indexing.index_document(session, doc)


def set_status(session: Session, actor: Principal, document_id: uuid.UUID, status: DocumentStatus) -> Document:
    doc = require_document(session, actor, document_id, Level.WRITE)
    if status == doc.status:
        return doc
    if status == DocumentStatus.DRAFT:
        auth.require(actor, Right.DOCUMENTS_REOPEN)
    elif not any(f.role == FileRole.MAIN for f in doc.files):
        raise Conflict("A document needs a main file before it can be final.")
    before = doc.status
    doc.status = status
    doc.finalised_at, doc.finalised_by_id = (utcnow(), actor.user_id) if status == DocumentStatus.FINAL else (None, None)
    doc.updated_at = utcnow()
    summary = "Markerede dokumentet som endeligt" if status == DocumentStatus.FINAL else "Genåbnede dokumentet som kladde"
    _audit(session, actor, doc, "document.status_changed", summary, before={"status": before}, after={"status": status})
    return doc


def move_document(
    session: Session, actor: Principal, document_id: uuid.UUID, *, case_id: uuid.UUID, folder_id: uuid.UUID | None = None
) -> Document:
    """Put a personal or shared document on a case (or move it between folders of its case)."""
    doc = require_document(session, actor, document_id, Level.WRITE)
    if doc.case_id is not None and doc.case_id != case_id:
        raise Conflict("The document is on another case already; documents do not move between cases.")
    case = cases.require_case(session, actor, case_id, Level.WRITE)
    _check_folder(case, folder_id)
    before = {"case_id": doc.case_id, "folder_id": doc.folder_id, "shared_group_id": doc.shared_group_id}
    doc.case_id, doc.folder_id, doc.shared_group_id = case_id, folder_id, None
    doc.updated_at = utcnow()
    _audit(session, actor, doc, "document.moved", f"Flyttede dokumentet \"{doc.title}\" til sagen",
           before=before, after={"case_id": case_id, "folder_id": folder_id})
    indexing.index_document(session, doc)
    return doc


def _file(doc: Document, file_id: uuid.UUID) -> DocumentFile:
    file = next((f for f in doc.files if f.id == file_id), None)
    if file is None:
        raise NotFound("No such file on this document.")
    return file


def file_version(session: Session, actor: Principal, document_id: uuid.UUID, file_id: uuid.UUID, number: int | None):
    """The file's version to download (the newest unless a number is given); the read is logged."""
    doc = read_document(session, actor, document_id, "read_file")
    file = _file(doc, file_id)
    if number is None:
        return current_version(file)
    version = next((v for v in file.versions if v.number == number), None)
    if version is None:
        raise NotFound(f"The file has no version {number}.")
    return version


# ---------------------------------------------------------------- comments and references


def add_comment(session: Session, actor: Principal, document_id: uuid.UUID, text: str) -> DocumentComment:
    doc = require_document(session, actor, document_id, Level.WRITE)
    if not text.strip():
        raise Invalid.field("text", "A comment needs text.")
    comment = DocumentComment(document_id=doc.id, author_id=actor.user_id, text=text)
    session.add(comment)
    session.flush()
    _audit(session, actor, doc, "document.commented", "Kommenterede dokumentet", after={"text": text})
    return comment


def list_comments(session: Session, actor: Principal, document_id: uuid.UUID) -> list[DocumentComment]:
    read_document(session, actor, document_id, "read_comments")
    stmt = select(DocumentComment).where(DocumentComment.document_id == document_id).order_by(DocumentComment.created_at)
    return list(session.scalars(stmt))


def add_reference(
    session: Session, actor: Principal, document_id: uuid.UUID, *, target_document_id=None, target_case_id=None, note=""
) -> DocumentReference:
    doc = require_document(session, actor, document_id, Level.WRITE)
    if bool(target_document_id) == bool(target_case_id):
        raise Invalid.field("target_document_id", "Refer to either a document or a case.")
    if target_document_id:
        if target_document_id == doc.id:
            raise Invalid.field("target_document_id", "A document cannot refer to itself.")
        require_document(session, actor, target_document_id)
    else:
        cases.require_case(session, actor, target_case_id)
    ref = DocumentReference(document_id=doc.id, target_document_id=target_document_id, target_case_id=target_case_id, note=note)
    session.add(ref)
    session.flush()
    _audit(session, actor, doc, "document.reference_added", "Tilføjede en reference",
           after={"target_document_id": target_document_id, "target_case_id": target_case_id})
    return ref


def list_references(session: Session, actor: Principal, document_id: uuid.UUID) -> list[DocumentReference]:
    """The document's references to what the actor may see; others are left out, not revealed."""
    read_document(session, actor, document_id, "read_references")
    refs = session.scalars(select(DocumentReference).where(DocumentReference.document_id == document_id))
    return [r for r in refs if _may_see_target(session, actor, r)]


def _may_see_target(session: Session, actor: Principal, ref: DocumentReference) -> bool:
    try:
        if ref.target_document_id:
            require_document(session, actor, ref.target_document_id)
        else:
            cases.require_case(session, actor, ref.target_case_id)
    except NotFound:
        return False
    return True


def remove_reference(session: Session, actor: Principal, document_id: uuid.UUID, reference_id: uuid.UUID) -> None:
    doc = require_document(session, actor, document_id, Level.WRITE)
    ref = session.get(DocumentReference, reference_id)
    if ref is None or ref.document_id != doc.id:
        raise NotFound("No such reference on this document.")
    session.delete(ref)
    _audit(session, actor, doc, "document.reference_removed", "Fjernede en reference", before={"reference_id": reference_id})


# ---------------------------------------------------------------- history and values


def history(session: Session, actor: Principal, document_id: uuid.UUID, *, offset: int, limit: int):
    read_document(session, actor, document_id, "read_history")
    return audit.query_entity_history(session, "document", document_id, offset=offset, limit=limit)


def _audit(session, actor, doc: Document, action: str, summary: str, *, before=None, after=None) -> None:
    audit.record_change(session, actor, action, "document", doc.id, case_id=doc.case_id, summary=summary,
                        before=before, after=after)


def _values(doc: Document) -> dict:
    return {
        "title": doc.title,
        "description": doc.description,
        "document_type_id": doc.document_type_id,
        "document_date": doc.document_date.isoformat() if doc.document_date else None,
        "direction": doc.direction,
        "folder_id": doc.folder_id,
        "tags": [t.tag for t in doc.tags],
        "contacts": sorted(f"{c.role.value}:{c.contact_id}" for c in doc.contacts),
        "fields": lists.audited_field_values(doc.field_values),
    }


def text_pending(doc: Document) -> bool:
    return any(current_version(f).text_status == TextStatus.PENDING for f in doc.files)


def documents_past_retention(session: Session, today: date) -> list[tuple[Document, str, int]]:
    """(document, its type's name, retention years) for documents whose type's period has run out
    counted from the document's date."""
    from server.admin.models import DocumentType

    rows = session.execute(
        select(Document, DocumentType.name, DocumentType.retention_years)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .where(DocumentType.retention_years.is_not(None), Document.document_date.is_not(None))
        .order_by(Document.document_date)
    )
    return [(doc, name, years) for doc, name, years in rows if add_years(doc.document_date, years) <= today]



def get_document_unchecked(session: Session, document_id: uuid.UUID) -> Document:
    """For disposal under a retention rule, which applies whether or not the document is in the trash."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound(_NOT_FOUND)
    return doc
