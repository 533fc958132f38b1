"""Docs: the open document is archived on a case (PDF and .docx from Drive) and sent as Digital Post."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from server.google.apis import DOCX, PDF
from tests.files import docx_file, text_pdf
from tests.google.conftest import texts, validate_response
from tests.post.conftest import post_simulator  # noqa: F401

FILE_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
ADULT = "120385-1100"  # Mette Fiktivsen (fictional register)
CHILD = "020516-4100"  # Ida, under 15, custody: Mette and Jens


@pytest.fixture
def app_overrides(app_overrides, post_simulator):  # noqa: F811
    return {**app_overrides, "post_api_url": post_simulator.api_url}


@pytest.fixture
def open_doc(google):
    google.files[(FILE_ID, PDF)] = text_pdf("Kære Mette\nDu får hermed svar på din ansøgning.")
    google.files[(FILE_ID, DOCX)] = docx_file("Kære Mette", "Du får hermed svar på din ansøgning.")
    return {"docs": {"id": FILE_ID, "title": "Svar på ansøgning", "addonHasFileScopePermission": True}}


@pytest.fixture
def sender(admin):
    return admin.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json


def _card(body):
    action = body.get("renderActions", body)["action"]
    step = action["navigations"][0]
    return step.get("pushCard") or step.get("updateCard")


def test_without_access_to_the_file_the_card_asks_for_it(addon, linked):
    response = addon.post("docs", addon.event("docs", host="DOCS", docs={"addonHasFileScopePermission": False}))
    validate_response(response.json)
    assert "Giv adgang" in texts(response.json)
    grant = addon.post("grant", addon.event("grant", host="DOCS"))
    validate_response(grant.json)
    assert grant.json == {"renderActions": {"hostAppAction": {"editorAction": {"requestFileScopeForActiveDocument": {}}}}}


def _archive(addon, case, open_doc, **form):
    event = addon.event("docs-archive", host="DOCS", form={"case_id": case["id"], "title": "Svar på ansøgning", **form},
                        params={"file_id": FILE_ID, "title": "Svar på ansøgning"}, **open_doc)
    response = addon.post("docs-archive", event)
    assert response.status_code == 200, response.json
    validate_response(response.json)
    return response


def _send_params(response) -> dict:
    card = _card(response.json)
    (send,) = [b for s in card["sections"] for w in s["widgets"] for b in w.get("buttonList", {}).get("buttons", [])
               if b["text"] == "Send"]
    return {p["key"]: p["value"] for p in send["onClick"]["action"]["parameters"]}


def test_the_open_document_is_archived_as_pdf_and_docx(addon, linked, new_case, open_doc, sender):
    case = new_case(linked, title="Elevsag Ida")
    opened = addon.post("docs", addon.event("docs", host="DOCS", **open_doc))
    validate_response(opened.json)
    assert "Svar på ansøgning" in texts(opened.json) and case["number"] in texts(opened.json)
    response = _archive(addon, case, open_doc, final="yes")
    assert "Send som Digital Post" in texts(response.json)
    doc = linked.get(f"/api/documents/{_send_params(response)['document_id']}").json
    assert doc["case_id"] == case["id"] and doc["status"] == "final" and doc["title"] == "Svar på ansøgning"
    assert [(f["role"], f["name"]) for f in doc["files"]] == [("main", "Svar på ansøgning.pdf"),
                                                              ("attachment", "Svar på ansøgning.docx")]


def test_preview_send_and_status_of_a_letter_with_guardian_copies(addon, linked, new_case, open_doc, sender, post_simulator):  # noqa: F811
    case = new_case(linked, title="Elevsag Ida")
    params = _send_params(_archive(addon, case, open_doc))
    form = {"numbers": CHILD, "number_type": "cpr", "guardians": "yes", "sender_identity_id": sender["id"],
            "letter_title": "Svar på ansøgning"}
    preview = addon.post("docs-preview", addon.event("docs-preview", host="DOCS", form=form, params=params, **open_doc))
    validate_response(preview.json)
    shown = texts(preview.json)
    assert "Ida Fiktivsen" in shown and "Digital Post" in shown and "Mette Fiktivsen" in shown
    assert post_simulator.deliveries()["total"] == 0

    sent = addon.post("docs-send", addon.event("docs-send", host="DOCS", form=form, params=params, **open_doc))
    validate_response(sent.json)
    assert sent.json["renderActions"]["action"]["notification"]["text"] == "Brevet er sendt afsted."
    shown = texts(sent.json)
    assert shown.count("Kopi (forældremyndighed)") == 2 and "Ida Fiktivsen" in shown and "sendt" in shown
    assert post_simulator.deliveries()["total"] == 3

    linked.post("/api/post/poll")
    (refresh,) = _card(sent.json)["sections"][0]["widgets"][-1]["buttonList"]["buttons"]
    status_params = {p["key"]: p["value"] for p in refresh["onClick"]["action"]["parameters"]}
    status = addon.post("docs-status", addon.event("docs-status", host="DOCS", params=status_params))
    validate_response(status.json)
    assert texts(status.json).count("leveret") == 3


def test_a_deferred_letter_waits(addon, linked, new_case, open_doc, sender, post_simulator):  # noqa: F811
    case = new_case(linked, title="Elevsag")
    params = _send_params(_archive(addon, case, open_doc))
    later = datetime.now(timezone.utc) + timedelta(days=2)
    form = {"numbers": ADULT, "number_type": "cpr", "sender_identity_id": sender["id"],
            "send_at": {"dateTimeInput": {"msSinceEpoch": str(int(later.timestamp() * 1000)), "hasDate": True, "hasTime": True}}}
    sent = addon.post("docs-send", addon.event("docs-send", host="DOCS", form=form, params=params, **open_doc))
    validate_response(sent.json)
    assert "planlagt" in texts(sent.json) and post_simulator.deliveries()["total"] == 0
    # shown in the user's time zone (the event says Europe/Copenhagen)
    local = later.astimezone(ZoneInfo("Europe/Copenhagen")).strftime("%d-%m-%Y %H:%M")
    assert _card(sent.json)["header"]["subtitle"] == f"Sendes {local}"


def test_sending_without_recipients_is_refused_with_a_reason(addon, linked, new_case, open_doc, sender, post_simulator):  # noqa: F811
    case = new_case(linked, title="Elevsag")
    params = _send_params(_archive(addon, case, open_doc))
    sent = addon.post("docs-send", addon.event("docs-send", host="DOCS", form={"sender_identity_id": sender["id"]},
                                               params=params, **open_doc))
    validate_response(sent.json)
    assert sent.json["renderActions"]["action"]["notification"]["text"] == "Vælg mindst én modtager."
    assert post_simulator.deliveries()["total"] == 0


def test_a_google_document_selected_in_drive_is_offered_for_archiving(addon, linked, new_case, open_doc):
    case = new_case(linked, title="Elevsag")
    drive = {"drive": {"selectedItems": [{"id": FILE_ID, "title": "Svar på ansøgning",
                                          "mimeType": "application/vnd.google-apps.document"}]}}
    response = addon.post("drive", addon.event("drive", host="DRIVE", **drive))
    validate_response(response.json)
    assert "Arkivér dokument" in texts(response.json) and FILE_ID in texts(response.json)
    _archive(addon, case, {})
    assert len(linked.get(f"/api/documents?scope=case&case_id={case['id']}").json) == 1


def test_searching_from_a_drive_document_keeps_the_document(addon, linked, new_case, open_doc):
    wanted = new_case(linked, title="Byggesag Skolevej 4")
    drive = {"drive": {"selectedItems": [{"id": FILE_ID, "title": "Svar på ansøgning",
                                          "mimeType": "application/vnd.google-apps.document"}]}}
    card = _card(addon.post("drive", addon.event("drive", host="DRIVE", **drive)).json)
    (search,) = [b for s in card["sections"] for w in s["widgets"] for b in w.get("buttonList", {}).get("buttons", [])
                 if b["text"] == "Søg"]
    params = {p["key"]: p["value"] for p in search["onClick"]["action"]["parameters"]}
    found = addon.post("search", addon.event("search", host="DRIVE", form={"q": "Skolevej"}, params=params, **drive))
    validate_response(found.json)
    assert wanted["number"] in texts(found.json) and FILE_ID in texts(found.json)
