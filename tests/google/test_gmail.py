"""Gmail: a message opened in Gmail is archived on a case through the add-on's HTTP endpoints."""
import pytest

from tests.files import email_file, text_pdf
from tests.google.conftest import new_id, texts, validate_response

MESSAGE_ID = "18c2f0a9b7d3e001"
THREAD_ID = "18c2f0a9b7d3e000"
MESSAGE_TOKEN = "gmail-addon-message-token"


@pytest.fixture
def message(google):
    raw = email_file(subject="Ansøgning om SFO-plads", attachments=[
        ("ansøgning.pdf", text_pdf("Ansøgning"), "application/pdf"),
        ("billede.txt", b"ikke relevant", "text/plain"),
    ], message_id=f"<{new_id()}@example.dk>")
    google.messages[MESSAGE_ID] = (raw, THREAD_ID, MESSAGE_TOKEN)
    return raw


def gmail_part():
    return {"gmail": {"messageId": MESSAGE_ID, "threadId": THREAD_ID, "accessToken": MESSAGE_TOKEN}}


def test_opening_a_message_shows_it_with_my_cases_to_choose(addon, linked, new_case, message):
    case = new_case(linked, title="Elevsag Jens")
    response = addon.post("gmail", addon.event("gmail", **gmail_part()))
    assert response.status_code == 200, response.json
    validate_response(response.json)
    shown = texts(response.json)
    assert "Ansøgning om SFO-plads" in shown and "mette@example.dk" in shown
    assert case["number"] in shown and "ansøgning.pdf" in shown and "billede.txt" in shown


def test_a_gmail_event_archives_the_message_with_the_chosen_attachments(addon, linked, new_case, message, google):
    case = new_case(linked, title="Elevsag Jens")
    event = addon.event("gmail-archive", form={"case_id": case["id"], "attachments": ["ansøgning.pdf"], "final": "yes"},
                        **gmail_part())
    response = addon.post("gmail-archive", event)
    assert response.status_code == 200, response.json
    validate_response(response.json)
    assert response.json["renderActions"]["action"]["notification"]["text"] == "E-mailen er arkiveret."
    (doc,) = linked.get(f"/api/documents?scope=case&case_id={case['id']}").json
    assert doc["title"] == "Ansøgning om SFO-plads"
    full = linked.get(f"/api/documents/{doc['id']}").json
    names = sorted(f["name"] for f in full["files"])
    assert "ansøgning.pdf" in names and "billede.txt" not in names and any(n.endswith(".eml") for n in names)
    assert full["status"] == "final"
    # the whole message came from Gmail's API as RFC 822, with the message's own token
    assert ("GET", f"/gmail/v1/users/me/messages/{MESSAGE_ID}") in google.requests

    again = addon.post("gmail", addon.event("gmail", **gmail_part()))
    assert "Allerede arkiveret" in texts(again.json) and case["number"] in texts(again.json)
    validate_response(again.json)


def test_archiving_without_a_case_explains_and_keeps_nothing(addon, linked, new_case, message):
    case = new_case(linked, title="Elevsag Jens")
    response = addon.post("gmail-archive", addon.event("gmail-archive", **gmail_part()))
    assert response.status_code == 200
    validate_response(response.json)
    assert response.json["renderActions"]["action"]["notification"]["text"] == "Vælg en sag først."
    assert linked.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_search_redraws_the_card_with_matching_cases(addon, linked, new_case, message):
    new_case(linked, title="Elevsag Jens")
    wanted = new_case(linked, title="Byggesag Skolevej 4")
    event = addon.event("search", form={"q": "Skolevej"}, params={"view": "gmail"}, **gmail_part())
    response = addon.post("search", event)
    validate_response(response.json)
    card = response.json["renderActions"]["action"]["navigations"][0]["updateCard"]
    (cases,) = [w["selectionInput"] for s in card["sections"] for w in s["widgets"]
                if w.get("selectionInput", {}).get("name") == "case_id"]
    assert cases["items"][0] == {"text": f"{wanted['number']} Byggesag Skolevej 4", "value": wanted["id"], "selected": True}
    assert [i["selected"] for i in cases["items"]].count(True) == 1
