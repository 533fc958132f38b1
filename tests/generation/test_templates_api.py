"""Word templates: uploaded and checked by administrators, filled from a case into a draft document."""
from __future__ import annotations

import io
import zipfile

import docx

from tests.generation.conftest import docx_text, pdf_text, upload_template, word_template

CPR = "120385-1100"


def _case_with_parties(caseworker, new_case):
    case = new_case(caseworker, title="Ansøgning om friplads")
    mette = caseworker.post("/api/contacts", json={
        "kind": "person", "first_name": "Mette", "last_name": "Fiktivsen", "cpr": CPR,
        "street": "Skolevej 3", "postal_code": "9999", "city": "Testrup"}).json
    bageri = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "Bageriet ApS",
                                                     "cvr": "25313763"}).json
    for contact, primary in ((mette, True), (bageri, False)):
        response = caseworker.post(f"/api/cases/{case['id']}/parties",
                                   json={"contact_id": contact["id"], "is_primary": primary})
        assert response.status_code == 201, response.json
    return case, mette


def test_a_template_with_jinja_and_mergefields_fills_a_draft_document_on_the_case(
        admin, caseworker, new_case, settings_organisation):
    data = word_template(
        "{{ organisation.navn }}, {{ organisation.adresse }}",
        "Til {{ modtager.navn }}, {{ modtager.adresse }}, {{ modtager.postnr }} {{ modtager.by }}",
        "Sag {{ sag.nummer }}: {{ sag.titel }} (dato {{ dato }})",
        "Med venlig hilsen {{ afsender.navn }}",
        header="Brev i sag {{ sag.nummer }}", footer_page_numbers=True, party_table=True,
        mergefields=("Sagsnummer", "Navn"),
    )
    response = upload_template(admin, "Standardbrev", data)
    assert response.status_code == 201, response.json
    template = response.json
    assert {"sag.nummer", "modtager.navn", "parter.navn", "Sagsnummer", "Navn"} <= set(template["fields"])
    case, mette = _case_with_parties(caseworker, new_case)

    response = caseworker.post(f"/api/cases/{case['id']}/generate", json={"template_id": template["id"]})

    assert response.status_code == 201, response.json
    document = response.json
    assert document["case_id"] == case["id"] and document["status"] == "draft"
    assert document["title"] == "Standardbrev"
    main = next(f for f in document["files"] if f["role"] == "main")
    filled = caseworker.get(f"/api/documents/{document['id']}/files/{main['id']}/content").data
    text = docx_text(filled)
    assert f"Sag {case['number']}: Ansøgning om friplads" in text
    assert "Til Mette Fiktivsen, Skolevej 3, 9999 Testrup" in text
    assert "Testrup Kommune, Rådhuspladsen 1" in text
    assert f"Brev i sag {case['number']}" in text  # the header
    assert f"Sagsnummer: {case['number']}" in text and "Navn: Mette Fiktivsen" in text  # both MERGEFIELD forms
    assert "Bageriet ApS" in text  # the table row repeated per party
    assert "{{" not in text and "«" not in text

    pdf = caseworker.get(f"/api/documents/{document['id']}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    rendered = pdf_text(pdf.data)
    assert "Mette Fiktivsen" in rendered and case["number"] in rendered and "Side 1 af 1" in rendered


def test_render_returns_the_filled_word_file_for_the_add_in(admin, caseworker, new_case):
    template = upload_template(admin, "Kvittering", word_template("Kære {{ modtager.navn }}, {{ beløb }} kr.",
                                                                  "Sag {{ sag.nummer }}"), for_merge="true").json
    case, mette = _case_with_parties(caseworker, new_case)

    response = caseworker.post(f"/api/document-templates/{template['id']}/render",
                               json={"case_id": case["id"], "recipient_contact_id": mette["id"],
                                     "values": {"beløb": "1.250,00"}})

    assert response.status_code == 200
    assert "Kære Mette Fiktivsen, 1.250,00 kr." in docx_text(response.data)
    as_pdf = caseworker.post(f"/api/document-templates/{template['id']}/render",
                             json={"case_id": case["id"], "format": "pdf"})
    assert f"Sag {case['number']}" in pdf_text(as_pdf.data)


def test_a_template_using_an_unknown_field_is_refused_at_upload_naming_the_field(admin):
    response = upload_template(admin, "Forkert", word_template("Sag {{ sag.nummerr }} til {{ modtagr.navn }}"))

    assert response.status_code == 422
    message = str(response.json)
    assert '"sag.nummerr"' in message and '"modtagr.navn"' in message
    assert admin.get("/api/document-templates").json == []


def test_an_unknown_mergefield_is_refused_but_a_merge_template_takes_it_as_a_column(admin):
    data = word_template("Hej", mergefields=("Beløb",))
    refused = upload_template(admin, "Brev", data)
    assert refused.status_code == 422 and '"Beløb"' in str(refused.json)

    accepted = upload_template(admin, "Fletning", data, for_merge="true")
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["fields"] == ["Beløb"]


def test_macro_templates_broken_xml_and_bad_syntax_get_clear_messages(admin):
    docm = upload_template(admin, "Makro", word_template("Hej"), filename="skabelon.docm")
    assert docm.status_code == 422 and "macro" in str(docm.json).lower()

    with_macros = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_template("Hej"))) as source, zipfile.ZipFile(with_macros, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("word/vbaProject.bin", b"\0" * 64)
    assert "macro" in str(upload_template(admin, "Makro2", with_macros.getvalue()).json).lower()

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_template("Hej"))) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[:-40] if item.filename == "word/document.xml" else data)
    response = upload_template(admin, "Brudt", broken.getvalue())
    assert response.status_code == 422 and "damaged XML" in str(response.json)

    syntax = upload_template(admin, "Syntaks", word_template("Hej {{ sag.nummer ", "{% for p in parter %}"))
    assert syntax.status_code == 422 and "The document body" in str(syntax.json)

    not_word = upload_template(admin, "Tekst", b"just text", filename="skabelon.docx")
    assert not_word.status_code == 422 and "not a Word document" in str(not_word.json)


def test_versions_are_kept_and_only_template_managers_upload(admin, caseworker):
    template = upload_template(admin, "Afgørelse", word_template("Version 1 {{ sag.nummer }}")).json
    assert upload_template(caseworker, "Mit eget", word_template("Hej")).status_code == 403

    response = admin.post(f"/api/document-templates/{template['id']}/versions",
                          data={"file": (io.BytesIO(word_template("Version 2 {{ sag.titel }}")), "v2.docx")},
                          content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["version"] == 2 and response.json["fields"] == ["sag.titel"]
    first = admin.get(f"/api/document-templates/{template['id']}/content?version=1").data
    newest = admin.get(f"/api/document-templates/{template['id']}/content").data
    assert "Version 1" in docx_text(first) and "Version 2" in docx_text(newest)
    history = admin.get("/api/audit/changes?entity_type=document_template").json
    assert any(event["action"] == "document_template.version" for event in history)


def test_templates_are_offered_by_case_template(admin, caseworker, template):
    linked = upload_template(admin, "Personalebrev", word_template("Hej"), case_template_ids=[template["id"]]).json
    general = upload_template(admin, "Alment brev", word_template("Hej")).json
    other = admin.post("/api/case-templates", json={"name": "Andet"}).json

    names = {t["name"] for t in caseworker.get(f"/api/document-templates?case_template_id={other['id']}").json}
    assert names == {general["name"]}
    names = {t["name"] for t in caseworker.get(f"/api/document-templates?case_template_id={template['id']}").json}
    assert names == {linked["name"], general["name"]}
