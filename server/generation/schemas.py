from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from server.generation.wordfill import FieldUse
from server.generation.models import MergeKind, MergeStatus


class TemplateSchema(Schema):
    id = fields.UUID()
    name = fields.Str()
    description = fields.Str()
    document_type_id = fields.UUID(allow_none=True)
    case_template_ids = fields.List(fields.UUID())
    for_merge = fields.Bool()
    active = fields.Bool()
    version = fields.Int()
    fields_ = fields.Method("_fields", data_key="fields", metadata={"description": "The fields the template uses"})
    filename = fields.Function(lambda t: t.current.filename)
    updated_at = fields.DateTime()

    def _fields(self, template):
        return [FieldUse(tuple(path)).name for path in template.current.fields]


class TemplateQuerySchema(Schema):
    case_template_id = fields.UUID(load_default=None)
    for_merge = fields.Bool(load_default=None)
    include_inactive = fields.Bool(load_default=False)


class TemplateFormSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(load_default="")
    document_type_id = fields.UUID(load_default=None)
    case_template_ids = fields.List(fields.UUID(), load_default=list)
    for_merge = fields.Bool(load_default=False, metadata={"description": "Fields not in the catalogue are merge columns"})


class TemplateFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The Word template (.docx)"})


class TemplateUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    description = fields.Str()
    document_type_id = fields.UUID(allow_none=True)
    case_template_ids = fields.List(fields.UUID())
    for_merge = fields.Bool()
    active = fields.Bool()


class VersionQuerySchema(Schema):
    version = fields.Int(load_default=None)


class CatalogueFieldSchema(Schema):
    name = fields.Str()
    parts = fields.List(fields.Str(), allow_none=True)
    is_list = fields.Bool()


class RenderSchema(Schema):
    case_id = fields.UUID(load_default=None)
    recipient_contact_id = fields.UUID(load_default=None)
    values = fields.Dict(keys=fields.Str(), load_default=dict, metadata={"description": "Extra fields by name"})
    format = fields.Str(load_default="docx", validate=validate.OneOf(["docx", "pdf"]))


class GenerateSchema(Schema):
    template_id = fields.UUID(required=True)
    title = fields.Str(load_default=None, validate=validate.Length(max=500))
    recipient_contact_id = fields.UUID(load_default=None)
    values = fields.Dict(keys=fields.Str(), load_default=dict)
    folder_id = fields.UUID(load_default=None)


class MergeFormSchema(Schema):
    template_id = fields.UUID(load_default=None, metadata={"description": "For a sheet: the template to fill"})
    id_column = fields.Str(load_default=None, metadata={"description": "The column with the recipient numbers"})
    id_type = fields.Str(load_default=None, validate=validate.OneOf(["cpr", "cvr", "p_number"]))
    pattern = fields.Str(load_default=None, metadata={"description": "For a PDF: a regular expression for the number"})
    region = fields.List(fields.Float(validate=validate.Range(0, 1)), load_default=None,
                         validate=validate.Length(equal=4),
                         metadata={"description": "For a PDF: left, top, right, bottom as fractions of the page"})
    every_page = fields.Bool(load_default=False)


class MergeFilesSchema(Schema):
    sheet = Upload(metadata={"description": "An Excel sheet (.xlsx) or CSV file, one row per recipient"})
    pdf = Upload(metadata={"description": "A merged PDF of many letters, to split by recipient number"})
    attachments = fields.List(Upload(), load_default=list, metadata={"description": "Files rows name in a Bilag column"})


class MergeUploadSchema(MergeFormSchema, MergeFilesSchema):
    """The multipart form of POST /merges (documentation)."""


class MergeTableSchema(Schema):
    template_id = fields.UUID(required=True)
    header = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(min=1))
    rows = fields.List(fields.List(fields.Raw(allow_none=True)), required=True)
    id_column = fields.Str(load_default=None)
    id_type = fields.Str(load_default=None, validate=validate.OneOf(["cpr", "cvr", "p_number"]))
    first_row = fields.Int(load_default=2, validate=validate.Range(min=1),
                           metadata={"description": "The sheet row number of rows[0], for row-precise problems"})


class ProblemSchema(Schema):
    row = fields.Int(allow_none=True, metadata={"description": "Sheet row (or PDF page) the problem is in"})
    column = fields.Str(allow_none=True)
    message = fields.Str()


class MergeSchema(Schema):
    id = fields.UUID()
    kind = fields.Enum(MergeKind, by_value=True)
    status = fields.Enum(MergeStatus, by_value=True)
    ready = fields.Function(lambda m: m.status is MergeStatus.READY)
    template_id = fields.UUID(allow_none=True)
    source_filename = fields.Str()
    columns = fields.List(fields.Str())
    id_column = fields.Str(allow_none=True)
    row_count = fields.Int()
    rendered_count = fields.Int()
    problems = fields.List(fields.Nested(ProblemSchema))
    notes = fields.List(fields.Str())
    error = fields.Str(allow_none=True)
    dispatch_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class MergeRowSchema(Schema):
    row = fields.Int()
    recipient = fields.Str(allow_none=True, metadata={"description": "CPR masked without contacts.view_cpr"})
    status = fields.Str(metadata={"description": "invalid | pending | ready | queued | sent | delivered | to_print | failed"})
    problem = fields.Str(allow_none=True)
    letter_id = fields.UUID(allow_none=True)
    pages = fields.List(fields.Int())


class MergeDispatchSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=256))
    sender_identity_id = fields.UUID(required=True)
    case_id = fields.UUID(load_default=None)
    send_at = fields.AwareDateTime(load_default=None)
