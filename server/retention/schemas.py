from marshmallow import Schema, fields


class DueCaseSchema(Schema):
    id = fields.UUID()
    number = fields.Str()
    template = fields.Str()
    rule = fields.Str()


class DueDocumentSchema(Schema):
    id = fields.UUID()
    case_id = fields.UUID(allow_none=True)
    document_type = fields.Str()
    document_date = fields.Date()
    rule = fields.Str()


class DueSchema(Schema):
    cases = fields.List(fields.Nested(DueCaseSchema))
    documents = fields.List(fields.Nested(DueDocumentSchema))


class DueQuerySchema(Schema):
    on = fields.Date(load_default=None, metadata={"description": "The day to count to; today if left out"})


class DisposeSchema(Schema):
    case_ids = fields.List(fields.UUID(), load_default=list)
    document_ids = fields.List(fields.UUID(), load_default=list)


class DisposalRecordSchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    actor_name = fields.Str()
    kind = fields.Str()
    reference = fields.Str()
    rule = fields.Str()
    details = fields.Dict()
