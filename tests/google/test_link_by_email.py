"""Where the administrator allows it, a Google account is linked once to the user with its e-mail."""
import pytest

from server.auth import services as auth
from tests.google.conftest import CLIENT_ID, texts, validate_response


@pytest.fixture
def app_overrides(app_overrides):
    return {**app_overrides, "google_link_by_email": True}


def test_the_first_call_links_by_verified_email_and_later_calls_by_subject(app, addon, make_user):
    anna = make_user("anna.e", email="Anna@Kommune.dk", full_name="Anna Example")
    response = addon.post("homepage", addon.event("homepage", sub="4242", email="anna@kommune.dk"))
    validate_response(response.json)
    assert "Anna Example" in texts(response.json)
    session = app.extensions["sagspost.sessionmaker"]()
    (link,) = auth.get_user(session, anna.user_id).identities
    assert (link.provider, link.subject) == ("google", "4242")
    session.close()
    # the subject decides from now on, whatever address the account shows later
    again = addon.post("homepage", addon.event("homepage", sub="4242", email="renamed@kommune.dk"))
    assert "Anna Example" in texts(again.json)


def test_an_unverified_address_links_nothing(addon, make_user):
    make_user("anna.e", email="anna@kommune.dk")
    event = addon.event("homepage", sub="4242")
    event["authorizationEventObject"]["userIdToken"] = addon.google.sign(
        {"aud": CLIENT_ID, "sub": "4242", "email": "anna@kommune.dk", "email_verified": False})
    response = addon.post("homepage", event)
    assert "not linked" in texts(response.json)
