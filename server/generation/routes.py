import io
import uuid

from flask import current_app, request, send_file
from flask.views import MethodView
from marshmallow import ValidationError

from server.api import blueprint, page_window, paged
from server.auth import current
from server.db import get_session
from server.documents import services as documents
from server.documents.schemas import DocumentSchema
from server.errors import Invalid
from server.generation import fields as catalogue
from server.generation import merge, services, sheets, templates
from server.generation import schemas as s
from server.post import views as post_views
from server.post.schemas import DispatchSchema

blp = blueprint("generation", "", "Document templates, generated documents, PDF previews, mail merge and merged-PDF split")

_MERGE_BODY = {
    "content": {
        "multipart/form-data": {"schema": s.MergeUploadSchema},
        "application/json": {"schema": s.MergeTableSchema},
    }
}


def _store():
    return current_app.extensions["sagspost.blobs"]


def _pdf(data: bytes, filename: str):
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _read(upload, limit_mb: int) -> bytes:
    data = upload.stream.read(limit_mb * 2**20 + 1)
    if len(data) > limit_mb * 2**20:
        raise Invalid.field("file", f"The file is larger than the limit of {limit_mb} MB.")
    return data


def _limit() -> int:
    return current_app.config["SAGSPOST"].max_upload_mb


@blp.route("/document-templates")
class Templates(MethodView):
    @blp.arguments(s.TemplateQuerySchema, location="query")
    @blp.response(200, s.TemplateSchema(many=True))
    def get(self, query):
        """Document templates, optionally those offered on cases of one case template"""
        current.actor()
        return templates.list_templates(get_session(), **query)

    @blp.arguments(s.TemplateFormSchema, location="form")
    @blp.arguments(s.TemplateFileSchema, location="files")
    @blp.response(201, s.TemplateSchema)
    def post(self, form, files):
        """Upload a Word template; every field it uses is checked now (unknown ones are named in the 422)"""
        upload = files["file"]
        return templates.create_template(get_session(), current.actor(), _store(), data=_read(upload, _limit()),
                                         filename=upload.filename or "", **form)


@blp.route("/document-templates/fields")
class TemplateFields(MethodView):
    @blp.response(200, s.CatalogueFieldSchema(many=True))
    def get(self):
        """The fields templates can use (Jinja `{{ sag.nummer }}` or MERGEFIELD sag.nummer)"""
        current.actor()
        return [{"name": name, "parts": list(parts) if parts else None, "is_list": name in catalogue.LISTS}
                for name, parts in catalogue.CATALOGUE.items()]


@blp.route("/document-templates/<uuid:template_id>")
class TemplateById(MethodView):
    @blp.response(200, s.TemplateSchema)
    def get(self, template_id: uuid.UUID):
        """One document template"""
        current.actor()
        return templates.require_template(get_session(), template_id)

    @blp.arguments(s.TemplateUpdateSchema)
    @blp.response(200, s.TemplateSchema)
    def patch(self, changes, template_id: uuid.UUID):
        """Rename, describe, retire or re-link a template"""
        return templates.update_template(get_session(), current.actor(), template_id, changes)


@blp.route("/document-templates/<uuid:template_id>/versions")
class TemplateVersions(MethodView):
    @blp.arguments(s.TemplateFileSchema, location="files")
    @blp.response(201, s.TemplateSchema)
    def post(self, files, template_id: uuid.UUID):
        """Upload a new version of the template (checked like the first)"""
        upload = files["file"]
        return templates.add_version(get_session(), current.actor(), _store(), template_id,
                                     _read(upload, _limit()), upload.filename or "")


@blp.route("/document-templates/<uuid:template_id>/content")
class TemplateContent(MethodView):
    @blp.arguments(s.VersionQuerySchema, location="query")
    @blp.response(200, content_type=services.DOCX)
    def get(self, query, template_id: uuid.UUID):
        """Download the template's Word file (the newest version, or `version` N)"""
        current.actor()
        stream, filename = templates.content(get_session(), _store(), template_id, query["version"])
        return send_file(stream, mimetype=services.DOCX, as_attachment=True, download_name=filename)


@blp.route("/document-templates/<uuid:template_id>/render")
class TemplateRender(MethodView):
    @blp.arguments(s.RenderSchema)
    @blp.response(200, content_type=services.DOCX)
    def post(self, body, template_id: uuid.UUID):
        """The template filled from a case, a recipient and extra values, as .docx (to insert in Word) or PDF"""
        data, filename, mime = services.render(get_session(), current.actor(), _store(), template_id,
                                               fmt=body.pop("format"), **body)
        return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=filename)


@blp.route("/cases/<uuid:case_id>/generate")
class GenerateOnCase(MethodView):
    @blp.arguments(s.GenerateSchema)
    @blp.response(201, DocumentSchema)
    def post(self, body, case_id: uuid.UUID):
        """Make a draft document on the case from a template, its fields filled from the case"""
        return services.generate_on_case(get_session(), current.actor(), _store(), case_id, body.pop("template_id"),
                                         **body)


@blp.route("/documents/<uuid:document_id>/pdf")
class DocumentPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, document_id: uuid.UUID):
        """The document's main file as PDF (converted when it is a Word, Excel, OpenDocument or RTF file)"""
        data, filename = services.document_pdf(get_session(), current.actor(), _store(), document_id)
        return _pdf(data, filename)


@blp.route("/merges")
class Merges(MethodView):
    @blp.doc(requestBody=_MERGE_BODY)
    @blp.response(201, s.MergeSchema)
    def post(self):
        """Start a mail merge from a sheet (+ template) or a merged PDF; every row or page is checked first

        Multipart: `sheet` (.xlsx/.csv) with `template_id`, or `pdf`; `attachments` named in a Bilag column.
        JSON: the add-ins send the sheet's values: {template_id, header, rows, id_column, first_row}.
        """
        actor, session = current.actor(), get_session()
        if request.is_json:
            body = _loaded(s.MergeTableSchema(), request.get_json(silent=True))
            table = sheets.from_values(body["header"], body["rows"], body["first_row"])
            return merge.create_from_table(session, actor, table=table, template_id=body["template_id"],
                                           id_column=body["id_column"], id_type=body["id_type"])
        form = _loaded(s.MergeFormSchema(), _form_values(request.form))
        files = request.files
        if files.get("pdf"):
            return merge.create_from_pdf(session, actor, _store(), data=_read(files["pdf"], _limit()),
                                         filename=files["pdf"].filename or "", pattern=form["pattern"],
                                         region=form["region"], every_page=form["every_page"])
        if not files.get("sheet"):
            raise Invalid.field("sheet", "Upload a sheet (.xlsx or .csv) with a template, or a merged PDF.")
        if form["template_id"] is None:
            raise Invalid.field("template_id", "Choose the template the sheet's rows fill.")
        upload = files["sheet"]
        data = _read(upload, _limit())
        attachments = [merge.UploadedFile(**_stored_attachment(f)) for f in files.getlist("attachments")]
        blob = _store().put_bytes(data)
        return merge.create_from_table(session, actor, table=sheets.read_table(data, upload.filename or ""),
                                       template_id=form["template_id"], id_column=form["id_column"],
                                       id_type=form["id_type"], source_filename=upload.filename or "",
                                       source_sha256=blob.sha256, attachments=attachments)


def _loaded(schema, data) -> dict:
    """The body this endpoint reads itself (JSON or a form): a 422 naming the fields, as @blp.arguments gives."""
    try:
        return schema.load(data if data is not None else {})
    except ValidationError as error:
        fields_ = error.messages if isinstance(error.messages, dict) else {"body": error.messages}
        first = next(iter(fields_.items()))
        raise Invalid(f"{first[0]}: {first[1]}", errors=fields_) from None


def _form_values(form) -> dict:
    """The form's fields; `region` is sent as "left,top,right,bottom"."""
    values = form.to_dict()
    if values.get("region"):
        values["region"] = values["region"].split(",")
    return values


def _stored_attachment(upload) -> dict:
    stored = documents.store_upload(get_session(), _store(), documents.Upload(upload.stream, upload.filename or ""),
                                    _limit() * 2**20)
    return {"filename": upload.filename or stored.filename, "sha256": stored.sha256, "size": stored.size,
            "mime": stored.mime}


@blp.route("/merges/<uuid:merge_id>")
class MergeById(MethodView):
    @blp.response(200, s.MergeSchema)
    def get(self, merge_id: uuid.UUID):
        """A merge: its status, columns and every problem found"""
        return merge.get_merge(get_session(), current.actor(), merge_id)


@blp.route("/merges/<uuid:merge_id>/rows")
class MergeRows(MethodView):
    @blp.response(200, s.MergeRowSchema(many=True))
    @blp.paginate(page_size=500)
    def get(self, merge_id: uuid.UUID, pagination_parameters):
        """Each row's recipient (masked) and live status; after sending, the letter's status"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, merge.row_views(get_session(), current.actor(), merge_id,
                                                            offset=offset, limit=limit))


@blp.route("/merges/<uuid:merge_id>/rows/<int:row>/preview")
class MergeRowPreview(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, merge_id: uuid.UUID, row: int):
        """The PDF of one row's letter, exactly as it will be sent"""
        session, actor = get_session(), current.actor()
        found = merge.get_merge(session, actor, merge_id)
        data = merge.preview(session, _store(), found, row, services.base_context(session, actor))
        return _pdf(data, f"brev-{row}.pdf")


@blp.route("/merges/<uuid:merge_id>/dispatch")
class MergeDispatch(MethodView):
    @blp.arguments(s.MergeDispatchSchema)
    @blp.response(201, DispatchSchema)
    def post(self, body, merge_id: uuid.UUID):
        """Send every letter of a ready merge as one Digital Post dispatch"""
        session, actor = get_session(), current.actor()
        sent = merge.dispatch(session, actor, _store(), current_app.extensions["sagspost.registers"], merge_id, **body)
        return post_views.dispatch_view(session, sent)
