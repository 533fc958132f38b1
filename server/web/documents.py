"""Documents: my and shared documents, one document's page (files, versions, preview), finalising,
new versions, moving to a case, downloads."""
from __future__ import annotations

import uuid

from flask import Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from server.admin import services as lists
from server.admin.models import DocumentType, FieldEntity, FieldType
from server.auth import services as auth
from server.cases import services as cases
from server.cases.access import Level
from server.db import get_session
from server.documents import services as documents
from server.documents import trash
from server.documents.models import Direction, DocumentStatus, FileRole
from server.errors import Invalid
from server.generation import services as generation
from server.web import preview
from server.web.blueprint import Pager, a_date, actor, an_id, blobs, bp, max_upload_bytes, uploaded


def _stored(upload):
    return documents.store_upload(get_session(), blobs(), documents.Upload(upload.stream, upload.filename or ""),
                                  max_upload_bytes())


@bp.get("/documents")
def document_list():
    session, me = get_session(), actor()
    scope = "shared" if request.args.get("scope") == "shared" else "mine"
    pager = Pager.from_request()
    rows, total = documents.list_documents(session, me, documents.DocumentFilter(scope=scope, q=request.args.get("q") or None),
                                           offset=pager.offset, limit=pager.size)
    groups = [auth.get_group(session, g) for g in sorted(me.group_ids)]
    return render_template("documents/list.html", documents=rows, pager=pager.counted(total), scope=scope, groups=groups)


@bp.post("/documents")
def document_upload():
    """Personal documents (or shared in one of my groups), one per file."""
    session, me = get_session(), actor()
    uploads = uploaded("files", many=True)
    group_id = an_id(request.form.get("shared_group_id"), "shared_group_id")
    for upload in uploads:
        documents.create_document(session, me, blobs(), title=None, main=_stored(upload), shared_group_id=group_id)
    return redirect(url_for("web.document_list", scope="shared" if group_id else "mine"))


@bp.get("/documents/<uuid:document_id>")
def document_page(document_id: uuid.UUID):
    session, me = get_session(), actor()
    doc = documents.read_document(session, me, document_id)
    case = cases.require_case(session, me, doc.case_id) if doc.case_id else None
    # a personal or shared document is writable by whoever may see it; a case's by its writers
    may_write = cases.my_level(session, me, case) >= Level.WRITE if case else True
    main = next((f for f in doc.files if f.role == FileRole.MAIN), None)
    shown = documents.current_version(main) if main else None
    pages = preview.page_count(blobs().path(shown.sha256)) if shown and shown.mime == "application/pdf" else 0
    targets = [] if case else cases.list_cases(session, me, cases.CaseFilter(scope="mine"), offset=0, limit=200)[0]
    return render_template(
        "documents/page.html", doc=doc, case=case, may_write=may_write, main=main, shown=shown, pages=pages,
        image=bool(shown and shown.mime in preview.SHOWN_AS_IMAGES), targets=targets,
        document_type=lists.document_type(session, doc.document_type_id), names=_names(session, doc),
        document_types=lists.list_named(session, DocumentType), directions=list(Direction),
        custom_fields=lists.list_fields(session, FieldEntity.DOCUMENT), field_values=documents.field_values(session, doc),
    )


def _names(session, doc) -> dict:
    people = {v.created_by_id for f in doc.files for v in f.versions} | {doc.created_by_id, doc.finalised_by_id}
    return {uid: auth.display_name(session, uid) for uid in people if uid}


@bp.get("/documents/<uuid:document_id>/files/<uuid:file_id>/download")
def document_download(document_id: uuid.UUID, file_id: uuid.UUID):
    version = documents.file_version(get_session(), actor(), document_id, file_id, request.args.get("version", type=int))
    inline = request.args.get("inline") == "1" and version.mime in preview.SHOWN_AS_IMAGES
    response = send_file(blobs().open(version.sha256), mimetype=version.mime, as_attachment=not inline,
                         download_name=version.filename, etag=version.sha256, conditional=True)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/documents/<uuid:document_id>/files/<uuid:file_id>/pages/<int:page>.png")
def document_page_image(document_id: uuid.UUID, file_id: uuid.UUID, page: int):
    version = documents.file_version(get_session(), actor(), document_id, file_id, None)
    if version.mime != "application/pdf":
        raise Invalid("Only PDFs are shown page by page.")
    png = preview.page_png(blobs().path(version.sha256), page)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/documents/<uuid:document_id>/preview")
def document_preview(document_id: uuid.UUID):
    """The main file as it would be sent: converted to PDF where it is a Word file or the like."""
    pdf, _name = generation.document_pdf(get_session(), actor(), blobs(), document_id)
    doc = documents.require_document(get_session(), actor(), document_id)
    return render_template("documents/preview.html", doc=doc, images=preview.data_urls(pdf))


@bp.post("/documents/<uuid:document_id>/status")
def document_status(document_id: uuid.UUID):
    status = DocumentStatus(request.form.get("status", "final"))
    doc = documents.set_status(get_session(), actor(), document_id, status)
    flash(_("Dokumentet er endeligt.") if status == DocumentStatus.FINAL else _("Dokumentet er genåbnet som kladde."), "info")
    return redirect(url_for("web.document_page", document_id=doc.id))


@bp.post("/documents/<uuid:document_id>/files/<uuid:file_id>/versions")
def document_version(document_id: uuid.UUID, file_id: uuid.UUID):
    documents.add_version(get_session(), actor(), document_id, file_id, _stored(uploaded()), request.form.get("comment", ""))
    return redirect(url_for("web.document_page", document_id=document_id))


@bp.post("/documents/<uuid:document_id>/edit")
def document_edit(document_id: uuid.UUID):
    form = request.form
    changes = {"title": form.get("title", ""), "description": form.get("description", ""),
               "document_type_id": an_id(form.get("document_type_id"), "document_type_id"),
               "direction": Direction(form.get("direction", "internal"))}
    if form.get("document_date"):
        changes["document_date"] = a_date(form["document_date"], "document_date")
    changes["custom_fields"] = _field_values_from(form, lists.list_fields(get_session(), FieldEntity.DOCUMENT))
    documents.update_document(get_session(), actor(), document_id, changes)
    return redirect(url_for("web.document_page", document_id=document_id))


def _field_values_from(form, definitions) -> dict:
    """The custom fields the edit form shows, each named field.<key>; empty clears a value."""
    values = {}
    for definition in definitions:
        if f"field.{definition.key}" not in form:
            continue  # defined after the form was shown: left as it is
        raw = form[f"field.{definition.key}"].strip()
        if definition.type == FieldType.BOOLEAN and raw:
            raw = raw == "true"
        values[definition.key] = raw
    return values


@bp.post("/documents/<uuid:document_id>/files")
def document_attach(document_id: uuid.UUID):
    """A bilag (or the main file, when the document has none)."""
    documents.add_attachment(get_session(), actor(), document_id, _stored(uploaded()))
    return redirect(url_for("web.document_page", document_id=document_id))


@bp.post("/documents/<uuid:document_id>/delete")
def document_delete(document_id: uuid.UUID):
    session, me = get_session(), actor()
    doc = documents.require_document(session, me, document_id)
    trash.delete_document(session, me, document_id)
    flash(_("Dokumentet er lagt i papirkurven."), "info")
    return redirect(url_for("web.case_page", case_id=doc.case_id) if doc.case_id else url_for("web.document_list"))


@bp.post("/documents/<uuid:document_id>/move")
def document_move(document_id: uuid.UUID):
    case_id = an_id(request.form.get("case_id"), "case_id", required=True)
    documents.move_document(get_session(), actor(), document_id, case_id=case_id,
                            folder_id=an_id(request.form.get("folder_id"), "folder_id"))
    return redirect(url_for("web.document_page", document_id=document_id))
