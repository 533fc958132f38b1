"""Only calls Google signed for this add-on are served; Google accounts map to Sagspost users."""
import pytest

from server.cli import main
from tests.google.conftest import GOOGLE_SUB, texts, validate_response
from tests.google.fake_google import new_key
from tests.google.test_gmail import gmail_part, message  # noqa: F401


def _archive_event(addon, case, **kw):
    return addon.event("gmail-archive", form={"case_id": case["id"]}, **gmail_part(), **kw)


def _documents(caller, case):
    return caller.get(f"/api/documents?scope=case&case_id={case['id']}").json


@pytest.mark.parametrize("forgery", ["other_key", "audience", "service_account", "expired", "missing", "user_token"])
def test_a_forged_call_is_refused_with_401_and_does_nothing(addon, linked, new_case, message, google, forgery):  # noqa: F811
    case = new_case(linked, title="Elevsag Jens")
    event = _archive_event(addon, case)
    tokens = event["authorizationEventObject"]
    if forgery == "other_key":  # signed by someone else under Google's key id
        tokens["systemIdToken"] = google.sign({"aud": "https://sagspost.example.dk/api/google/addon/gmail-archive",
                                               "email": "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
                                               "email_verified": True}, key=new_key())
    elif forgery == "audience":  # a real token, replayed against another endpoint
        tokens["systemIdToken"] = addon.event("gmail")["authorizationEventObject"]["systemIdToken"]
    elif forgery == "service_account":
        event = _archive_event(addon, case, system_claims={"email": "someone@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"})
    elif forgery == "expired":
        event = _archive_event(addon, case, system_claims={"iat": 1_700_000_000, "exp": 1_700_003_600})
    elif forgery == "missing":
        del tokens["systemIdToken"]
    else:  # the user's identity signed by someone else
        tokens["userIdToken"] = google.sign({"aud": "123456789-addon.apps.googleusercontent.com", "sub": GOOGLE_SUB},
                                            key=new_key())
    response = addon.post("gmail-archive", event)
    assert response.status_code == 401, response.json
    assert _documents(linked, case) == []
    assert ("GET", "/gmail/v1/users/me/messages/18c2f0a9b7d3e001") not in google.requests


def test_an_unlinked_google_account_is_not_linked_by_email_unless_allowed(addon, make_user):
    make_user("anna.e", email="anna@kommune.dk")
    for _ in range(2):  # and stays unlinked
        response = addon.post("homepage", addon.event("homepage", email="anna@kommune.dk"))
        assert response.status_code == 200
        validate_response(response.json)
        assert "not linked" in texts(response.json)


def test_the_homepage_greets_the_linked_user(addon, linked):
    response = addon.post("homepage", addon.event("homepage"))
    validate_response(response.json)
    assert "anna" in texts(response.json)


def test_an_administrator_links_a_google_account_from_the_command_line(app, addon, caseworker):
    runner = app.test_cli_runner()
    done = runner.invoke(main, ["link-google", "anna", "555000111"])
    assert done.exit_code == 0, done.output
    response = addon.post("homepage", addon.event("homepage", sub="555000111"))
    assert "Logget ind som" in texts(response.json) and "anna" in texts(response.json)
    again = runner.invoke(main, ["link-google", "anna", "555000111"])
    assert again.exit_code != 0 and "already linked" in again.output
    unknown = runner.invoke(main, ["link-google", "nobody", "1"])
    assert unknown.exit_code != 0 and "No user is called 'nobody'" in unknown.output
