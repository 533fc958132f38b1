"""Custom fields (konfigurerbare felter) on documents: defined by an administrator, set on upload and
by a change of metadata, typed and validated by field, audited, fixed once the document is final."""
import json

import pytest

from tests.documents.conftest import upload
from tests.files import text_pdf

PDF = text_pdf("Faktura 4711")


@pytest.fixture
def doc_fields(admin):
    """Three document fields: a required text, a number and a choice; and a case field of the same key."""
    made = {}
    for body in (
        {"entity": "document", "key": "fakturanummer", "label": "Fakturanummer", "type": "text", "required": True},
        {"entity": "document", "key": "beloeb", "label": "Beløb", "type": "number"},
        {"entity": "document", "key": "afdeling", "label": "Afdeling", "type": "choice", "choices": ["Skole", "Dagtilbud"]},
        {"entity": "case", "key": "beloeb", "label": "Sagens beløb", "type": "number"},
    ):
        response = admin.post("/api/custom-fields", json=body)
        assert response.status_code == 201, response.json
        made[f"{body['entity']}.{body['key']}"] = response.json
    return made


def _upload(caller, case, fields):
    return upload(caller, files=[("file", "faktura.pdf", PDF)], title="Faktura", case_id=case["id"],
                  fields=json.dumps(fields))


def test_fields_are_set_on_upload_read_back_and_changed(caseworker, case, doc_fields):
    created = _upload(caseworker, case, {"fakturanummer": "F-4711", "beloeb": 1250.5, "afdeling": "Skole"})
    assert created.status_code == 201, created.json
    doc = created.json
    assert doc["fields"] == {"fakturanummer": "F-4711", "beloeb": 1250.5, "afdeling": "Skole"}
    changed = caseworker.patch(f"/api/documents/{doc['id']}", json={"fields": {"beloeb": 900, "afdeling": None}})
    assert changed.status_code == 200, changed.json
    assert caseworker.get(f"/api/documents/{doc['id']}").json["fields"] == {"fakturanummer": "F-4711", "beloeb": 900}


@pytest.mark.parametrize("fields, named", [
    ({"fakturanummer": "F-1", "beloeb": "mange"}, "Beløb"),
    ({"fakturanummer": "F-1", "afdeling": "Rådhus"}, "Afdeling"),
    ({"fakturanummer": "F-1", "ukendt": 1}, "ukendt"),
    ({"beloeb": 10}, "Fakturanummer"),  # required, left out
])
def test_a_bad_value_is_a_422_naming_the_field_and_nothing_is_created(caseworker, case, doc_fields, fields, named):
    response = _upload(caseworker, case, fields)
    assert response.status_code == 422 and named in response.json["message"], response.json
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_a_required_field_cannot_be_cleared_and_a_form_value_must_be_json(caseworker, case, doc_fields):
    doc = _upload(caseworker, case, {"fakturanummer": "F-1"}).json
    cleared = caseworker.patch(f"/api/documents/{doc['id']}", json={"fields": {"fakturanummer": ""}})
    assert cleared.status_code == 422 and "Fakturanummer" in cleared.json["message"]
    garbled = upload(caseworker, files=[("file", "f.pdf", PDF)], title="F", case_id=case["id"], fields="{nej")
    assert garbled.status_code == 422


def test_a_case_field_is_not_a_document_field(caseworker, case, doc_fields):
    """Fields are defined per entity: the case's beloeb does not make a document take other keys."""
    doc = _upload(caseworker, case, {"fakturanummer": "F-1", "beloeb": 5}).json
    assert doc["fields"]["beloeb"] == 5
    response = caseworker.patch(f"/api/documents/{doc['id']}", json={"fields": {"skoleaar": 2026}})
    assert response.status_code == 422 and "skoleaar" in response.json["message"]


def test_a_change_of_field_is_in_the_document_history(caseworker, case, doc_fields):
    doc = _upload(caseworker, case, {"fakturanummer": "F-1", "beloeb": 10}).json
    caseworker.patch(f"/api/documents/{doc['id']}", json={"fields": {"beloeb": 20}})
    history = caseworker.get(f"/api/documents/{doc['id']}/history").json
    updated = next(e for e in history if e["action"] == "document.updated")
    field_id = doc_fields["document.beloeb"]["id"]
    assert float(updated["before"]["fields"][field_id]) == 10
    assert float(updated["after"]["fields"][field_id]) == 20
    created = next(e for e in history if e["action"] == "document.created")
    assert float(created["after"]["fields"][field_id]) == 10


def test_a_final_documents_fields_are_fixed_until_it_is_reopened(caseworker, case, doc_fields):
    doc = _upload(caseworker, case, {"fakturanummer": "F-1"}).json
    assert caseworker.put(f"/api/documents/{doc['id']}/status", json={"status": "final"}).status_code == 200
    response = caseworker.patch(f"/api/documents/{doc['id']}", json={"fields": {"beloeb": 1}})
    assert response.status_code == 409
    assert caseworker.get(f"/api/documents/{doc['id']}").json["fields"] == {"fakturanummer": "F-1"}


def test_documents_from_elsewhere_are_made_without_their_required_fields(caseworker, case, doc_fields):
    """An archived e-mail has no one to fill its fields in: it is made, and they are set afterwards."""
    eml = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Faktura\r\nMessage-ID: <f1@example.org>\r\n\r\nHej\r\n"
    archived = upload(caseworker, f"/api/cases/{case['id']}/emails", files=[("file", "faktura.eml", eml)])
    assert archived.status_code == 201, archived.json
    assert archived.json["document"]["fields"] == {}
