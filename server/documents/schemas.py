import json

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from server.db import get_session
from server.documents import services
from server.documents.models import ContactRole, Direction, DocumentStatus, FileRole, TextStatus


class JsonObject(fields.Dict):
    """A JSON object, also when it arrives as the text of a form field beside a multipart upload."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError("Not valid JSON.") from None
        return super()._deserialize(value, attr, data, **kwargs)


class ContactLinkSchema(Schema):
    contact_id = fields.UUID(required=True)
    role = fields.Enum(ContactRole, by_value=True, required=True)


class VersionSchema(Schema):
    id = fields.UUID()
    number = fields.Int()
    filename = fields.Str()
    mime = fields.Str()
    size = fields.Int()
    sha256 = fields.Str()
    comment = fields.Str()
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    text_status = fields.Enum(TextStatus, by_value=True)
    text_reason = fields.Str(allow_none=True)


class FileSchema(Schema):
    id = fields.UUID()
    role = fields.Enum(FileRole, by_value=True)
    name = fields.Str()
    versions = fields.List(fields.Nested(VersionSchema))


class DocumentSchema(Schema):
    id = fields.UUID()
    title = fields.Str()
    description = fields.Str()
    case_id = fields.UUID(allow_none=True)
    folder_id = fields.UUID(allow_none=True)
    owner_user_id = fields.UUID(allow_none=True)
    shared_group_id = fields.UUID(allow_none=True)
    status = fields.Enum(DocumentStatus, by_value=True)
    document_type_id = fields.UUID(allow_none=True)
    document_date = fields.Date(allow_none=True)
    direction = fields.Enum(Direction, by_value=True)
    tags = fields.Method("_tags")
    contacts = fields.List(fields.Nested(ContactLinkSchema))
    custom_fields = fields.Method("_custom_fields", data_key="fields", metadata={
        "description": "Custom fields (konfigurerbare felter): key → value"
    })
    files = fields.List(fields.Nested(FileSchema))
    email_message_id = fields.Str(allow_none=True)
    created_by_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    finalised_at = fields.DateTime(allow_none=True)
    deleted_at = fields.DateTime(allow_none=True)

    def _tags(self, doc):
        return sorted(t.tag for t in doc.tags)

    def _custom_fields(self, doc):
        return services.field_values(get_session(), doc)


class DocumentListItemSchema(Schema):
    id = fields.UUID()
    title = fields.Str()
    case_id = fields.UUID(allow_none=True)
    folder_id = fields.UUID(allow_none=True)
    status = fields.Enum(DocumentStatus, by_value=True)
    document_type_id = fields.UUID(allow_none=True)
    document_date = fields.Date(allow_none=True)
    direction = fields.Enum(Direction, by_value=True)
    updated_at = fields.DateTime()


class PlacementFormSchema(Schema):
    """Where new documents go and their metadata, sent as form fields beside the files of a multipart upload."""

    case_id = fields.UUID(load_default=None)
    folder_id = fields.UUID(load_default=None)
    shared_group_id = fields.UUID(load_default=None)
    document_type_id = fields.UUID(load_default=None)
    document_date = fields.Date(load_default=None)
    direction = fields.Enum(Direction, by_value=True, load_default=Direction.INTERNAL)
    description = fields.Str(load_default="")
    tags = fields.List(fields.Str(), load_default=list)


class DocumentFormSchema(PlacementFormSchema):
    title = fields.Str(load_default=None, validate=validate.Length(max=500))
    custom_fields = JsonObject(keys=fields.Str(), load_default=dict, data_key="fields", metadata={
        "description": "Custom fields as a JSON object (field key → value); required fields must be there"
    })


class DocumentBatchFormSchema(PlacementFormSchema):
    titles = fields.List(fields.Str(validate=validate.Length(max=500)), load_default=list,
                         metadata={"description": "A title per file, in the files' order (repeat the field); "
                                                  "left out or empty: the file's name"})


class DocumentBatchFilesSchema(Schema):
    files = fields.List(Upload(), required=True, metadata={"description": "The files, one document each; repeat the field"})


class FileErrorSchema(Schema):
    index = fields.Int(metadata={"description": "The file's position in the upload, from 0"})
    filename = fields.Str()
    message = fields.Str()


class CreatedDocumentSchema(Schema):
    index = fields.Int(metadata={"description": "The file's position in the upload, from 0"})
    document = fields.Nested(DocumentListItemSchema)


class DocumentBatchSchema(Schema):
    documents = fields.List(fields.Nested(CreatedDocumentSchema))
    errors = fields.List(fields.Nested(FileErrorSchema), metadata={"description": "The files refused, each with why"})


class DocumentFilesSchema(Schema):
    file = Upload(metadata={"description": "The main document"})
    attachments = fields.List(Upload(), load_default=list, metadata={"description": "Bilag; repeat the field"})


class DocumentUpdateSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=500))
    description = fields.Str()
    document_type_id = fields.UUID(allow_none=True)
    document_date = fields.Date(allow_none=True)
    direction = fields.Enum(Direction, by_value=True)
    folder_id = fields.UUID(allow_none=True)
    tags = fields.List(fields.Str())
    contacts = fields.List(fields.Nested(ContactLinkSchema))
    custom_fields = fields.Dict(keys=fields.Str(), data_key="fields", metadata={
        "description": "Custom fields to set (field key → value; null clears); those left out keep their values"
    })


class DocumentQuerySchema(Schema):
    scope = fields.Str(load_default="mine", validate=validate.OneOf(["mine", "shared", "case"]))
    case_id = fields.UUID()
    folder_id = fields.UUID()
    status = fields.Enum(DocumentStatus, by_value=True)
    document_type_id = fields.UUID()
    tag = fields.Str()
    q = fields.Str()


class DocumentStatusSchema(Schema):
    status = fields.Enum(DocumentStatus, by_value=True, required=True)


class MoveSchema(Schema):
    case_id = fields.UUID(required=True)
    folder_id = fields.UUID(load_default=None)


class UploadOnlySchema(Schema):
    file = Upload(required=True)


class VersionFormSchema(Schema):
    comment = fields.Str(load_default="", validate=validate.Length(max=1000))


class DownloadQuerySchema(Schema):
    version = fields.Int(load_default=None, validate=validate.Range(min=1))
    inline = fields.Bool(load_default=False)


class CommentSchema(Schema):
    id = fields.UUID(dump_only=True)
    text = fields.Str(required=True, validate=validate.Length(min=1, max=20_000))
    author_id = fields.UUID(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class ReferenceSchema(Schema):
    id = fields.UUID(dump_only=True)
    target_document_id = fields.UUID(load_default=None, allow_none=True)
    target_case_id = fields.UUID(load_default=None, allow_none=True)
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class EmailArchiveFormSchema(Schema):
    folder_id = fields.UUID(load_default=None)
    document_type_id = fields.UUID(load_default=None)
    final = fields.Bool(load_default=False)
    keep_attachments = fields.List(fields.Str(), load_default=None,
                                   metadata={"description": "Attachment filenames to keep; left out keeps all"})


class ArchivedSchema(Schema):
    duplicate = fields.Bool()
    document = fields.Nested(DocumentSchema)
