from marshmallow import Schema, fields, post_load, validate

from server.search.services import ENTITY_TYPES, FIELDS, MAX_LIMIT, MAX_OFFSET


class CustomFieldFilterSchema(Schema):
    field_id = fields.UUID(required=True, metadata={"description": "A case or document field (GET /api/custom-fields)"})
    value = fields.Raw(load_default=None, metadata={"description": "Equal to this value"})
    from_ = fields.Raw(data_key="from", load_default=None, metadata={"description": "Number or date field: at least this"})
    to = fields.Raw(load_default=None, metadata={"description": "Number or date field: at most this"})

    @post_load
    def _given(self, data, **kwargs):
        data["from"] = data.pop("from_")
        return {k: v for k, v in data.items() if v is not None}


class SearchCriteriaSchema(Schema):
    """What to search for; sent in a body, never a URL: people type CPR numbers into search boxes."""

    q = fields.Str(load_default="", allow_none=True, metadata={
        "description": 'Words (all must match, Danish stemming), "a phrase", a trailing * for a prefix'
    })
    types = fields.List(fields.Str(validate=validate.OneOf(ENTITY_TYPES)), load_default=list)
    case_id = fields.UUID(allow_none=True, load_default=None, metadata={"description": "Search within this case"})
    document_type_id = fields.UUID(allow_none=True, load_default=None)
    journal_key_id = fields.UUID(allow_none=True, load_default=None)
    date_from = fields.Date(allow_none=True, load_default=None)
    date_to = fields.Date(allow_none=True, load_default=None)
    fields_ = fields.List(
        fields.Str(validate=validate.OneOf(FIELDS)), data_key="fields", load_default=list,
        metadata={"description": "Match the words in these only (title, body); all when empty"},
    )
    sort = fields.Str(allow_none=True, load_default=None, validate=validate.OneOf(["relevance", "date"]))
    custom_fields = fields.List(fields.Nested(CustomFieldFilterSchema), load_default=list, metadata={
        "description": "Cases or documents (as the field is defined for) with these custom field values; all must match"
    })

    @post_load
    def _plain(self, data, **kwargs):
        data["fields"] = data.pop("fields_", [])
        data["q"] = data.get("q") or ""
        return data


class SearchRequestSchema(SearchCriteriaSchema):
    offset = fields.Int(load_default=0, validate=validate.Range(0, MAX_OFFSET))
    limit = fields.Int(load_default=20, validate=validate.Range(1, MAX_LIMIT))


class PageSchema(Schema):
    offset = fields.Int(load_default=0, validate=validate.Range(0, MAX_OFFSET))
    limit = fields.Int(load_default=20, validate=validate.Range(1, MAX_LIMIT))


class HitSchema(Schema):
    entity_type = fields.Str()
    entity_id = fields.UUID()
    title = fields.Str(metadata={"description": "Plain text"})
    title_html = fields.Str(metadata={"description": "HTML-escaped, matched words in <mark>"})
    snippet_html = fields.Str(metadata={"description": "HTML-escaped excerpt, matched words in <mark>"})
    score = fields.Float()
    case_id = fields.UUID(allow_none=True)
    entry_date = fields.Date(allow_none=True)
    document_type_id = fields.UUID(allow_none=True)
    journal_key_id = fields.UUID(allow_none=True)


class FacetValueSchema(Schema):
    value = fields.Function(lambda v: v["value"] if isinstance(v["value"], (int, str)) else str(v["value"]))
    label = fields.Str(allow_none=True)
    count = fields.Int()


class SearchResultSchema(Schema):
    hits = fields.List(fields.Nested(HitSchema))
    total = fields.Int(metadata={"description": "How many match; with exact false, at least this many"})
    exact = fields.Bool(metadata={"description": "False when so many match that total and facets were cut off"})
    offset = fields.Int()
    limit = fields.Int()
    facets = fields.Dict(
        keys=fields.Str(), values=fields.List(fields.Nested(FacetValueSchema)),
        metadata={"description": "type, document_type, case, journal_key, year: values with counts, most first"},
    )


class SavedSearchInputSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    query = fields.Nested(SearchCriteriaSchema, load_default=lambda: SearchCriteriaSchema().load({}))


class SavedSearchSchema(Schema):
    id = fields.UUID()
    name = fields.Str()
    query = fields.Dict()
    created_at = fields.DateTime()
