"""Hostile and broken files through the upload API: a clear 4xx or a document marked
"text could not be extracted" — never a 500, never a hang, and nothing stored is lost."""
import pytest

from tests.documents.conftest import upload
from tests.documents.test_extraction import encrypted, make_docx, rewrite_zip, zeros_docx
from tests.files import email_file, text_pdf

PDF = text_pdf("Et helt almindeligt brev")
XXE = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
       b"<w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>")


def _bad_files(tmp_path):
    docx = make_docx(tmp_path / "ok.docx")
    return {
        "encrypted.pdf": encrypted(PDF, "hemmelig"),
        "truncated.pdf": PDF[: len(PDF) // 2],
        "garbage.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 20,
        "bomb.docx": zeros_docx(tmp_path / "bomb.docx", 300).read_bytes(),
        "traversal.docx": rewrite_zip(docx, tmp_path / "t.docx", add={"../../evil.txt": b"x"}).read_bytes(),
        "xxe.docx": rewrite_zip(docx, tmp_path / "x.docx", replace={"word/document.xml": XXE}).read_bytes(),
        "broken.eml": b"From: a@b.dk\r\nSubject: =?utf-8?B?broken\r\n\r\n" + bytes(range(256)),
    }


@pytest.mark.parametrize("name", ["encrypted.pdf", "truncated.pdf", "garbage.pdf", "bomb.docx", "traversal.docx",
                                  "xxe.docx", "broken.eml"])
def test_a_hostile_file_is_stored_but_marked_unreadable_or_refused(caseworker, case, tmp_path, name):
    content = _bad_files(tmp_path)[name]
    response = upload(caseworker, files=[("file", name, content)], title=name, case_id=case["id"])
    assert response.status_code in (201, 422), response.json
    if response.status_code == 422:
        assert response.json["message"]
        return
    doc = caseworker.get(f"/api/documents/{response.json['id']}").json
    version = doc["files"][0]["versions"][0]
    assert version["text_status"] in ("failed", "empty", "ok", "unsupported")
    if name != "broken.eml":
        assert version["text_status"] in ("failed", "empty"), version
        assert version["text_reason"]
    assert "/etc/passwd" not in str(doc) and "root:" not in str(doc)
    downloaded = caseworker.get(f"/api/documents/{doc['id']}/files/{doc['files'][0]['id']}/content")
    assert downloaded.data == content  # what was uploaded is kept as it was


def test_a_failed_upload_loses_nothing_already_stored(caseworker, case):
    good = upload(caseworker, files=[("file", "brev.pdf", PDF)], title="Brev", case_id=case["id"]).json
    url = f"/api/documents/{good['id']}/files/{good['files'][0]['id']}/versions"
    assert upload(caseworker, url, files=[("file", "tom.pdf", b"")]).status_code == 422
    doc = caseworker.get(f"/api/documents/{good['id']}").json
    assert [v["number"] for v in doc["files"][0]["versions"]] == [1]
    assert caseworker.get(f"/api/documents/{good['id']}/files/{good['files'][0]['id']}/content").data == PDF


def test_an_extension_that_lies_is_corrected_by_content(caseworker, case):
    doc = upload(caseworker, files=[("file", "mail.pdf", email_file())], title="Mail", case_id=case["id"]).json
    version = doc["files"][0]["versions"][0]
    assert version["mime"] == "message/rfc822" and version["filename"] == "mail.eml"
