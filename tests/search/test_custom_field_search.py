"""Advanced search by custom field values: cases and documents with a value (or in a range), only
those the searcher may see, and saved with the search."""
import json

import pytest

from tests.documents.conftest import upload
from tests.files import text_pdf
from tests.search.conftest import ids


@pytest.fixture
def field(admin):
    """field(entity, key, type, **more) -> the new field's id."""

    def _field(entity, key, type_, **more):
        body = {"entity": entity, "key": key, "label": key.capitalize(), "type": type_, **more}
        response = admin.post("/api/custom-fields", json=body)
        assert response.status_code == 201, response.json
        return response.json["id"]

    return _field


def _document(caller, case, title, fields):
    response = upload(caller, files=[("file", f"{title}.pdf", text_pdf(title))], title=title, case_id=case["id"],
                      fields=json.dumps(fields))
    assert response.status_code == 201, response.json
    return response.json


def test_a_document_is_found_by_its_field_value_and_another_is_not(caseworker, new_case, field, search):
    number = field("document", "fakturanummer", "text")
    case = new_case(caseworker, title="Indkøb")
    wanted = _document(caseworker, case, "Faktura marts", {"fakturanummer": "F-4711"})
    _document(caseworker, case, "Faktura april", {"fakturanummer": "F-4712"})
    _document(caseworker, case, "Faktura maj", {})
    result = search(caseworker, custom_fields=[{"field_id": number, "value": "F-4711"}])
    assert ids(result) == [wanted["id"]] and result["total"] == 1
    assert ids(search(caseworker, "faktura", custom_fields=[{"field_id": number, "value": "F-4711"}])) == [wanted["id"]]
    assert search(caseworker, "april", custom_fields=[{"field_id": number, "value": "F-4711"}])["total"] == 0


def test_number_and_date_fields_take_ranges_and_all_filters_must_match(caseworker, new_case, field, search):
    amount = field("document", "beloeb", "number")
    due = field("document", "forfald", "date")
    case = new_case(caseworker, title="Indkøb")
    small = _document(caseworker, case, "Lille", {"beloeb": 100, "forfald": "2026-01-15"})
    large = _document(caseworker, case, "Stor", {"beloeb": 25000.5, "forfald": "2026-03-01"})

    def found(*filters):
        return sorted(ids(search(caseworker, custom_fields=list(filters))))

    assert found({"field_id": amount, "from": 1000}) == [large["id"]]
    assert found({"field_id": amount, "to": "500"}) == [small["id"]]
    assert found({"field_id": amount, "from": 50, "to": 30000}) == sorted([small["id"], large["id"]])
    assert found({"field_id": amount, "value": 25000.5}) == [large["id"]]
    assert found({"field_id": due, "from": "2026-02-01", "to": "2026-12-31"}) == [large["id"]]
    assert found({"field_id": amount, "from": 50}, {"field_id": due, "to": "2026-01-31"}) == [small["id"]]


def test_a_case_is_found_by_its_field_and_a_yes_no_field_by_yes(caseworker, new_case, field, search):
    school = field("case", "skole", "choice", choices=["Nordskolen", "Østskolen"])
    urgent = field("case", "haster", "boolean")
    north = new_case(caseworker, title="Elev A", fields={"skole": "Nordskolen", "haster": True})
    new_case(caseworker, title="Elev B", fields={"skole": "Østskolen", "haster": False})
    assert ids(search(caseworker, custom_fields=[{"field_id": school, "value": "Nordskolen"}])) == [north["id"]]
    assert ids(search(caseworker, custom_fields=[{"field_id": urgent, "value": True}])) == [north["id"]]


def test_only_what_the_searcher_may_read_is_found(caseworker, make_user, new_case, field, search):
    number = field("document", "fakturanummer", "text")
    case_field = field("case", "elevnummer", "text")
    case = new_case(caseworker, title="Elevsag", fields={"elevnummer": "E-1"})  # a members-only case
    doc = _document(caseworker, case, "Faktura", {"fakturanummer": "F-1"})
    by_document = [{"field_id": number, "value": "F-1"}]
    by_case = [{"field_id": case_field, "value": "E-1"}]
    assert ids(search(caseworker, custom_fields=by_document)) == [doc["id"]]
    assert ids(search(caseworker, custom_fields=by_case)) == [case["id"]]
    stranger = make_user("stranger")
    for filters in (by_document, by_case):
        result = search(stranger, custom_fields=filters)
        assert result["total"] == 0 and result["hits"] == []


def test_a_saved_search_keeps_its_custom_field_filters(caseworker, new_case, field):
    amount = field("document", "beloeb", "number")
    case = new_case(caseworker, title="Indkøb")
    large = _document(caseworker, case, "Stor", {"beloeb": 5000})
    _document(caseworker, case, "Lille", {"beloeb": 10})
    query = {"q": "", "custom_fields": [{"field_id": amount, "from": 1000}]}
    created = caseworker.post("/api/saved-searches", json={"name": "Store fakturaer", "query": query})
    assert created.status_code == 201, created.json
    saved = caseworker.get(f"/api/saved-searches/{created.json['id']}").json
    assert saved["query"]["custom_fields"] == [{"field_id": amount, "from": 1000}]
    run = caseworker.post(f"/api/saved-searches/{saved['id']}/run").json
    assert ids(run) == [large["id"]]


@pytest.mark.parametrize("make_filter, named", [
    (lambda f: {"field_id": "7b0c8c1e-0000-4000-8000-000000000000", "value": "x"}, "custom field"),
    (lambda f: {"field_id": f["contact"], "value": "x"}, "contact field"),
    (lambda f: {"field_id": f["text"], "from": "a"}, "range"),
    (lambda f: {"field_id": f["number"], "value": "mange"}, "Beloeb"),
    (lambda f: {"field_id": f["number"]}, "value"),
])
def test_a_filter_that_cannot_match_is_a_422(caseworker, field, search, make_filter, named):
    fields = {"contact": field("contact", "kundenummer", "text"), "text": field("document", "note", "text"),
              "number": field("document", "beloeb", "number")}
    result = search(caseworker, expect=422, custom_fields=[make_filter(fields)])
    assert named in result["message"], result
    saved = caseworker.post("/api/saved-searches", json={"name": "Forkert", "query": {"custom_fields": [make_filter(fields)]}})
    assert saved.status_code == 422
