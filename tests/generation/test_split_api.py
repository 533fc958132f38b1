"""A merged PDF of many letters is split into one letter per recipient number found in its text."""
from __future__ import annotations

import io

import pypdf

from tests.documents.conftest import upload
from tests.files import text_pdf

ADULT = "120385-1100"
FATHER = "210783-1101"


def _split(caller, pdf: bytes, **form):
    return upload(caller, "/api/merges", files=[("pdf", "samlet.pdf", pdf)], **form)


def test_each_letter_becomes_its_own_pdf_with_its_continuation_pages(caseworker):
    pdf = text_pdf(f"Mette Fiktivsen\nCPR {ADULT}\nSide 1", "Side 2 af Mettes brev",
                   f"Jens Fiktivsen\n{FATHER.replace('-', '')}\nSide 1", "Bageriet ApS CVR-nr. 25313763\nFaktura")

    response = _split(caseworker, pdf)

    assert response.status_code == 201, response.json
    merge = response.json
    assert merge["kind"] == "pdf" and merge["status"] == "ready" and merge["problems"] == []
    assert "2" in merge["notes"][0]  # page 2 went with the letter before it
    rows = caseworker.get(f"/api/merges/{merge['id']}/rows").json
    assert [(r["pages"], r["recipient"]) for r in rows] == [([1, 2], ADULT), ([3], FATHER), ([4], "25313763")]
    first = caseworker.get(f"/api/merges/{merge['id']}/rows/1/preview").data
    pages = pypdf.PdfReader(io.BytesIO(first)).pages
    assert len(pages) == 2 and ADULT in pages[0].extract_text() and "Mettes brev" in pages[1].extract_text()


def test_pages_with_no_or_two_numbers_are_shown_and_nothing_is_split(caseworker):
    pdf = text_pdf("Forside uden modtager", f"Til {ADULT}", f"Til {ADULT} og {FATHER}")

    merge = _split(caseworker, pdf).json

    assert merge["status"] == "invalid"
    assert [(p["row"], "No recipient" in p["message"] or "2 different" in p["message"]) for p in merge["problems"]] == [
        (1, True), (3, True)]
    assert ADULT not in str(merge["problems"])


def test_a_hidden_line_on_every_page_and_a_custom_pattern(caseworker):
    pdf = text_pdf(f"Brev\nID:{ADULT}", f"side 2\nID:{ADULT}", f"Brev\nID:{FATHER}", "side uden id")

    merge = _split(caseworker, pdf, pattern=r"ID:(?P<cpr>\d{6}-\d{4})", every_page="true").json

    assert [p["row"] for p in merge["problems"]] == [4]  # every page must carry it
    rows = caseworker.get(f"/api/merges/{merge['id']}/rows").json
    assert [r["pages"] for r in rows] == [[1, 2], [3]]


def test_the_number_is_looked_for_only_in_the_chosen_region(caseworker):
    # text_pdf writes lines from the top of the page; the bottom half holds only the second CPR
    pdf = text_pdf(f"{ADULT}\n" + "\n" * 30 + f"{FATHER}")
    top = _split(caseworker, pdf, region="0,0,1,0.3").json
    assert top["status"] == "ready"
    assert caseworker.get(f"/api/merges/{top['id']}/rows").json[0]["recipient"] == ADULT


def test_encrypted_scanned_and_broken_pdfs_get_clear_messages(caseworker):
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(text_pdf(f"Til {ADULT}")))
    writer.encrypt("hemmelig")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    response = _split(caseworker, encrypted.getvalue())
    assert response.status_code == 422 and "password" in str(response.json)

    blank = pypdf.PdfWriter()
    blank.add_blank_page(595, 842)
    scanned = io.BytesIO()
    blank.write(scanned)
    response = _split(caseworker, scanned.getvalue())
    assert response.status_code == 422 and "OCR" in str(response.json)

    response = _split(caseworker, b"%PDF-1.4 not really")
    assert response.status_code == 422 and "cannot be read" in str(response.json)
