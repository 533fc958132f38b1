"""Google sign-in for the browser (OpenID Connect code flow), offered where a client id is configured.

/api/auth/google/login sends the browser to Google; Google sends it back to /api/auth/google/callback
with a code, which is traded for Google's ID token; its account must be linked to a Sagspost user
(by subject, or once by e-mail where allowed), who then gets the same cookie session as a password
sign-in. The sign-in page shows the button when `google_sign_in_enabled(settings)`.
"""
from __future__ import annotations

import hmac

from flask import current_app, redirect, session, url_for
from flask.views import MethodView
from marshmallow import Schema, fields

from server.api import blueprint
from server.auth import current
from server.auth import google_tokens
from server.db import get_session, utcnow
from server.errors import NotFound, Unauthorized
from server.web.blueprint import local_url

blp = blueprint("google_signin", "/auth/google", "Google sign-in for the browser (OpenID Connect)")
PENDING = "google_sign_in"


class LoginQuerySchema(Schema):
    next = fields.Str(load_default=None, metadata={"description": "Where to go after signing in (a path on this site)"})


class CallbackQuerySchema(Schema):
    code = fields.Str(load_default="")
    state = fields.Str(load_default="")
    error = fields.Str(load_default=None)


def _settings():
    return current_app.config["SAGSPOST"]


def _redirect_uri() -> str:
    # the URL registered with Google: behind a proxy the public base URL, not the one the request came to
    base = _settings().google_addon_base_url.rstrip("/")
    path = url_for("google_signin.GoogleCallback")
    return f"{base}{path}" if base else url_for("google_signin.GoogleCallback", _external=True)


@blp.route("/login")
class GoogleLogin(MethodView):
    @blp.arguments(LoginQuerySchema, location="query")
    @blp.response(302, description="To Google's sign-in page")
    def get(self, query):
        """Sign in with Google: redirects to Google (404 where Google sign-in is not configured)"""
        if not google_tokens.google_sign_in_enabled(_settings()):
            raise NotFound("Google sign-in is not configured.")
        state, nonce = google_tokens.new_sign_in()
        session[PENDING] = {"state": state, "nonce": nonce, "next": local_url(query["next"]) or "/"}
        return redirect(google_tokens.authorization_url(_settings(), _redirect_uri(), state, nonce))


@blp.route("/callback")
class GoogleCallback(MethodView):
    @blp.arguments(CallbackQuerySchema, location="query")
    @blp.response(302, description="Signed in: to the page the sign-in started from")
    def get(self, query):
        """Google's answer: the code is traded for the ID token and the linked user is signed in"""
        pending = session.pop(PENDING, None)
        if not pending or not hmac.compare_digest(pending["state"].encode(), query["state"].encode()):
            raise Unauthorized("This sign-in answer does not belong to this browser; sign in again.")
        if query["error"]:
            raise Unauthorized(f"Google sign-in was not completed ({query['error']}).")
        claims = google_tokens.claims_for_code(_settings(), query["code"], _redirect_uri(), pending["nonce"])
        user = google_tokens.user_for_claims(get_session(), claims, link_by_email=_settings().google_link_by_email)
        user.last_login_at = utcnow()
        lang = session.get("lang")
        current.start_browser_session(user)
        if lang:
            session["lang"] = lang
        return redirect(pending["next"])
