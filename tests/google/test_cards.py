"""The cards for the less travelled paths validate too, and say what to do."""
import requests

from tests.google.conftest import as_sent_by_google, texts, validate_response
from tests.google.test_gmail import gmail_part, message  # noqa: F401

GOOGLE_DOC = "application/vnd.google-apps.document"


def test_drive_asks_for_a_selected_document_it_may_not_read_yet(addon, linked):
    drive = {"drive": {"selectedItems": [{"id": "doc-1", "title": "Referat", "mimeType": GOOGLE_DOC,
                                          "addonHasFileScopePermission": False}]}}
    response = addon.post("drive", addon.event("drive", host="DRIVE", **drive))
    validate_response(response.json)
    card = response.json["action"]["navigations"][0]["pushCard"]
    (button,) = card["sections"][0]["widgets"][1]["buttonList"]["buttons"]
    assert button["onClick"]["action"]["parameters"] == [{"key": "item_id", "value": "doc-1"}]
    grant = addon.post("grant", addon.event("grant", host="DRIVE", params={"item_id": "doc-1"}))
    validate_response(grant.json)
    assert grant.json["renderActions"]["hostAppAction"] == {"driveAction": {"requestFileScope": {"itemId": "doc-1"}}}


def test_drive_without_a_google_document_says_what_to_select(addon, linked):
    drive = {"drive": {"selectedItems": [{"id": "pdf-1", "title": "scan.pdf", "mimeType": "application/pdf"}]}}
    response = addon.post("drive", addon.event("drive", host="DRIVE", **drive))
    validate_response(response.json)
    assert "Vælg et Google-dokument" in texts(response.json)


def test_sheets_asks_for_the_open_sheet_first(addon, linked):
    response = addon.post("sheets", addon.event("sheets", host="SHEETS", sheets={"addonHasFileScopePermission": False}))
    validate_response(response.json)
    assert "regnearket" in texts(response.json) and "Giv adgang" in texts(response.json)


def test_a_trigger_that_fails_shows_a_card_with_the_reason(addon, linked, message, google):  # noqa: F811
    part = gmail_part()
    part["gmail"]["accessToken"] = "expired-message-token"  # Gmail refuses the message
    response = addon.post("gmail", addon.event("gmail", **part))
    assert response.status_code == 200
    validate_response(response.json)
    assert "Google refused access" in texts(response.json)


def test_the_gmail_flow_over_real_http(live_app, addon, linked, new_case, message):  # noqa: F811
    """The same calls Google makes, over a real HTTP connection to the served app."""
    case = new_case(linked, title="Elevsag Jens")
    body, headers = as_sent_by_google(addon.event("gmail", **gmail_part()))
    opened = requests.post(f"{live_app.url}/api/google/addon/gmail", json=body, headers=headers, timeout=30)
    assert opened.status_code == 200 and opened.headers["Content-Type"] == "application/json"
    validate_response(opened.json())
    event = addon.event("gmail-archive", form={"case_id": case["id"], "attachments": []}, **gmail_part())
    body, headers = as_sent_by_google(event)
    archived = requests.post(f"{live_app.url}/api/google/addon/gmail-archive", json=body, headers=headers, timeout=30)
    validate_response(archived.json())
    (doc,) = linked.get(f"/api/documents?scope=case&case_id={case['id']}").json
    forged = requests.post(f"{live_app.url}/api/google/addon/gmail-archive", json=body, timeout=30,
                           headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"})
    assert forged.status_code == 401
    assert len(linked.get(f"/api/documents?scope=case&case_id={case['id']}").json) == 1
