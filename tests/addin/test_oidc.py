"""JWT verification against a key set served over HTTP (server/auth/oidc.py)."""
import datetime
import json
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from server.auth import oidc
from server.errors import Unauthorized, Unavailable
from tests.addin.conftest import AUTHORITY, CLIENT_ID, TENANT
from tests.live import serve_in_thread

KEYS = f"{AUTHORITY}/{TENANT}/discovery/v2.0/keys"
ISSUER = f"{AUTHORITY}/{TENANT}/v2.0"


def verify(token, http, **kw):
    kw.setdefault("audiences", [f"api://{CLIENT_ID}"])
    kw.setdefault("issuers", [ISSUER])
    return oidc.verify_jwt(token, jwks_url=KEYS, http=http, **kw)


def test_a_valid_token_gives_its_claims(idp, entra_http):
    claims = verify(idp.token(), entra_http)
    assert claims["oid"] == "oid-anna" and claims["tid"] == TENANT


@pytest.mark.parametrize("change, reason", [
    ({"lifetime": -600}, "expired"),
    ({"audience": "api://someone-else"}, "another application"),
    ({"issuer": "https://evil.example/v2.0"}, "issuer"),
])
def test_a_token_that_breaks_a_rule_is_refused_with_the_reason(idp, entra_http, change, reason):
    with pytest.raises(Unauthorized, match=reason):
        verify(idp.token(**change), entra_http)


def test_a_token_expired_within_the_leeway_is_still_accepted(idp, entra_http):
    assert verify(idp.token(lifetime=-30), entra_http, leeway_s=60)["oid"] == "oid-anna"


def test_a_token_signed_by_another_key_with_a_published_kid_is_refused(idp, entra_http):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="signature"):
        verify(idp.token(key=forger), entra_http)


def test_a_symmetric_token_is_refused_before_any_key_is_fetched(idp, entra_http):
    token = jwt.encode({"aud": "x", "iss": ISSUER, "exp": time.time() + 60, "iat": time.time()}, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    with pytest.raises(Unauthorized, match="algorithm"):
        verify(token, entra_http)
    assert idp.key_set_fetches == 0


def test_keys_are_cached_and_fetched_again_when_the_provider_rotates(idp, entra_http, monkeypatch):
    verify(idp.token(), entra_http)
    verify(idp.token(), entra_http)
    assert idp.key_set_fetches == 1
    monkeypatch.setattr(oidc, "REFETCH_AFTER_S", 0)
    idp.rotate()
    assert verify(idp.token(), entra_http)["oid"] == "oid-anna"
    assert idp.key_set_fetches == 2


def test_an_unknown_key_does_not_refetch_more_than_once_per_interval(idp, entra_http):
    verify(idp.token(), entra_http)
    for _ in range(3):
        with pytest.raises(Unauthorized, match="does not publish"):
            verify(idp.token(kid="made-up"), entra_http)
    assert idp.key_set_fetches == 1


def test_an_unreachable_key_set_is_unavailable_not_unauthorized(idp):
    token = idp.token()
    with pytest.raises(Unavailable):
        oidc.verify_jwt(token, jwks_url="http://127.0.0.1:9/keys", audiences=[f"api://{CLIENT_ID}"])


def _certificate(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.example")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(datetime.datetime(2040, 1, 1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_google_style_x509_certificates_verify_id_tokens():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certs = {"g1": _certificate(key)}

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(certs).encode()]

    live = serve_in_thread(app, name="google-certs")
    try:
        now = int(time.time())
        token = jwt.encode({"aud": "addon", "iss": "https://accounts.google.com", "exp": now + 60, "iat": now,
                            "email": "a@b.dk"}, key, algorithm="RS256", headers={"kid": "g1"})
        claims = oidc.verify_jwt(token, jwks_url=live.url + "/certs", audiences=["addon"],
                                 issuers=["https://accounts.google.com"], key_format="x509")
        assert claims["email"] == "a@b.dk"
    finally:
        live.stop()
        oidc.clear_cache()
