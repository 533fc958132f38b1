"""Archiving an e-mail into a case, as the Outlook and Gmail add-ins send it."""
import io

from tests.files import email_file, text_pdf


def _archive(caller, case, raw: bytes, **form):
    data = {"file": (io.BytesIO(raw), "mail.eml"), **{k: v for k, v in form.items() if v is not None}}
    return caller.post(f"/api/cases/{case['id']}/emails", data=data, content_type="multipart/form-data")


def test_body_attachments_original_and_metadata(caseworker, case):
    raw = email_file(
        html="<p>Hej, jeg vil gerne søge.</p>",
        attachments=[("Ansøgning – Åse.pdf", text_pdf("Ansøgning fra Åse"), "application/pdf")],
    )
    response = _archive(caseworker, case, raw)
    assert response.status_code == 201, response.json
    doc = response.json["document"]
    assert response.json["duplicate"] is False
    assert doc["title"] == "Ansøgning om SFO-plads"
    assert doc["direction"] == "incoming" and doc["document_date"] == "2026-11-24"
    assert doc["email_message_id"] == "abc123@example.dk"
    roles = {(f["role"], f["name"]) for f in doc["files"]}
    assert ("main", "Ansøgning om SFO-plads.html") in roles
    assert ("attachment", "Ansøgning – Åse.pdf") in roles
    assert ("original", "Ansøgning om SFO-plads.eml") in roles
    assert "mette@example.dk" in doc["description"]
    original = next(f for f in doc["files"] if f["role"] == "original")
    assert caseworker.get(f"/api/documents/{doc['id']}/files/{original['id']}/content").data == raw


def test_the_same_email_twice_is_recognised(caseworker, case):
    raw = email_file()
    first = _archive(caseworker, case, raw)
    again = _archive(caseworker, case, raw)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert again.json["document"]["id"] == first.json["document"]["id"]
    # the same Message-ID with other bytes (re-encoded by another client) is the same e-mail too
    reencoded = _archive(caseworker, case, email_file(text="Hej, jeg vil gerne søge om en plads. "))
    assert reencoded.json["duplicate"] is True
    listed = caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json
    assert len(listed) == 1


def test_choosing_which_attachments_to_keep(caseworker, case):
    raw = email_file(attachments=[("a.pdf", text_pdf("a"), "application/pdf"), ("b.pdf", text_pdf("b"), "application/pdf")])
    doc = _archive(caseworker, case, raw, keep_attachments="b.pdf").json["document"]
    assert [f["name"] for f in doc["files"] if f["role"] == "attachment"] == ["b.pdf"]


def test_archived_as_final(caseworker, case):
    doc = _archive(caseworker, case, email_file(), final="true").json["document"]
    assert doc["status"] == "final"


def test_sender_known_as_contact_is_linked(caseworker, case):
    contact = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Mette", "last_name": "Jensen",
                                                     "email": "mette@example.dk"}).json
    doc = _archive(caseworker, case, email_file()).json["document"]
    assert {"contact_id": contact["id"], "role": "sender"} in doc["contacts"]


def test_broken_or_empty_emails_get_422_and_nothing_is_stored(caseworker, case):
    for raw in (b"", b"\x00\x01\x02 not mail at all"):
        response = _archive(caseworker, case, raw)
        assert response.status_code == 422 and "not an e-mail" in response.json["message"]
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_archiving_needs_write_access_to_the_case(make_user, case):
    stranger = make_user("stranger")
    assert _archive(stranger, case, email_file()).status_code == 404
