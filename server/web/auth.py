"""Signing in and out, and the language switch."""
from __future__ import annotations

import hmac
import secrets

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from server.auth import current, entra
from server.auth import services as auth
from server.auth.google_tokens import google_sign_in_enabled
from server.db import get_session
from server.errors import Unauthorized
from server.web import LANGUAGES
from server.web.blueprint import back, bp, local_url


# The sign-in form's own CSRF token, kept in the (not yet signed-in) session: a sign-in posted from
# another site would otherwise sign the browser in as the attacker (login CSRF).
LOGIN_TOKEN = "login_csrf"


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = local_url(request.values.get("next")) or url_for("web.dashboard")
    if request.method == "GET":
        if current.optional_actor() is not None:
            return redirect(target)
        return _login_form(target)
    expected, given = session.get(LOGIN_TOKEN, ""), request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return _login_form(target, 400, stale=True)
    username = request.form.get("username", "")
    try:
        user = auth.authenticate(get_session(), current.passwords(), username, request.form.get("password", ""))
    except Unauthorized:
        return _login_form(target, 401, username=username, failed=True)
    lang = session.get("lang")
    current.start_browser_session(user)  # the same cookie session as /api/auth/login
    if lang:
        session["lang"] = lang
    return redirect(target)


def _login_form(target: str, status: int = 200, **shown):
    token = session.setdefault(LOGIN_TOKEN, secrets.token_urlsafe(32))
    return render_template("login.html", next=target, providers=_providers(target), login_token=token, **shown), status


def _providers(target: str) -> list[dict]:
    """The other ways to sign in that this installation has configured."""
    settings = current_app.config["SAGSPOST"]
    providers = []
    if entra.browser_sign_in_enabled(entra.EntraConfig.from_settings(settings)):
        providers.append({"label": _("Log ind med Microsoft"), "url": url_for("entra_signin.EntraLogin", next=target)})
    if google_sign_in_enabled(settings):
        providers.append({"label": _("Log ind med Google"), "url": url_for("google_signin.GoogleLogin", next=target)})
    return providers


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    current.end_browser_session()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@bp.post("/language")
def language():
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(back("web.login"))
