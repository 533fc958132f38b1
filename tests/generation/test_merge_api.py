"""Mail merge: every row checked before anything is made, letters rendered in batches, sent as one dispatch."""
from __future__ import annotations

import io

import openpyxl
import pytest

from tests.documents.conftest import upload
from tests.files import xlsx_file
from tests.generation.conftest import pdf_text, upload_template, word_template
from tests.post.conftest import post_simulator  # noqa: F401

ADULT = "120385-1100"  # fictional persons of the register simulator (server/post/data/registers.json)
FATHER = "210783-1101"
COMPANY = "39990016"


@pytest.fixture
def merge_template(admin):
    data = word_template("Kære {{ Navn }}", "Du får {{ Beløb }} kr. udbetalt den {{ dato }}.",
                         header="Brev til {{ modtager.navn }}", footer_page_numbers=True)
    response = upload_template(admin, "Udbetaling", data, for_merge="true")
    assert response.status_code == 201, response.json
    return response.json


def _merge_sheet(caller, template, rows, filename="modtagere.xlsx", data=None, **form):
    content = data if data is not None else xlsx_file(rows)
    return upload(caller, "/api/merges", files=[("sheet", filename, content)], template_id=template["id"], **form)


def _current(caller, response) -> dict:
    """The merge as it is now: rendering runs as a job after the upload's answer (inline in the tests)."""
    assert response.status_code == 201, response.json
    return caller.get(f"/api/merges/{response.json['id']}").json


def _rows(caller, merge):
    return {r["row"]: r for r in caller.get(f"/api/merges/{merge['id']}/rows").json}


def test_every_bad_row_is_reported_with_its_row_and_nothing_is_generated(caseworker, merge_template):
    rows = [["CPR-nr.", "Navn", "Beløb"],
            [ADULT, "Mette Fiktivsen", 1200],
            ["010100-00", "Forkert Nummer", 50],  # row 3: not a CPR number
            [FATHER, "Jens Fiktivsen", None],  # row 4: an empty field the template uses
            [],  # an empty row is skipped
            [ADULT, "Mette igen", 10]]  # row 6: the same recipient as row 2

    response = _merge_sheet(caseworker, merge_template, rows)

    assert response.status_code == 201, response.json
    merge = response.json
    assert merge["status"] == "invalid" and merge["ready"] is False
    assert merge["id_column"] == "CPR-nr." and merge["row_count"] == 4
    problems = {(p["row"], p["column"]): p["message"] for p in merge["problems"]}
    assert set(problems) == {(3, "CPR-nr."), (4, "Beløb"), (6, "CPR-nr.")}
    assert "row 2" in problems[(6, "CPR-nr.")]
    assert "010100-00" not in str(merge)  # the bad number is not echoed
    rows = _rows(caseworker, merge)
    assert rows[2]["status"] == "pending" and rows[3]["status"] == "invalid"
    assert rows[2]["recipient"] == "120385-1100"  # caseworkers may see CPR numbers
    assert caseworker.post(f"/api/merges/{merge['id']}/dispatch",
                           json={"title": "x", "sender_identity_id": merge["id"]}).status_code == 409


def test_a_valid_sheet_becomes_one_pdf_per_row_with_the_rows_values(caseworker, merge_template):
    rows = [["Udbetalingsliste"], [], ["CPR", "Navn", "Beløb"],  # the header is found below a title
            [ADULT, "Person 1", 100], [FATHER, "Person 2", 200], ["020516-4100", "Person 3", 300]]

    merge = _current(caseworker, _merge_sheet(caseworker, merge_template, rows))

    assert merge["status"] == "ready", merge
    assert merge["rendered_count"] == 3
    for row_number, expected in ((4, "Person 1"), (6, "Person 3")):
        pdf = caseworker.get(f"/api/merges/{merge['id']}/rows/{row_number}/preview")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        text = pdf_text(pdf.data)
        assert f"Kære {expected}" in text and f"Brev til {expected}" in text
        assert "Side 1 af 1" in text  # page numbers are each letter's own, not the batch's
        assert text.count("Kære") == 1
    assert {r["status"] for r in _rows(caseworker, merge).values()} == {"ready"}


def test_csv_in_windows_1252_with_semicolons_is_read(caseworker, merge_template):
    csv_bytes = f"CPR;Navn;Beløb\r\n{ADULT};Søren Ærø;1.000\r\n".encode("cp1252")

    merge = _current(caseworker, _merge_sheet(caseworker, merge_template, None, filename="liste.csv", data=csv_bytes))

    assert merge["status"] == "ready", merge
    assert "Kære Søren Ærø" in pdf_text(caseworker.get(f"/api/merges/{merge['id']}/rows/2/preview").data)


def test_the_add_ins_send_the_sheets_values_and_problems_name_the_sheet_rows(caseworker, merge_template):
    body = {"template_id": merge_template["id"], "header": ["Navn", "Modtager", "Beløb"],
            "rows": [["A", ADULT, 1], ["B", "12345", 2]], "id_column": "Modtager", "first_row": 17}

    merge = caseworker.post("/api/merges", json=body).json

    assert merge["problems"] == [{"row": 18, "column": "Modtager", "message": merge["problems"][0]["message"]}]
    assert merge["status"] == "invalid"


def test_sheets_that_cannot_be_merged_say_why(caseworker, merge_template):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["CPR", "Navn", "Beløb"])
    sheet.append([ADULT, "Mette", "=2*21"])  # a formula never calculated (written by a program, not Excel)
    sheet.append([FATHER, "Jens", 5])
    sheet.merge_cells("B3:C3")
    out = io.BytesIO()
    workbook.save(out)
    merge = _merge_sheet(caseworker, merge_template, None, data=out.getvalue()).json
    messages = {}
    for problem in merge["problems"]:
        messages.setdefault((problem["row"], problem["column"]), []).append(problem["message"])
    assert any("formula" in m for m in messages[(2, "Beløb")])
    assert any("B3:C3" in m and "merged" in m for m in messages[(3, None)])

    protected = _merge_sheet(caseworker, merge_template, None, data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert protected.status_code == 422 and "password" in str(protected.json)

    no_id = _merge_sheet(caseworker, merge_template, [["Navn", "Beløb"], ["A", 1]]).json
    assert "CPR, CVR or P-nummer" in no_id["problems"][0]["message"]

    no_column = _merge_sheet(caseworker, merge_template, [["CPR", "Navn"], [ADULT, "A"]]).json
    assert any(p["column"] == "Beløb" and "no such column" in p["message"] for p in no_column["problems"])


def test_a_huge_sheet_is_refused_with_the_limit(caseworker, merge_template, app):
    rows = [["CPR", "Navn", "Beløb"]] + [[ADULT, "x", 1]] * 101
    from server.generation import sheets

    with pytest.raises(Exception) as refused:
        sheets.read_table(xlsx_file(rows), "stor.xlsx", max_rows=100)
    assert "at most 100" in str(refused.value)


def test_per_recipient_attachments_come_from_a_column(caseworker, merge_template):
    rows = [["CPR", "Navn", "Beløb", "Bilag"], [ADULT, "Mette", 1, "plan.pdf"], [FATHER, "Jens", 2, "mangler.pdf"]]
    files = [("sheet", "liste.xlsx", xlsx_file(rows)), ("attachments", "plan.pdf", b"%PDF-1.4\n%%EOF\n")]
    merge = upload(caseworker, "/api/merges", files=files, template_id=merge_template["id"]).json
    assert [(p["row"], p["message"]) for p in merge["problems"]] == [
        (3, 'The attachment "mangler.pdf" was not uploaded with the sheet.')]


@pytest.fixture
def app_overrides(post_simulator):
    return {"post_api_url": post_simulator.api_url}


def test_a_ready_merge_is_sent_as_one_dispatch_and_rows_follow_their_letters(admin, caseworker, merge_template,
                                                                              post_simulator):
    admin.post("/api/case-templates", json={"name": "Standardsag", "access": "group"})
    sender = admin.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    rows = [["CVR/CPR", "Navn", "Beløb"], [ADULT, "Mette", 100], [COMPANY, "Firma", 200]]
    merge = _current(caseworker, _merge_sheet(caseworker, merge_template, rows, id_column="CVR/CPR"))
    assert merge["status"] == "ready", merge

    response = caseworker.post(f"/api/merges/{merge['id']}/dispatch",
                               json={"title": "Udbetaling 2026", "sender_identity_id": sender["id"]})

    assert response.status_code == 201, response.json
    dispatch = response.json
    assert caseworker.get(f"/api/merges/{merge['id']}").json["dispatch_id"] == dispatch["id"]
    caseworker.post("/api/post/poll")
    statuses = {r["row"]: r["status"] for r in _rows(caseworker, merge).values()}
    assert set(statuses.values()) <= {"sent", "delivered"} and len(statuses) == 2
    deliveries = post_simulator.deliveries()
    assert len(deliveries.get("messages", deliveries)) >= 2
    again = caseworker.post(f"/api/merges/{merge['id']}/dispatch",
                            json={"title": "Igen", "sender_identity_id": sender["id"]})
    assert again.status_code == 409


def test_malformed_merge_requests_are_refused_with_the_field_named(caseworker, merge_template):
    for body in ({}, {"template_id": merge_template["id"], "header": ["CPR"], "rows": "x"}, ["not", "an", "object"]):
        response = caseworker.post("/api/merges", json=body)
        assert response.status_code == 422, (body, response.json)
        assert response.json["errors"]
    region = upload(caseworker, "/api/merges", files=[("pdf", "x.pdf", b"%PDF-1.4")], region="a,b")
    assert region.status_code == 422 and "region" in region.json["errors"]
