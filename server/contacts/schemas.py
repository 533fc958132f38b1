from marshmallow import Schema, ValidationError, fields, pre_load, validate

from server.contacts.models import ContactKind

_KINDS = [k.value for k in ContactKind]


def _text(max_length: int, description: str = "", **kw):
    return fields.Str(allow_none=True, validate=validate.Length(max=max_length), metadata={"description": description}, **kw)


class ContactFieldsSchema(Schema):
    """What a caller may set on a contact; numbers are checked by the service, which names the problem."""

    name = _text(300, "Organisations: the name. Persons: the display name (default: first and last name)")
    first_name = _text(200, "Persons only")
    last_name = _text(200, "Persons only")
    cpr = _text(20, "Persons only: DDMMYY-SSSS or DDMMYYSSSS")
    cvr = _text(20, "Organisations only: 8 digits")
    p_number = _text(20, "Organisations only: 10 digits")
    co = _text(300, "c/o line of the address")
    street = _text(300)
    postal_code = _text(20)
    city = _text(200)
    country = _text(2, "ISO 3166-1 alpha-2, e.g. DK")
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = _text(50)


class ContactCreateSchema(ContactFieldsSchema):
    kind = fields.Str(required=True, validate=validate.OneOf(_KINDS))


class ContactUpdateSchema(ContactFieldsSchema):
    """Only the fields sent are changed; null or an empty string clears a field."""


class ContactSchema(Schema):
    """A contact as shown; dumped from services.contact_details, where the CPR number is masked
    unless the actor may see it. Dumping a Contact row directly gives no CPR at all."""

    id = fields.UUID()
    kind = fields.Str()
    name = fields.Str()
    first_name = fields.Str(allow_none=True)
    last_name = fields.Str(allow_none=True)
    cpr = fields.Method("_cpr", allow_none=True, metadata={"description": "DDMMYY-xxxx unless you hold contacts.view_cpr"})
    birth_date = fields.Date(allow_none=True)
    cvr = fields.Str(allow_none=True)
    p_number = fields.Str(allow_none=True)
    co = fields.Str(allow_none=True)
    street = fields.Str(allow_none=True)
    postal_code = fields.Str(allow_none=True)
    city = fields.Str(allow_none=True)
    country = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _cpr(self, obj):
        # Only the prepared dict carries a CPR to show; a model object passed by mistake shows none.
        return obj.get("cpr") if isinstance(obj, dict) else None


class _CriteriaSchema(Schema):
    kind = fields.Str(validate=validate.OneOf(_KINDS))
    q = fields.Str(metadata={"description": "Words found in name, e-mail or address"})
    cvr = fields.Str()
    p_number = fields.Str()


class ContactQuerySchema(_CriteriaSchema):
    """Filters in the query string: never a CPR number."""

    @pre_load
    def _no_cpr_in_urls(self, data, **kwargs):
        # A URL ends up in browser history, proxy logs and access logs; refuse rather than ignore.
        if "cpr" in data:
            raise ValidationError("Search by CPR number with POST /api/contacts/search, never in a URL.", "cpr")
        return data


class ContactSearchSchema(_CriteriaSchema):
    """The search by body, the one place a CPR number is searched for."""

    cpr = fields.Str(metadata={"description": "DDMMYY-SSSS or DDMMYYSSSS; only the full number matches"})
