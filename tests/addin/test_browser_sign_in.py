"""Signing in to the browser UI with a Microsoft (Entra ID) account, against the local identity platform."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.addin.conftest import AUTHORITY, CLIENT_ID, OTHER_TENANT, TENANT


@pytest.fixture
def app_overrides():
    return {"entra_client_id": CLIENT_ID, "entra_client_secret": "s3cret", "entra_tenants": TENANT,
            "entra_link_by_email": True}


def _go_to_microsoft(client, next_path="/cases"):
    response = client.get(f"/api/auth/entra/login?next={next_path}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{AUTHORITY}/{TENANT}/oauth2/v2.0/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
    return query


def _answer(idp, query, code="code-1", **claims):
    """Microsoft signs the user in and sends the browser back with a code for this ID token."""
    claims.setdefault("sub", "pairwise-subject-of-" + claims.get("oid", "oid-anna"))
    idp.codes[code] = idp.token(audience=CLIENT_ID, nonce=query["nonce"], scope=None, **claims)
    return f"/api/auth/entra/callback?code={code}&state={query['state']}"


def test_a_microsoft_account_signs_in_and_lands_where_it_started(entra_app, idp, make_user):
    make_user("anna", email="anna@kommune.dk")
    client = entra_app.test_client()
    assert "Log ind med Microsoft" in client.get("/login").get_data(as_text=True)

    query = _go_to_microsoft(client)
    response = client.get(_answer(idp, query))

    assert response.status_code == 302 and response.headers["Location"].endswith("/cases")
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.json["user"]["username"] == "anna"
    # linked now: the next sign-in finds her by tenant + object id, whatever her e-mail says
    client.post("/api/auth/logout", headers={"X-CSRF-Token": me.json["csrf_token"]})
    query = _go_to_microsoft(client)
    client.get(_answer(idp, query, code="code-2", email="changed@kommune.dk"))
    assert client.get("/api/auth/me").json["user"]["username"] == "anna"


def test_forged_foreign_and_unknown_answers_sign_no_one_in(entra_app, idp, make_user):
    make_user("anna", email="anna@kommune.dk")
    client = entra_app.test_client()

    query = _go_to_microsoft(client)
    wrong_state = client.get(_answer(idp, query).replace(query["state"], "someone-elses-state"))
    assert wrong_state.status_code == 401

    query = _go_to_microsoft(client)
    idp.codes["forged"] = idp.token(audience=CLIENT_ID, nonce=query["nonce"], scope=None, sub="x",
                                    key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert client.get(f"/api/auth/entra/callback?code=forged&state={query['state']}").status_code == 401

    query = _go_to_microsoft(client)
    other = client.get(_answer(idp, query, tenant=OTHER_TENANT, issuer=f"{AUTHORITY}/{OTHER_TENANT}/v2.0"))
    assert other.status_code == 401

    query = _go_to_microsoft(client)
    stranger = client.get(_answer(idp, query, oid="oid-stranger", email="stranger@example.com"))
    assert stranger.status_code == 403
    assert client.get("/api/auth/me").status_code == 401

