from marshmallow import Schema, fields, validate

from server.cases.models import AccessLevel, CaseAccess, CaseStatus, TemplateAccess


class JournalPlanSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(load_default="", validate=validate.Length(max=1000))
    active = fields.Bool(dump_only=True)


class JournalPlanUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    description = fields.Str(validate=validate.Length(max=1000))
    active = fields.Bool()


class JournalKeySchema(Schema):
    id = fields.UUID(dump_only=True)
    plan_id = fields.UUID(dump_only=True)
    parent_id = fields.UUID(allow_none=True, load_default=None)
    number = fields.Str(required=True, validate=validate.Length(min=1, max=50))
    title = fields.Str(required=True, validate=validate.Length(min=1, max=500))
    description = fields.Str(load_default="")
    active = fields.Bool(dump_only=True)


class JournalKeyUpdateSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=500))
    description = fields.Str()
    active = fields.Bool()


class JournalTreeNodeSchema(Schema):
    id = fields.UUID()
    number = fields.Str()
    title = fields.Str()
    active = fields.Bool()
    is_leaf = fields.Bool()
    children = fields.List(fields.Nested(lambda: JournalTreeNodeSchema()))


class KeyTreeQuerySchema(Schema):
    include_inactive = fields.Bool(load_default=False)


class TemplateMemberSchema(Schema):
    user_id = fields.UUID(allow_none=True, load_default=None)
    group_id = fields.UUID(allow_none=True, load_default=None)
    access = fields.Enum(AccessLevel, by_value=True, load_default=AccessLevel.WRITE)


class StandardDocumentSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=300))
    document_type = fields.Str(load_default=None, allow_none=True)
    folder = fields.Str(load_default=None, allow_none=True)


class CaseTemplateSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(load_default="", validate=validate.Length(max=1000))
    title_pattern = fields.Str(
        load_default="{template}", validate=validate.Length(min=1, max=500),
        metadata={"description": "Placeholders: {template} {number} {year} {date} {journal_key} "
                                 "{journal_key_number} {journal_key_title}"},
    )
    journal_key_id = fields.UUID(allow_none=True, load_default=None)
    access = fields.Enum(TemplateAccess, by_value=True, load_default=TemplateAccess.GROUP)
    owner_group_id = fields.UUID(allow_none=True, load_default=None)
    members = fields.List(fields.Nested(TemplateMemberSchema), load_default=list)
    standard_folders = fields.List(fields.Str(validate=validate.Length(min=1, max=200)), load_default=list)
    standard_documents = fields.List(fields.Nested(StandardDocumentSchema), load_default=list)
    retention_years = fields.Int(allow_none=True, load_default=None, validate=validate.Range(min=0, max=200))
    retention_from = fields.Str(load_default="closed", validate=validate.OneOf(["closed", "created"]))
    with_work_plan = fields.Bool(load_default=False)
    active = fields.Bool(load_default=True)


class CaseTemplateUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    description = fields.Str(validate=validate.Length(max=1000))
    title_pattern = fields.Str(validate=validate.Length(min=1, max=500))
    journal_key_id = fields.UUID(allow_none=True)
    access = fields.Enum(TemplateAccess, by_value=True)
    owner_group_id = fields.UUID(allow_none=True)
    members = fields.List(fields.Nested(TemplateMemberSchema))
    standard_folders = fields.List(fields.Str(validate=validate.Length(min=1, max=200)))
    standard_documents = fields.List(fields.Nested(StandardDocumentSchema))
    retention_years = fields.Int(allow_none=True, validate=validate.Range(min=0, max=200))
    retention_from = fields.Str(validate=validate.OneOf(["closed", "created"]))
    with_work_plan = fields.Bool()
    active = fields.Bool()


class TemplateQuerySchema(Schema):
    include_inactive = fields.Bool(load_default=False)


class PartyInputSchema(Schema):
    contact_id = fields.UUID(required=True)
    role_id = fields.UUID(allow_none=True, load_default=None)
    is_primary = fields.Bool(load_default=False)
    note = fields.Str(load_default="", validate=validate.Length(max=1000))


class PartyUpdateSchema(Schema):
    role_id = fields.UUID(allow_none=True)
    is_primary = fields.Bool()
    note = fields.Str(validate=validate.Length(max=1000))


class ContactSummarySchema(Schema):
    id = fields.UUID()
    kind = fields.Str()
    name = fields.Str()
    cpr = fields.Str(allow_none=True)
    cvr = fields.Str(allow_none=True)
    p_number = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)


class PartySchema(Schema):
    id = fields.UUID()
    contact = fields.Nested(ContactSummarySchema)
    role_id = fields.UUID(allow_none=True)
    role = fields.Str(allow_none=True)
    is_primary = fields.Bool()
    note = fields.Str()


class CaseCreateSchema(Schema):
    template_id = fields.UUID(required=True)
    title = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500),
                       metadata={"description": "Left out: made from the template's title pattern"})
    description = fields.Str(load_default="")
    journal_key_id = fields.UUID(allow_none=True, load_default=None)
    owner_user_id = fields.UUID(allow_none=True, load_default=None)
    owner_group_id = fields.UUID(allow_none=True, load_default=None)
    unassigned = fields.Bool(load_default=False, metadata={"description": "Leave it to the owning group (ikke tildelt)"})
    tags = fields.List(fields.Str(), load_default=list)
    custom_fields = fields.Dict(keys=fields.Str(), load_default=dict, data_key="fields",
                                metadata={"description": "Custom field values by key"})
    parties = fields.List(fields.Nested(PartyInputSchema), load_default=list)


class CaseUpdateSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=500))
    description = fields.Str()
    journal_key_id = fields.UUID(allow_none=True)
    access = fields.Enum(CaseAccess, by_value=True)
    tags = fields.List(fields.Str())
    custom_fields = fields.Dict(keys=fields.Str(), data_key="fields")


class StatusSchema(Schema):
    status = fields.Enum(CaseStatus, by_value=True, required=True)


class AssignSchema(Schema):
    user_id = fields.UUID(allow_none=True, required=True, metadata={"description": "null leaves it unassigned in its group"})
    group_id = fields.UUID(allow_none=True, load_default=None)


class FolderSchema(Schema):
    id = fields.UUID()
    name = fields.Str()


class CaseListItemSchema(Schema):
    id = fields.UUID()
    number = fields.Str()
    title = fields.Str()
    status = fields.Enum(CaseStatus, by_value=True)
    template_id = fields.UUID()
    journal_key_id = fields.UUID(allow_none=True)
    owner_user_id = fields.UUID(allow_none=True)
    owner_group_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CaseSchema(CaseListItemSchema):
    description = fields.Str()
    access = fields.Enum(CaseAccess, by_value=True)
    template = fields.Str()
    journal_key = fields.Str(allow_none=True)
    owner_user = fields.Str(allow_none=True)
    owner_group = fields.Str(allow_none=True)
    created_by_id = fields.UUID(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    tags = fields.List(fields.Str())
    custom_fields = fields.Dict(data_key="fields")
    folders = fields.List(fields.Nested(FolderSchema))
    my_access = fields.Str(metadata={"description": "read, write or manage"})


class CaseQuerySchema(Schema):
    scope = fields.Str(load_default="all", validate=validate.OneOf(["all", "mine", "unassigned"]))
    status = fields.Enum(CaseStatus, by_value=True)
    journal_key_id = fields.UUID()
    template_id = fields.UUID()
    owner_user_id = fields.UUID()
    owner_group_id = fields.UUID()
    tag = fields.Str()
    q = fields.Str(metadata={"description": "Part of the title or number"})
    field = fields.List(fields.Str(), data_key="field", metadata={"description": "Custom field filter key:value or key:from..to; repeatable"})
    party_contact_id = fields.UUID()
    sort = fields.Str(load_default="-updated_at")


class CaseMemberInputSchema(Schema):
    user_id = fields.UUID(allow_none=True, load_default=None)
    group_id = fields.UUID(allow_none=True, load_default=None)
    access = fields.Enum(AccessLevel, by_value=True, load_default=AccessLevel.WRITE)


class CaseMemberSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID(allow_none=True)
    group_id = fields.UUID(allow_none=True)
    access = fields.Enum(AccessLevel, by_value=True)


class NoteSchema(Schema):
    id = fields.UUID(dump_only=True)
    text = fields.Str(required=True, validate=validate.Length(min=1, max=100_000))
    category_id = fields.UUID(allow_none=True, load_default=None)
    author_id = fields.UUID(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class NoteUpdateSchema(Schema):
    text = fields.Str(validate=validate.Length(min=1, max=100_000))
    category_id = fields.UUID(allow_none=True)


class KleImportSchema(Schema):
    plan_name = fields.Str(load_default="KLE")


class KleReportSchema(Schema):
    plan_id = fields.UUID()
    created = fields.Int()
    updated = fields.Int()
    deactivated = fields.Int()
