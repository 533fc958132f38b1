"""Verifying signed JWTs (Entra ID access tokens, Google ID tokens) against keys fetched over HTTP.

The signing keys come from the identity provider's key set URL and are cached per URL. A token
signed with a key id we have not seen makes us fetch the set again (providers rotate keys), but at
most once per `REFETCH_AFTER_S`, so a stream of forged key ids cannot make us hammer the provider.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import jwt
import requests
from cryptography.x509 import load_pem_x509_certificate

from server.errors import Unauthorized, Unavailable

# Only asymmetric algorithms: an "HS256" token would let anyone holding the public key sign.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
REFETCH_AFTER_S = 10
MAX_AGE_S = 24 * 3600
FETCH_TIMEOUT_S = 10


@dataclass
class _KeySet:
    keys: dict[str, object] = field(default_factory=dict)
    fetched_at: float = 0.0


_cache: dict[tuple[str, str], _KeySet] = {}
_lock = threading.Lock()


def _default_http() -> requests.Session:
    http = requests.Session()
    # the key set URL is the provider's; proxy variables meant for other traffic are ignored, like
    # every other outside call in Sagspost
    http.trust_env = False
    return http


def verify_jwt(
    token: str,
    *,
    jwks_url: str,
    audiences: list[str],
    issuers: list[str] | None = None,
    leeway_s: int = 60,
    http=None,
    key_format: str = "jwks",
) -> dict:
    """The token's claims once signature, audience, issuer and expiry hold; Unauthorized otherwise.

    key_format "jwks" reads a JSON Web Key Set ({"keys": [...]}); "x509" reads Google's
    {kid: PEM certificate} document. `http` is anything with requests' `get(url, timeout=)`.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The sign-in token is not a JWT: {exc}.") from exc
    if header.get("alg") not in ALGORITHMS:
        raise Unauthorized(f"The sign-in token's algorithm {header.get('alg')!r} is not accepted.")
    key = _signing_key(jwks_url, key_format, header.get("kid"), http)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=ALGORITHMS,
            audience=audiences,
            leeway=leeway_s,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The sign-in has expired; sign in again.") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized("The sign-in token is meant for another application (audience).") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthorized("The sign-in token's signature is not valid.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The sign-in token is not valid: {exc}.") from exc
    if issuers is not None and claims["iss"] not in issuers:
        raise Unauthorized(f"The sign-in token's issuer {claims['iss']!r} is not trusted.")
    return claims


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _signing_key(url: str, key_format: str, kid: str | None, http) -> object:
    entry = _cache.get((url, key_format))
    if entry is None or (kid not in entry.keys and time.monotonic() - entry.fetched_at > REFETCH_AFTER_S) or _stale(entry):
        entry = _refresh(url, key_format, http)
    if kid is None and len(entry.keys) == 1:
        return next(iter(entry.keys.values()))
    if kid not in entry.keys:
        raise Unauthorized("The sign-in token is signed with a key the identity provider does not publish.")
    return entry.keys[kid]


def _stale(entry: _KeySet) -> bool:
    return time.monotonic() - entry.fetched_at > MAX_AGE_S


def _refresh(url: str, key_format: str, http) -> _KeySet:
    try:
        response = (http or _default_http()).get(url, timeout=FETCH_TIMEOUT_S)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise Unavailable(f"The identity provider's signing keys could not be fetched from {url}.") from exc
    keys = _parse_x509(document) if key_format == "x509" else _parse_jwks(document)
    entry = _KeySet(keys=keys, fetched_at=time.monotonic())
    with _lock:
        _cache[(url, key_format)] = entry
    return entry


def _parse_jwks(document: dict) -> dict[str, object]:
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[jwk.get("kid")] = jwt.PyJWK(jwk).key
        except jwt.PyJWTError:
            continue  # a key type we cannot use (e.g. an encryption key); the others still work
    return keys


def _parse_x509(document: dict) -> dict[str, object]:
    return {kid: load_pem_x509_certificate(pem.encode()).public_key() for kid, pem in document.items()}

