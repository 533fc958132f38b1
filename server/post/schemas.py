from marshmallow import Schema, fields, validate

from server.post.models import Channel, DispatchStatus, LetterKind, LetterStatus


class SenderIdentitySchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    cvr = fields.Str(required=True)
    active = fields.Bool(dump_only=True)


class SenderIdentityUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    active = fields.Bool()


class SendingRuleSchema(Schema):
    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(load_default=None, allow_none=True)
    group_id = fields.UUID(load_default=None, allow_none=True)
    requires_approval = fields.Bool(load_default=False)


class RecipientSchema(Schema):
    type = fields.Str(required=True, validate=validate.OneOf(["cpr", "cvr", "p_number", "contact"]))
    number = fields.Str(load_default=None, metadata={"description": "CPR, CVR or P-number (in the body, never a URL)"})
    contact_id = fields.UUID(load_default=None)
    copies = fields.List(fields.Str(), load_default=list, metadata={"description": "CPR numbers that get a copy"})
    include_guardians = fields.Bool(load_default=False,
                                    metadata={"description": "Send copies to the custody holders of a child under 15"})
    main_document_id = fields.UUID(load_default=None, metadata={"description": "This recipient's own letter (merge)"})
    attachment_document_ids = fields.List(fields.UUID(), load_default=list)
    case_id = fields.UUID(load_default=None, metadata={"description": "Archive this recipient's letter on this case"})


class AboutSchema(Schema):
    type = fields.Str(required=True, validate=validate.OneOf(["cpr", "cvr", "contact"]))
    number = fields.Str(load_default=None)
    contact_id = fields.UUID(load_default=None)


class ActionSchema(Schema):
    label = fields.Str(required=True, validate=validate.Length(min=1, max=256))
    url = fields.Str(required=True)
    action_code = fields.Str(load_default="SELVBETJENING")


class DispatchCreateSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=256))
    sender_identity_id = fields.UUID(required=True)
    recipients = fields.List(fields.Nested(RecipientSchema), required=True, validate=validate.Length(min=1))
    main_document_id = fields.UUID(load_default=None, metadata={"description": "The letter (PDF) common to all"})
    attachment_document_ids = fields.List(fields.UUID(), load_default=list,
                                          metadata={"description": "Bilag common to all recipients"})
    about = fields.Nested(AboutSchema, load_default=None)
    case_id = fields.UUID(load_default=None)
    mandatory = fields.Bool(load_default=False)
    legal_notification = fields.Bool(load_default=False)
    reply_allowed = fields.Bool(load_default=False)
    actions = fields.List(fields.Nested(ActionSchema), load_default=list)
    memo_version = fields.Str(load_default="1.2", validate=validate.OneOf(["1.1", "1.2"]))
    send_at = fields.AwareDateTime(load_default=None, metadata={"description": "Send later (deferred)"})


class DispatchSchema(Schema):
    id = fields.UUID()
    title = fields.Str()
    sender_identity_id = fields.UUID()
    created_by_id = fields.UUID()
    status = fields.Enum(DispatchStatus, by_value=True)
    send_at = fields.DateTime(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    mandatory = fields.Bool()
    legal_notification = fields.Bool()
    reply_allowed = fields.Bool()
    memo_version = fields.Str()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    counts = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata={"description": "Letters per status"})


class DispatchQuerySchema(Schema):
    status = fields.Enum(DispatchStatus, by_value=True)


class LetterSchema(Schema):
    id = fields.UUID()
    message_uuid = fields.UUID()
    kind = fields.Enum(LetterKind, by_value=True)
    copy_of_id = fields.UUID(allow_none=True)
    recipient = fields.Dict(metadata={"description": "The recipient contact; CPR masked without contacts.view_cpr"})
    p_number = fields.Str(allow_none=True)
    status = fields.Enum(LetterStatus, by_value=True)
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    recipient_state = fields.Str(allow_none=True)
    provider_answer = fields.Str(allow_none=True)
    attempts = fields.Int()
    queued_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    archived_document_id = fields.UUID(allow_none=True)


class LetterQuerySchema(Schema):
    status = fields.Enum(LetterStatus, by_value=True)


class PreviewFileSchema(Schema):
    position = fields.Int()
    role = fields.Str()
    filename = fields.Str()
    mime = fields.Str()
    size = fields.Int()
    url = fields.Str()


class RecipientCheckSchema(Schema):
    type = fields.Str(required=True, validate=validate.OneOf(["cpr", "cvr", "p_number"]))
    number = fields.Str(required=True)


class GuardianSchema(Schema):
    name = fields.Str()
    cpr = fields.Str(metadata={"description": "Masked unless contacts.view_cpr"})


class RecipientCheckResultSchema(Schema):
    name = fields.Str(allow_none=True)
    address = fields.Str(allow_none=True)
    state = fields.Str(metadata={"description": "registered, exempt, closed or unknown"})
    channel = fields.Str(metadata={"description": "digital, or print when the letter would be set aside"})
    is_child = fields.Bool()
    guardians = fields.List(fields.Nested(GuardianSchema))
    cvr = fields.Str(allow_none=True, metadata={"description": "The owning company of a P-number"})


class StatisticsQuerySchema(Schema):
    by = fields.Str(load_default="month", validate=validate.OneOf(["month", "sender", "group"]))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)


class StatisticsRowSchema(Schema):
    key = fields.Str()
    label = fields.Str()
    digital = fields.Int()
    print = fields.Int()
    failed = fields.Int()
    total = fields.Int()
