"""Who is calling: a bearer API token or the browser's session cookie (with a CSRF token)."""
from __future__ import annotations

import hmac
import secrets
import uuid

from flask import current_app, g, request, session

from server.auth import services
from server.auth.models import User
from server.auth.principal import Principal
from server.db import get_session
from server.errors import Forbidden, Unauthorized

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"


def init_app(app) -> None:
    @app.before_request
    def _identify():
        g.principal = None
        g.via_cookie = False
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer ") and _googles_own(header[7:].strip()):
            return  # the Google add-on's endpoints verify Google's ID token themselves
        if header.lower().startswith("bearer "):
            user = services.user_for_token(get_session(), header[7:].strip())
            if user is None:
                raise Unauthorized("The API token is unknown, expired or revoked.")
            g.principal = services.principal_for(user)
            return
        user = _cookie_user()
        if user is not None:
            g.principal = services.principal_for(user)
            g.via_cookie = True
            # Signing in again needs no token: it only ever replaces the session with the caller's own.
            if request.method not in SAFE_METHODS and request.endpoint not in ("auth.Login", "web.login"):
                _check_csrf()


# Google calls the add-on's endpoints with its own signed ID token as the bearer token.
GOOGLE_ADDON_PATH = "/api/google/addon/"


def _googles_own(token: str) -> bool:
    return request.path.startswith(GOOGLE_ADDON_PATH) and not token.startswith(services.TOKEN_PREFIX)


def _cookie_user() -> User | None:
    uid, epoch = session.get("uid"), session.get("epoch")
    if uid is None:
        return None
    try:
        return services.load_session_user(get_session(), uuid.UUID(uid), epoch)
    except ValueError:
        return None


def _check_csrf() -> None:
    expected = session.get("csrf", "")
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    # compared as bytes: compare_digest refuses str with non-ASCII characters (a header can carry them)
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Forbidden("Missing or wrong CSRF token; send the X-CSRF-Token header from /api/auth/me.")


def actor() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("Sign in first, or send an API token as 'Authorization: Bearer …'.")
    return principal


def optional_actor() -> Principal | None:
    return g.get("principal")


def start_browser_session(user: User) -> str:
    session.clear()
    session.permanent = True
    session["uid"] = str(user.id)
    session["epoch"] = user.session_epoch
    session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def end_browser_session() -> None:
    session.clear()


def csrf_token() -> str | None:
    return session.get("csrf") if g.get("via_cookie") else None


def passwords() -> services.Passwords:
    return current_app.extensions["sagspost.passwords"]
