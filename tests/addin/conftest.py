"""A local Microsoft identity platform and Graph for the add-in tests.

One HTTP server plays login.microsoftonline.com (the tenant's key set, OpenID configuration, the
token endpoint answering msal's on-behalf-of request) and graph.microsoft.com (a message's MIME).
The app and msal reach it through a requests session that sends those hosts' URLs to it, so the
code under test uses the real URLs and protocols and no test reaches the internet.
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit, urlunsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from server.auth import oidc
from tests.cases.conftest import new_case, plan, public_template, template  # noqa: F401
from tests.live import serve_in_thread

TENANT = "8c1e2f3a-0000-4000-8000-00000000aaaa"
OTHER_TENANT = "8c1e2f3a-0000-4000-8000-00000000bbbb"
CLIENT_ID = "5a0b7c1d-0000-4000-8000-0000000000c1"
AUTHORITY = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"


@dataclass
class IdentityProvider:
    """Signs tokens like Entra ID and answers like it; `messages` is the Graph mailbox (id -> MIME)."""

    url: str = ""
    key: object = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "key-1"
    published: list = field(default_factory=list)  # (kid, key) pairs in the key set
    messages: dict = field(default_factory=dict)
    obo_requests: list = field(default_factory=list)
    codes: dict = field(default_factory=dict)  # authorization code -> the ID token it is traded for
    key_set_fetches: int = 0

    def __post_init__(self):
        self.published = [(self.kid, self.key)]

    def token(self, *, tenant=TENANT, oid="oid-anna", email="anna@kommune.dk", audience=f"api://{CLIENT_ID}",
              scope="access_as_user", lifetime=3600, issuer=None, key=None, kid=None, **extra) -> str:
        now = int(time.time())
        claims = {
            "aud": audience, "iss": issuer or f"{AUTHORITY}/{tenant}/v2.0", "tid": tenant, "oid": oid,
            "preferred_username": email, "scp": scope, "iat": now - 10, "nbf": now - 10, "exp": now + lifetime,
            "ver": "2.0", **extra,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def rotate(self) -> None:
        """A new signing key, published beside the old one (as Entra does)."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"key-{len(self.published) + 1}"
        self.published.append((self.kid, self.key))

    # ---- the HTTP side

    def wsgi(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path.endswith("/discovery/v2.0/keys"):
            self.key_set_fetches += 1
            return _json(start_response, {"keys": [_jwk(k.public_key(), kid) for kid, k in self.published]})
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = path.split("/")[1]
            base = f"{AUTHORITY}/{tenant}"
            return _json(start_response, {
                "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{base}/discovery/v2.0/keys",
            })
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
            if form.get("grant_type") == "authorization_code":
                id_token = self.codes.pop(form.get("code"), None)
                if id_token is None or form.get("client_secret") != "s3cret" or not form.get("code_verifier"):
                    return _json(start_response, {"error": "invalid_grant", "error_description": "unknown code"},
                                 "400 Bad Request")
                claims = jwt.decode(id_token, options={"verify_signature": False})
                client_info = base64.urlsafe_b64encode(json.dumps({"uid": claims["oid"], "utid": claims["tid"]}).encode())
                return _json(start_response, {"token_type": "Bearer", "access_token": "graph-token-for-sign-in",
                                              "id_token": id_token, "client_info": client_info.decode().rstrip("="),
                                              "expires_in": 3600, "scope": form.get("scope", "")})
            self.obo_requests.append(form)
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or not form.get("assertion"):
                return _json(start_response, {"error": "invalid_grant", "error_description": "not an OBO request"}, "400 Bad Request")
            return _json(start_response, {"token_type": "Bearer", "access_token": "graph-token-for-" + form["assertion"][-8:],
                                          "expires_in": 3600, "scope": form.get("scope", "")})
        if path.startswith("/v1.0/me/messages/") and path.endswith("/$value"):
            if not environ.get("HTTP_AUTHORIZATION", "").startswith("Bearer graph-token-for-"):
                return _json(start_response, {"error": {"code": "InvalidAuthenticationToken"}}, "401 Unauthorized")
            item_id = path.split("/")[4]
            if item_id not in self.messages:
                return _json(start_response, {"error": {"code": "ErrorItemNotFound"}}, "404 Not Found")
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [self.messages[item_id]]
        return _json(start_response, {"error": "not_found"}, "404 Not Found")


def _jwk(public_key, kid: str) -> dict:
    return {**json.loads(RSAAlgorithm.to_jwk(public_key)), "kid": kid, "use": "sig", "alg": "RS256"}


def _json(start_response, body, status="200 OK"):
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class ToLocal(requests.Session):
    """A requests session that sends Microsoft's login and Graph URLs to the local provider."""

    def __init__(self, local_url: str):
        super().__init__()
        self.trust_env = False
        self.local = urlsplit(local_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.netloc in ("login.microsoftonline.com", "graph.microsoft.com"):
            url = urlunsplit((self.local.scheme, self.local.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def idp():
    oidc.clear_cache()
    provider = IdentityProvider()
    live = serve_in_thread(provider.wsgi, name="entra-local")
    provider.url = live.url
    yield provider
    live.stop()
    oidc.clear_cache()


@pytest.fixture
def entra_http(idp):
    return ToLocal(idp.url)


@pytest.fixture
def app_overrides():
    return {"entra_client_id": CLIENT_ID, "entra_client_secret": "s3cret", "entra_tenants": TENANT}


@pytest.fixture
def entra_app(app, entra_http):
    """The app speaking to the local identity provider."""
    app.extensions["sagspost.entra_http"] = entra_http
    return app
