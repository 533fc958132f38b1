"""Google sign-in in the browser: the OpenID Connect code flow against a local Google."""
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from server.auth.google_tokens import google_sign_in_enabled
from tests.google.conftest import GOOGLE_SUB

SIGN_IN_CLIENT = "987654321-web.apps.googleusercontent.com"


@pytest.fixture
def app_overrides(app_overrides, google):
    return {**app_overrides, "google_client_id": SIGN_IN_CLIENT, "google_client_secret": "web-secret",
            "google_auth_url": f"{google.url}/o/oauth2/v2/auth", "google_token_url": f"{google.url}/token"}


def _start(client, next_="/cases"):
    response = client.get(f"/api/auth/google/login?next={next_}")
    assert response.status_code == 302, response.json
    location = urlsplit(response.headers["Location"])
    return location, {k: v[0] for k, v in parse_qs(location.query).items()}


def _google_answers(google, query, **claims):
    """What Google does after the user picks an account: a code for a token with the request's nonce."""
    code = f"code-{len(google.codes)}"
    google.codes[code] = {"aud": SIGN_IN_CLIENT, "sub": GOOGLE_SUB, "email": "anna@kommune.dk", "email_verified": True,
                          "nonce": query["nonce"], **claims}
    return code


def test_a_linked_user_signs_in_with_google_and_lands_where_they_started(app, linked, google):
    assert google_sign_in_enabled(app.config["SAGSPOST"])
    client = app.test_client()
    location, query = _start(client)
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{google.url}/o/oauth2/v2/auth"
    assert query["client_id"] == SIGN_IN_CLIENT and query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert query["redirect_uri"] == "https://sagspost.example.dk/api/auth/google/callback"
    code = _google_answers(google, query)
    back = client.get(f"/api/auth/google/callback?code={code}&state={query['state']}")
    assert back.status_code == 302 and back.headers["Location"] == "/cases"
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.json["user"]["username"] == "anna" and me.json["csrf_token"]


@pytest.mark.parametrize("tamper", ["state", "nonce", "audience", "unlinked"])
def test_a_tampered_or_unlinked_answer_signs_nobody_in(app, linked, google, tamper):
    client = app.test_client()
    _location, query = _start(client)
    claims = {"nonce": {"nonce": "other"}, "audience": {"aud": "someone-else"}, "unlinked": {"sub": "777"}}.get(tamper, {})
    code = _google_answers(google, query, **claims)
    state = "forged" if tamper == "state" else query["state"]
    back = client.get(f"/api/auth/google/callback?code={code}&state={state}")
    assert back.status_code == 401, back.json
    assert client.get("/api/auth/me").status_code == 401


def test_without_a_client_id_there_is_no_google_sign_in(app, google):
    settings = replace(app.config["SAGSPOST"], google_client_id="")
    assert not google_sign_in_enabled(settings)
    app.config["SAGSPOST"] = settings
    assert app.test_client().get("/api/auth/google/login").status_code == 404
