"""Document templates: Word files administrators upload, checked at upload, kept in versions."""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.admin import services as admin
from server.admin.models import FieldEntity
from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases import templates as case_templates
from server.documents.blobs import BlobStore
from server.errors import Conflict, Invalid, NotFound
from server.generation import fields, wordfill
from server.generation.models import DocumentTemplate, TemplateCaseTemplate, TemplateVersion

_CACHE_SIZE = 32
_compiled: "OrderedDict[str, wordfill.CompiledTemplate]" = OrderedDict()
_compiled_lock = threading.Lock()


def list_templates(session: Session, *, case_template_id: uuid.UUID | None = None, for_merge: bool | None = None,
                   include_inactive: bool = False) -> list[DocumentTemplate]:
    query = select(DocumentTemplate).order_by(DocumentTemplate.name)
    if not include_inactive:
        query = query.where(DocumentTemplate.active.is_(True))
    if for_merge is not None:
        query = query.where(DocumentTemplate.for_merge.is_(for_merge))
    found = list(session.scalars(query))
    if case_template_id is not None:  # templates tied to no case template are offered on every case
        found = [t for t in found if not t.case_template_ids or case_template_id in t.case_template_ids]
    return found


def require_template(session: Session, template_id: uuid.UUID, *, for_use: bool = False) -> DocumentTemplate:
    template = session.get(DocumentTemplate, template_id)
    if template is None:
        raise NotFound("No such document template.")
    if for_use and not template.active:
        raise Conflict(f"The template \"{template.name}\" is retired.")
    return template


def create_template(session: Session, actor: Principal | None, store: BlobStore, *, name: str, data: bytes,
                    filename: str, description: str = "", document_type_id: uuid.UUID | None = None,
                    case_template_ids: list[uuid.UUID] = (), for_merge: bool = False) -> DocumentTemplate:
    if actor is not None:
        auth.require(actor, Right.DOCUMENT_TEMPLATES_MANAGE)
    if session.scalar(select(DocumentTemplate.id).where(DocumentTemplate.name == name)):
        raise Conflict(f"A document template named \"{name}\" exists already.")
    admin.document_type(session, document_type_id)
    template = DocumentTemplate(name=name, description=description, document_type_id=document_type_id,
                                for_merge=for_merge, version=1, created_by_id=actor.user_id if actor else None)
    _set_case_templates(session, template, case_template_ids)
    template.versions.append(_checked_version(session, actor, store, template, 1, data, filename))
    session.add(template)
    session.flush()
    audit.record_change(session, actor, "document_template.created", "document_template", template.id,
                        summary=f"Oprettede dokumentskabelonen \"{name}\"", after={"filename": filename})
    return template


def add_version(session: Session, actor: Principal, store: BlobStore, template_id: uuid.UUID, data: bytes,
                filename: str) -> DocumentTemplate:
    auth.require(actor, Right.DOCUMENT_TEMPLATES_MANAGE)
    template = require_template(session, template_id)
    number = template.version + 1
    template.versions.append(_checked_version(session, actor, store, template, number, data, filename))
    template.version = number
    audit.record_change(session, actor, "document_template.version", "document_template", template.id,
                        summary=f"Ny version {number} af dokumentskabelonen \"{template.name}\"",
                        after={"version": number, "filename": filename})
    return template


def update_template(session: Session, actor: Principal, template_id: uuid.UUID, changes: dict) -> DocumentTemplate:
    auth.require(actor, Right.DOCUMENT_TEMPLATES_MANAGE)
    template = require_template(session, template_id)
    before = _values(template)
    if "name" in changes and changes["name"] != template.name:
        if session.scalar(select(DocumentTemplate.id).where(DocumentTemplate.name == changes["name"])):
            raise Conflict(f"A document template named \"{changes['name']}\" exists already.")
    if "document_type_id" in changes:
        admin.document_type(session, changes["document_type_id"])
    if "case_template_ids" in changes:
        _set_case_templates(session, template, changes.pop("case_template_ids"))
    if changes.get("for_merge") is False and template.for_merge:
        _check_fields(session, template.current.fields, for_merge=False)
    for key, value in changes.items():
        setattr(template, key, value)
    audit.record_change(session, actor, "document_template.updated", "document_template", template.id,
                        summary=f"Ændrede dokumentskabelonen \"{template.name}\"", before=before, after=_values(template))
    return template


def _values(template: DocumentTemplate) -> dict:
    return {"name": template.name, "description": template.description, "active": template.active,
            "for_merge": template.for_merge, "document_type_id": template.document_type_id,
            "case_template_ids": template.case_template_ids}


def _set_case_templates(session: Session, template: DocumentTemplate, ids) -> None:
    for case_template_id in ids:
        case_templates.get_template(session, case_template_id)
    template.case_templates = [TemplateCaseTemplate(case_template_id=i) for i in dict.fromkeys(ids)]


def _checked_version(session, actor, store: BlobStore, template: DocumentTemplate, number: int, data: bytes,
                     filename: str) -> TemplateVersion:
    """The version, after the file has been compiled and every field it uses found in the catalogue."""
    if not filename.lower().endswith((".docx", ".dotx")):
        if filename.lower().endswith((".docm", ".dotm")):
            raise wordfill.TemplateProblem([f'"{filename}" is a macro-enabled Word file; templates must be .docx.'])
        raise wordfill.TemplateProblem([f'"{filename}" is not a Word document (.docx).'])
    compiled = wordfill.compile_template(data, filename)
    paths = [list(use.path) for use in wordfill.used_fields(compiled)]
    _check_fields(session, paths, for_merge=template.for_merge)
    blob = store.put_bytes(data)
    return TemplateVersion(number=number, filename=filename, sha256=blob.sha256, size=blob.size, fields=paths,
                           uploaded_by_id=actor.user_id if actor else None)


def _check_fields(session: Session, paths: list[list[str]], *, for_merge: bool) -> None:
    keys = set(admin.fields_by_key(session, FieldEntity.CASE))
    unknown = fields.unknown_fields([wordfill.FieldUse(tuple(p)) for p in paths], merge_columns_allowed=for_merge,
                                    custom_field_keys=keys)
    if unknown:
        names = ", ".join(f'"{name}"' for name in unknown)
        raise Invalid.field("file", f"The template uses unknown field(s): {names}. Known fields: "
                                    f"{', '.join(sorted(fields.CATALOGUE))} (with their parts, e.g. sag.nummer); "
                                    "a template for mail merge may also use the sheet's columns.")


def version_fields(template: DocumentTemplate) -> list[wordfill.FieldUse]:
    return [wordfill.FieldUse(tuple(p)) for p in template.current.fields]


def get_version(template: DocumentTemplate, number: int | None = None) -> TemplateVersion:
    number = number or template.version
    found = next((v for v in template.versions if v.number == number), None)
    if found is None:
        raise NotFound(f"The template has no version {number}.")
    return found


def compiled(session: Session, store: BlobStore, template_id: uuid.UUID, number: int | None = None):
    """The compiled template (cached by content: a version never changes)."""
    version = get_version(require_template(session, template_id), number)
    with _compiled_lock:
        found = _compiled.get(version.sha256)
        if found is not None:
            _compiled.move_to_end(version.sha256)
            return found
    with store.open(version.sha256) as stream:
        result = wordfill.compile_template(stream.read(), version.filename)
    with _compiled_lock:
        _compiled[version.sha256] = result
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return result


def content(session: Session, store: BlobStore, template_id: uuid.UUID, number: int | None = None):
    version = get_version(require_template(session, template_id), number)
    return store.open(version.sha256), version.filename


SHIPPED_NAMES = {"standardbrev.docx": ("Standardbrev", "Et almindeligt brev til sagens part"),
                 "partshoering.docx": ("Partshøring", "Partshøring efter forvaltningslovens § 19"),
                 "afgoerelse.docx": ("Afgørelse", "Afgørelse med begrundelse og klagevejledning"),
                 "kvittering.docx": ("Kvittering for modtagelse", "Kvittering for en modtaget henvendelse")}


def install_shipped(session: Session, store: BlobStore, directory) -> list[DocumentTemplate]:
    """A new installation's letter templates, from the repository's templates/ (only when it has none)."""
    if session.scalar(select(DocumentTemplate.id).limit(1)) is not None:
        return []
    installed = []
    for filename, (name, description) in SHIPPED_NAMES.items():
        path = directory / filename
        if path.is_file():
            installed.append(create_template(session, None, store, name=name, description=description,
                                             data=path.read_bytes(), filename=filename))
    return installed
