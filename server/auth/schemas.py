from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from server.auth.rights import Right, RoleCode


class LoginSchema(Schema):
    username = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=1000))


class GroupRefSchema(Schema):
    id = fields.UUID()
    name = fields.Str()


class IdentitySchema(Schema):
    provider = fields.Str()
    email = fields.Str(allow_none=True)


class UserSchema(Schema):
    id = fields.UUID(dump_only=True)
    username = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, load_default=None)
    full_name = fields.Str(load_default="", validate=validate.Length(max=300))
    active = fields.Bool(dump_only=True)
    source = fields.Str(dump_only=True)
    roles = fields.Method("_role_codes", dump_only=True)
    groups = fields.List(fields.Nested(GroupRefSchema), dump_only=True)
    identities = fields.List(fields.Nested(IdentitySchema), dump_only=True)
    last_login_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    def _role_codes(self, user):
        return sorted(r.code for r in user.roles)


class UserCreateSchema(Schema):
    username = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, load_default=None)
    full_name = fields.Str(load_default="", validate=validate.Length(max=300))
    password = fields.Str(load_default=None, load_only=True)
    roles = fields.List(fields.Str(validate=validate.OneOf([r.value for r in RoleCode])), load_default=list)
    group_ids = fields.List(fields.UUID(), load_default=list)


class UserUpdateSchema(Schema):
    username = fields.Str(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True)
    full_name = fields.Str(validate=validate.Length(max=300))
    password = fields.Str(load_only=True)
    active = fields.Bool()
    roles = fields.List(fields.Str(validate=validate.OneOf([r.value for r in RoleCode])))
    group_ids = fields.List(fields.UUID())


class UserQuerySchema(Schema):
    q = fields.Str(metadata={"description": "Part of username, name or e-mail"})
    group_id = fields.UUID()
    role = fields.Str(validate=validate.OneOf([r.value for r in RoleCode]))
    active = fields.Bool()


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    rights = fields.List(fields.Str())
    csrf_token = fields.Str(allow_none=True, metadata={"description": "Send as X-CSRF-Token on changes"})


class GroupSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(load_default="", validate=validate.Length(max=1000))
    source = fields.Str(dump_only=True)
    active = fields.Bool(dump_only=True)
    member_count = fields.Method("_member_count", dump_only=True)

    def _member_count(self, group):
        return len(group.members)


class GroupUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1, max=200))
    description = fields.Str(validate=validate.Length(max=1000))
    active = fields.Bool()
    member_ids = fields.List(fields.UUID())


class GroupQuerySchema(Schema):
    q = fields.Str()


class MemberSchema(Schema):
    user_id = fields.UUID(required=True)


class RightSchema(Schema):
    name = fields.Str()
    description = fields.Str()


class RoleSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    rights = fields.Method("_rights")

    def _rights(self, role):
        return sorted(rr.right for rr in role.rights)


class RoleRightsSchema(Schema):
    rights = fields.List(fields.Str(validate=validate.OneOf([r.value for r in Right])), required=True)


class TokenCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    expires_in_days = fields.Int(load_default=90, validate=validate.Range(min=1))


class TokenSchema(Schema):
    id = fields.UUID()
    name = fields.Str()
    prefix = fields.Str()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.Str(attribute="secret", metadata={"description": "The secret; shown only in this answer"})


class ImportReportSchema(Schema):
    created_users = fields.Int()
    updated_users = fields.Int()
    deactivated_users = fields.Int()
    created_groups = fields.Int()
    updated_groups = fields.Int()
    problems = fields.List(fields.Str())




class UserImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV export of the organisation directory: `,` or `;` separated, UTF-8 or "
            "Windows-1252, headers in English or Danish (username/brugernavn/sAMAccountName, "
            "email/e-mail, name/navn, fornavn/efternavn, groups/grupper, roles/roller, active/aktiv)"
        },
    )


class UserImportQuerySchema(Schema):
    deactivate_missing = fields.Bool(
        load_default=False, metadata={"description": "Deactivate CSV-imported users that are not in this file"}
    )
