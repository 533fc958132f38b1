from marshmallow import Schema, fields, validate

from server.admin.models import FieldEntity, FieldType


class NamedItemSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    active = fields.Bool(load_default=True)


class PartyRoleSchema(NamedItemSchema):
    description = fields.Str(load_default="", validate=validate.Length(max=1000))


class NamedItemUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    active = fields.Bool()


class PartyRoleUpdateSchema(NamedItemUpdateSchema):
    description = fields.Str(validate=validate.Length(max=1000))


class ListQuerySchema(Schema):
    include_inactive = fields.Bool(load_default=False)


class CustomFieldSchema(Schema):
    id = fields.UUID(dump_only=True)
    entity = fields.Enum(FieldEntity, by_value=True, required=True)
    key = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    label = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    section = fields.Str(load_default="", validate=validate.Length(max=200))
    type = fields.Enum(FieldType, by_value=True, required=True)
    choices = fields.List(fields.Str(), load_default=None, allow_none=True)
    required = fields.Bool(load_default=False)
    active = fields.Bool(load_default=True)
    position = fields.Int(load_default=0)


class CustomFieldUpdateSchema(Schema):
    label = fields.Str(validate=validate.Length(min=1, max=200))
    section = fields.Str(validate=validate.Length(max=200))
    choices = fields.List(fields.Str(), allow_none=True)
    required = fields.Bool()
    active = fields.Bool()
    position = fields.Int()


class CustomFieldQuerySchema(ListQuerySchema):
    entity = fields.Enum(FieldEntity, by_value=True)


class DocumentTypeSchema(NamedItemSchema):
    is_default = fields.Bool(load_default=False)
    retention_years = fields.Int(load_default=None, allow_none=True, validate=validate.Range(min=0, max=200))


class DocumentTypeUpdateSchema(NamedItemUpdateSchema):
    is_default = fields.Bool()
    retention_years = fields.Int(allow_none=True, validate=validate.Range(min=0, max=200))


class FileTypeRuleSchema(Schema):
    id = fields.UUID(dump_only=True)
    mime = fields.Str(required=True, validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+$"))
    label = fields.Str(load_default="", validate=validate.Length(max=200))
    allowed = fields.Bool(load_default=True)


class SettingSchema(Schema):
    key = fields.Str(dump_only=True)
    value = fields.Raw(required=True)
    default = fields.Raw(dump_only=True)
    description = fields.Str(dump_only=True)
