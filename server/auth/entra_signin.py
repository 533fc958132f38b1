"""Microsoft Entra ID sign-in for the browser (OpenID Connect code flow with msal), offered where the
app registration is configured with a client secret.

/api/auth/entra/login sends the browser to Microsoft; Microsoft sends it back to
/api/auth/entra/callback with a code, which msal trades for the ID token; the account must be linked
to a Sagspost user (by tenant + object id, or once by e-mail where allowed), who then gets the same
cookie session as a password sign-in.
"""
from __future__ import annotations

from flask import current_app, redirect, request, session, url_for
from flask.views import MethodView
from marshmallow import Schema, fields

from server.api import blueprint
from server.auth import current, entra
from server.db import get_session, utcnow
from server.errors import NotFound, Unauthorized
from server.web.blueprint import local_url

blp = blueprint("entra_signin", "/auth/entra", "Microsoft Entra ID sign-in for the browser (OpenID Connect)")
PENDING = "entra_sign_in"


class LoginQuerySchema(Schema):
    next = fields.Str(load_default=None, metadata={"description": "Where to go after signing in (a path on this site)"})


class CallbackQuerySchema(Schema):
    code = fields.Str(load_default="")
    state = fields.Str(load_default="")
    error = fields.Str(load_default=None)
    error_description = fields.Str(load_default=None)


def _config() -> entra.EntraConfig:
    return entra.EntraConfig.from_settings(current_app.config["SAGSPOST"])


def _http():
    return current_app.extensions.get("sagspost.entra_http")


@blp.route("/login")
class EntraLogin(MethodView):
    @blp.arguments(LoginQuerySchema, location="query")
    @blp.response(302, description="To Microsoft's sign-in page")
    def get(self, query):
        """Sign in with Microsoft: redirects to Entra ID (404 where it is not configured)"""
        if not entra.browser_sign_in_enabled(_config()):
            raise NotFound("Microsoft sign-in is not configured.")
        flow = entra.start_browser_sign_in(_config(), url_for("entra_signin.EntraCallback", _external=True),
                                           http=_http())
        session[PENDING] = {"flow": flow, "next": local_url(query["next"]) or "/"}
        return redirect(flow["auth_uri"])


@blp.route("/callback")
class EntraCallback(MethodView):
    @blp.arguments(CallbackQuerySchema, location="query")
    @blp.response(302, description="Signed in: to the page the sign-in started from")
    def get(self, query):
        """Microsoft's answer: the code is traded for the ID token and the linked user is signed in"""
        pending = session.pop(PENDING, None)
        if not pending:
            raise Unauthorized("This sign-in answer does not belong to this browser; sign in again.")
        if query["error"]:
            raise Unauthorized(f"Microsoft sign-in was not completed ({query['error']}).")
        config = _config()
        claims = entra.claims_for_browser_answer(config, pending["flow"], request.args.to_dict(), http=_http())
        user = entra.user_for_claims(get_session(), config, claims)
        user.last_login_at = utcnow()
        lang = session.get("lang")
        current.start_browser_session(user)
        if lang:
            session["lang"] = lang
        return redirect(pending["next"])
