import uuid

from flask import current_app, send_file
from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.audit.schemas import AuditEventSchema
from server.auth import current
from server.cases import services as cases
from server.cases.schemas import CaseListItemSchema
from server.db import get_session
from server.documents import archive, services, trash
from server.documents import schemas as s
from server.errors import Invalid

blp = blueprint("documents", "", "Documents with files, versions, comments and references; archiving e-mails")

# Parsing needs the whole message in memory; Exchange Online's own limit is 150 MB.
MAX_EMAIL_BYTES = 200 * 2**20
# Served as downloads only: a browser must never run an uploaded page or image script in our origin.
_NEVER_INLINE = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")


def _store():
    return current_app.extensions["sagspost.blobs"]


def _max_bytes() -> int:
    return current_app.config["SAGSPOST"].max_upload_mb * 1024 * 1024


def _stored(upload):
    return services.store_upload(get_session(), _store(), services.Upload(upload.stream, upload.filename or ""), _max_bytes())


@blp.route("/documents")
class Documents(MethodView):
    @blp.arguments(s.DocumentQuerySchema, location="query")
    @blp.response(200, s.DocumentListItemSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """My documents, shared documents in my groups, or a case's documents"""
        offset, limit = page_window(pagination_parameters)
        result = services.list_documents(get_session(), current.actor(), services.DocumentFilter(**query), offset=offset, limit=limit)
        return paged(pagination_parameters, result)

    @blp.arguments(s.DocumentFormSchema, location="form")
    @blp.arguments(s.DocumentFilesSchema, location="files")
    @blp.response(201, s.DocumentSchema)
    def post(self, form, files):
        """Upload a document (always a draft): on a case, shared in a group, or as mine"""
        actor = current.actor()
        main = _stored(files["file"]) if files.get("file") else None
        attachments = [_stored(f) for f in files.get("attachments", [])]
        return services.create_document(get_session(), actor, _store(), main=main, attachments=attachments, **form)


@blp.route("/documents/batch")
class DocumentBatch(MethodView):
    @blp.arguments(s.DocumentBatchFormSchema, location="form")
    @blp.arguments(s.DocumentBatchFilesSchema, location="files")
    @blp.response(201, s.DocumentBatchSchema)
    def post(self, form, files):
        """Upload many files at once (up to 200), each its own draft document, placed alike

        All are created in one transaction. A file refused on its own (empty, too large, a file type
        not allowed) is listed in `errors` with its position and the reason, and the others are
        created; when every file is refused, nothing is created and the answer is 422. Each document
        is audited as if uploaded alone. Text extraction follows in the background, and search finds
        the documents once it is done (a file type without extraction, such as an image, at once).
        """
        titles = form.pop("titles")
        uploads = [services.Upload(f.stream, f.filename or "") for f in files["files"]]
        return services.create_documents(get_session(), current.actor(), _store(), uploads, _max_bytes(),
                                         services.Placement(**form), titles)


@blp.route("/documents/<uuid:document_id>")
class DocumentById(MethodView):
    @blp.response(200, s.DocumentSchema)
    def get(self, document_id: uuid.UUID):
        """One document with its files and versions"""
        return services.read_document(get_session(), current.actor(), document_id)

    @blp.arguments(s.DocumentUpdateSchema)
    @blp.response(200, s.DocumentSchema)
    def patch(self, body, document_id: uuid.UUID):
        """Change a draft's metadata"""
        return services.update_document(get_session(), current.actor(), document_id, body)

    @blp.response(204)
    def delete(self, document_id: uuid.UUID):
        """Move the document to the trash (papirkurv)"""
        trash.delete_document(get_session(), current.actor(), document_id)


@blp.route("/documents/<uuid:document_id>/status")
class DocumentStatusChange(MethodView):
    @blp.arguments(s.DocumentStatusSchema)
    @blp.response(200, s.DocumentSchema)
    def put(self, body, document_id: uuid.UUID):
        """Mark final (endelig), or reopen as draft (documents.reopen)"""
        return services.set_status(get_session(), current.actor(), document_id, body["status"])


@blp.route("/documents/<uuid:document_id>/move")
class DocumentMove(MethodView):
    @blp.arguments(s.MoveSchema)
    @blp.response(200, s.DocumentSchema)
    def post(self, body, document_id: uuid.UUID):
        """Put a personal or shared document on a case, or move it to another folder of its case"""
        return services.move_document(get_session(), current.actor(), document_id, **body)


@blp.route("/documents/<uuid:document_id>/files")
class DocumentFiles(MethodView):
    @blp.arguments(s.UploadOnlySchema, location="files")
    @blp.response(201, s.FileSchema)
    def post(self, files, document_id: uuid.UUID):
        """Add a file: the main document if there is none, else a bilag"""
        return services.add_attachment(get_session(), current.actor(), document_id, _stored(files["file"]))


@blp.route("/documents/<uuid:document_id>/files/<uuid:file_id>")
class DocumentFileById(MethodView):
    @blp.response(204)
    def delete(self, document_id: uuid.UUID, file_id: uuid.UUID):
        """Remove a file from a draft"""
        services.remove_file(get_session(), current.actor(), document_id, file_id)


@blp.route("/documents/<uuid:document_id>/files/<uuid:file_id>/versions")
class FileVersions(MethodView):
    @blp.arguments(s.VersionFormSchema, location="form")
    @blp.arguments(s.UploadOnlySchema, location="files")
    @blp.response(201, s.VersionSchema)
    def post(self, form, files, document_id: uuid.UUID, file_id: uuid.UUID):
        """Upload a new version of a file (drafts only)"""
        return services.add_version(get_session(), current.actor(), document_id, file_id, _stored(files["file"]), form["comment"])


@blp.route("/documents/<uuid:document_id>/files/<uuid:file_id>/content")
class FileContent(MethodView):
    @blp.arguments(s.DownloadQuerySchema, location="query")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, query, document_id: uuid.UUID, file_id: uuid.UUID):
        """Download a file's newest version, or `version` N; `inline` shows PDFs and images in the page"""
        version = services.file_version(get_session(), current.actor(), document_id, file_id, query["version"])
        inline = query["inline"] and not version.mime.startswith(_NEVER_INLINE)
        response = send_file(
            _store().open(version.sha256), mimetype=version.mime, as_attachment=not inline,
            download_name=version.filename, etag=version.sha256, conditional=True,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


@blp.route("/documents/<uuid:document_id>/comments")
class DocumentComments(MethodView):
    @blp.response(200, s.CommentSchema(many=True))
    def get(self, document_id: uuid.UUID):
        """Comments on the document"""
        return services.list_comments(get_session(), current.actor(), document_id)

    @blp.arguments(s.CommentSchema)
    @blp.response(201, s.CommentSchema)
    def post(self, body, document_id: uuid.UUID):
        """Comment on the document"""
        return services.add_comment(get_session(), current.actor(), document_id, body["text"])


@blp.route("/documents/<uuid:document_id>/references")
class DocumentReferences(MethodView):
    @blp.response(200, s.ReferenceSchema(many=True))
    def get(self, document_id: uuid.UUID):
        """References to other documents and cases (those you may see)"""
        return services.list_references(get_session(), current.actor(), document_id)

    @blp.arguments(s.ReferenceSchema)
    @blp.response(201, s.ReferenceSchema)
    def post(self, body, document_id: uuid.UUID):
        """Refer to another document or a case"""
        return services.add_reference(get_session(), current.actor(), document_id, **body)


@blp.route("/documents/<uuid:document_id>/references/<uuid:reference_id>")
class DocumentReferenceById(MethodView):
    @blp.response(204)
    def delete(self, document_id: uuid.UUID, reference_id: uuid.UUID):
        """Remove a reference"""
        services.remove_reference(get_session(), current.actor(), document_id, reference_id)


@blp.route("/documents/<uuid:document_id>/history")
class DocumentHistory(MethodView):
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, document_id: uuid.UUID, pagination_parameters):
        """Every change to the document"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, services.history(get_session(), current.actor(), document_id, offset=offset, limit=limit))


@blp.route("/cases/<uuid:case_id>/emails")
class CaseEmails(MethodView):
    @blp.arguments(s.EmailArchiveFormSchema, location="form")
    @blp.arguments(s.UploadOnlySchema, location="files")
    @blp.response(201, s.ArchivedSchema)
    @blp.alt_response(200, schema=s.ArchivedSchema, description="The same e-mail is on the case already")
    def post(self, form, files, case_id: uuid.UUID):
        """Archive an e-mail (.eml, RFC 822) into the case: body, attachments, original and metadata"""
        raw = files["file"].stream.read(MAX_EMAIL_BYTES + 1)
        if len(raw) > MAX_EMAIL_BYTES:
            raise Invalid.field("file", f"An e-mail may be at most {MAX_EMAIL_BYTES // 2**20} MB.")
        result = archive.archive_email(
            get_session(), current.actor(), _store(), raw, case_id=case_id, max_bytes=_max_bytes(), **form
        )
        return result, 200 if result.duplicate else 201


@blp.route("/trash")
class Trash(MethodView):
    @blp.response(200, s.DocumentListItemSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, pagination_parameters):
        """The trash: what I deleted, or everything for holders of trash.manage"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, trash.list_trash(get_session(), current.actor(), offset=offset, limit=limit))


@blp.route("/trash/<uuid:document_id>/restore")
class TrashRestore(MethodView):
    @blp.response(200, s.DocumentSchema)
    def post(self, document_id: uuid.UUID):
        """Take a document back out of the trash"""
        return trash.restore_document(get_session(), current.actor(), document_id)


@blp.route("/trash/<uuid:document_id>")
class TrashPurge(MethodView):
    @blp.response(204)
    def delete(self, document_id: uuid.UUID):
        """Delete a document in the trash for good (trash.manage)"""
        trash.purge_document(get_session(), current.actor(), _store(), document_id)


@blp.route("/cases/<uuid:case_id>/trash")
class CaseToTrash(MethodView):
    @blp.response(204)
    def post(self, case_id: uuid.UUID):
        """Move a case, with its documents, to the trash (cases.delete, owner or access to all cases)"""
        cases.delete_case(get_session(), current.actor(), case_id)


@blp.route("/trash/cases")
class TrashCases(MethodView):
    @blp.response(200, CaseListItemSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, pagination_parameters):
        """Cases in the trash: those I deleted, or all for holders of trash.manage"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, cases.list_deleted_cases(get_session(), current.actor(), offset=offset, limit=limit))


@blp.route("/trash/cases/<uuid:case_id>/restore")
class TrashCaseRestore(MethodView):
    @blp.response(204)
    def post(self, case_id: uuid.UUID):
        """Take a case back out of the trash"""
        cases.restore_case(get_session(), current.actor(), case_id)


@blp.route("/trash/cases/<uuid:case_id>")
class TrashCasePurge(MethodView):
    @blp.response(204)
    def delete(self, case_id: uuid.UUID):
        """Delete a case in the trash for good, with all its documents (trash.manage)"""
        trash.purge_case(get_session(), current.actor(), _store(), case_id)
