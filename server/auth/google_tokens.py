"""Google identity: the add-on's system ID token, the user's identity token, and Google sign-in (OIDC).

Every call Google makes to an HTTP add-on carries an ID token that Google signs for the add-on's own
service account, with the called URL as audience; the event inside names the user with a second ID
token whose audience is the add-on's OAuth client. Both are checked against Google's published
certificates before anything else happens. A Google account is tied to a Sagspost user by its
subject (`sub`); the first tie by e-mail address happens only where the administrator allows it.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth import oidc
from server.auth import services as auth
from server.auth.models import ExternalIdentity, User
from server.errors import NotFound, Unauthorized, Unavailable

PROVIDER = "google"
ISSUERS = ["https://accounts.google.com", "accounts.google.com"]
SIGN_IN_SCOPES = "openid email profile"


def verify_system_token(settings, token: str | None, endpoint_url: str) -> dict:
    """The claims of the bearer token Google sent to `endpoint_url`, or Unauthorized."""
    if not token:
        raise Unauthorized("The call carries no Google ID token.")
    if not settings.google_addon_service_account:
        raise Unauthorized("The Google add-on is not configured (SAGSPOST_GOOGLE_ADDON_SERVICE_ACCOUNT).")
    claims = _verify(settings, token, [endpoint_url])
    if claims.get("email") != settings.google_addon_service_account or not claims.get("email_verified"):
        raise Unauthorized("The ID token is not the add-on's service account's.")
    return claims


def verify_user_token(settings, token: str | None) -> dict:
    """The claims of the user's identity token from the event (`authorizationEventObject.userIdToken`)."""
    if not token:
        raise Unauthorized("The add-on event names no user; allow the add-on to see who you are.")
    if not settings.google_addon_client_id:
        raise Unauthorized("The Google add-on's OAuth client id is not configured (SAGSPOST_GOOGLE_ADDON_CLIENT_ID).")
    return _verify(settings, token, [settings.google_addon_client_id])


def _verify(settings, token: str, audiences: list[str]) -> dict:
    return oidc.verify_jwt(token, jwks_url=settings.google_certs_url, audiences=audiences, issuers=ISSUERS,
                           key_format="x509")


def user_for_claims(session: Session, claims: dict, *, link_by_email: bool) -> User:
    """The active Sagspost user tied to this Google account (linking it by e-mail once if allowed)."""
    link = session.scalar(select(ExternalIdentity).where(ExternalIdentity.provider == PROVIDER,
                                                         ExternalIdentity.subject == claims["sub"]))
    if link is not None:
        user = link.user
    else:
        user = _user_by_email(session, claims) if link_by_email else None
        if user is None:
            raise Unauthorized("Your Google account is not linked to a Sagspost user; ask an administrator to link it.")
        auth.link_identity(session, None, user, PROVIDER, claims["sub"], claims.get("email"))
    if not user.active:
        raise Unauthorized("Your Sagspost user is deactivated.")
    return user


def link_account(session: Session, username: str, subject: str) -> None:
    """An administrator's link (from the command line): this Google account is this user's."""
    user = auth.find_user(session, username)
    if user is None:
        raise NotFound(f"No user is called {username!r}.")
    auth.link_identity(session, None, user, PROVIDER, subject.strip(), None)


def _user_by_email(session: Session, claims: dict) -> User | None:
    # only an address Google has verified proves the account holder owns it
    email = claims.get("email")
    if not email or claims.get("email_verified") is not True:
        return None
    return session.scalar(select(User).where(func.lower(User.email) == email.lower()))


# ---------------------------------------------------------------- Google sign-in for the browser


def google_sign_in_enabled(settings) -> bool:
    return bool(settings.google_client_id and settings.google_client_secret)


def new_sign_in() -> tuple[str, str]:
    """(state, nonce) for one sign-in: state ties the answer to this browser, nonce the token to this request."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(24)


def authorization_url(settings, redirect_uri: str, state: str, nonce: str) -> str:
    params = {"response_type": "code", "client_id": settings.google_client_id, "redirect_uri": redirect_uri,
              "scope": SIGN_IN_SCOPES, "state": state, "nonce": nonce, "prompt": "select_account"}
    if settings.google_hosted_domain:
        params["hd"] = settings.google_hosted_domain
    return f"{settings.google_auth_url}?{urlencode(params)}"


def claims_for_code(settings, code: str, redirect_uri: str, nonce: str, http=None) -> dict:
    """Trade the authorization code for Google's ID token and return its checked claims."""
    http = http or requests.Session()
    http.trust_env = False
    try:
        response = http.post(settings.google_token_url, timeout=settings.google_api_timeout_s, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.google_client_id, "client_secret": settings.google_client_secret,
        })
    except requests.RequestException as exc:
        raise Unavailable("Google's sign-in service does not answer; try again.") from exc
    if response.status_code != 200 or "id_token" not in response.json():
        raise Unauthorized("Google refused the sign-in; try again.")
    claims = _verify(settings, response.json()["id_token"], [settings.google_client_id])
    if claims.get("nonce") != nonce:
        raise Unauthorized("The Google sign-in answer belongs to another sign-in attempt.")
    if settings.google_hosted_domain and claims.get("hd") != settings.google_hosted_domain:
        raise Unauthorized(f"Only accounts of {settings.google_hosted_domain} may sign in.")
    return claims
