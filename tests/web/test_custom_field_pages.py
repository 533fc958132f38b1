"""Custom fields in the browser: shown and edited on a document's page, and a filter of the search form."""
import re

import pytest

from tests.files import text_pdf
from tests.web.conftest import case_id_from, upload_to_case


@pytest.fixture
def doc_fields(admin):
    made = {}
    for body in (
        {"entity": "document", "key": "fakturanummer", "label": "Fakturanummer", "type": "text"},
        {"entity": "document", "key": "beloeb", "label": "Beløb", "type": "number"},
        {"entity": "document", "key": "haster", "label": "Haster", "type": "boolean"},
        {"entity": "document", "key": "afdeling", "label": "Afdeling", "type": "choice", "choices": ["Skole", "Dagtilbud"]},
    ):
        response = admin.post("/api/custom-fields", json=body)
        assert response.status_code == 201, response.json
        made[body["key"]] = response.json["id"]
    return made


@pytest.fixture
def document(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Indkøb"}).location)
    return upload_to_case(sara, case_id, "faktura.pdf", text_pdf("Faktura"))


def test_a_documents_fields_are_edited_and_shown_on_its_page(sara_web, sara, document, doc_fields):
    url = f"/documents/{document['id']}"
    form = sara_web.get(url).text
    for name in ("field.fakturanummer", "field.beloeb", "field.haster", "field.afdeling"):
        assert f'name="{name}"' in form
    edit = {"title": "Faktura", "direction": "internal", "field.fakturanummer": "F-4711", "field.beloeb": "1250.5",
            "field.haster": "true", "field.afdeling": "Skole"}
    assert sara_web.post(f"{url}/edit", data=edit).status_code == 302
    assert sara.get(f"/api/documents/{document['id']}").json["fields"] == {
        "fakturanummer": "F-4711", "beloeb": 1250.5, "haster": True, "afdeling": "Skole"}
    page = sara_web.get(url).text
    assert re.search(r'id="field-haster">Ja<', page) and re.search(r'id="field-fakturanummer">F-4711<', page)
    cleared = {**edit, "field.beloeb": "", "field.haster": "false"}
    sara_web.post(f"{url}/edit", data=cleared)
    assert sara.get(f"/api/documents/{document['id']}").json["fields"] == {
        "fakturanummer": "F-4711", "haster": False, "afdeling": "Skole"}


def test_the_search_form_filters_by_a_custom_field_and_saves_it(sara_web, sara, document, doc_fields):
    sara.patch(f"/api/documents/{document['id']}", json={"fields": {"fakturanummer": "F-4711", "beloeb": 300}})
    form = sara_web.get("/search").text
    assert f'value="{doc_fields["fakturanummer"]}"' in form and "Dokument: Fakturanummer" in form
    found = sara_web.get(f"/search?cf={doc_fields['fakturanummer']}&cf_value=F-4711").text
    assert found.count('<li class="hit">') == 1 and f'/documents/{document["id"]}' in found
    assert sara_web.get(f"/search?cf={doc_fields['fakturanummer']}&cf_value=F-1").text.count('<li class="hit">') == 0
    in_range = sara_web.get(f"/search?cf={doc_fields['beloeb']}&cf_from=100&cf_to=500").text
    assert in_range.count('<li class="hit">') == 1
    saved = sara_web.post("/search/saved", data={"q": "faktura", "cf": doc_fields["beloeb"], "cf_from": "100",
                                                  "name": "Fakturaer over 100"})
    again = sara_web.get(saved.location)
    assert f"cf={doc_fields['beloeb']}" in again.location and "cf_from=100" in again.location
    assert sara_web.get(again.location).text.count('<li class="hit">') == 1


def test_an_administrator_defines_a_document_field_and_takes_it_out_of_use(boss_web, boss, sara_web, document):
    page = boss_web.post("/admin/custom-fields", data={"entity": "document", "label": "Afdeling", "key": "afdeling",
                                                        "type": "choice", "choices": "Skole, Dagtilbud", "required": "1"})
    assert page.status_code == 302
    defined = boss.get("/api/custom-fields?entity=document").json
    assert [(f["key"], f["choices"], f["required"]) for f in defined] == [("afdeling", ["Skole", "Dagtilbud"], True)]
    assert 'name="field.afdeling"' in sara_web.get(f"/documents/{document['id']}").text
    boss_web.post(f"/admin/custom-fields/{defined[0]['id']}/active", data={"active": "0"})
    assert "Tag i brug" in boss_web.get("/admin/custom-fields").text
    assert 'name="field.afdeling"' not in sara_web.get(f"/documents/{document['id']}").text
