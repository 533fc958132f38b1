"""Signing in and out, and the language switch."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from server.auth import current
from server.auth import services as auth
from server.auth.google_tokens import google_sign_in_enabled
from server.db import get_session
from server.errors import Unauthorized
from server.web import LANGUAGES
from server.web.blueprint import back, bp, local_url


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = local_url(request.values.get("next")) or url_for("web.dashboard")
    if request.method == "GET":
        if current.optional_actor() is not None:
            return redirect(target)
        return render_template("login.html", next=target, providers=_providers(target))
    username = request.form.get("username", "")
    try:
        user = auth.authenticate(get_session(), current.passwords(), username, request.form.get("password", ""))
    except Unauthorized:
        return render_template("login.html", next=target, username=username, failed=True, providers=_providers(target)), 401
    lang = session.get("lang")
    current.start_browser_session(user)  # the same cookie session as /api/auth/login
    if lang:
        session["lang"] = lang
    return redirect(target)


def _providers(target: str) -> list[dict]:
    """The other ways to sign in that this installation has configured."""
    if not google_sign_in_enabled(current_app.config["SAGSPOST"]):
        return []
    return [{"label": _("Log ind med Google"), "url": url_for("google_signin.GoogleLogin", next=target)}]


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
