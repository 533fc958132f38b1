from marshmallow import Schema, fields


class AuditEventSchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    actor_id = fields.UUID(allow_none=True)
    actor_name = fields.Str()
    action = fields.Str()
    entity_type = fields.Str()
    entity_id = fields.UUID(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    summary = fields.Str()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AccessLogEntrySchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    user_id = fields.UUID()
    case_id = fields.UUID()
    action = fields.Str()
    channel = fields.Str()


class AccessLogQuerySchema(Schema):
    user_id = fields.UUID()
    case_id = fields.UUID()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class ChangesQuerySchema(Schema):
    entity_type = fields.Str()
    entity_id = fields.UUID()
