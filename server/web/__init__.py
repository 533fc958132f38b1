"""Browser UI: server-rendered pages (Jinja, htmx) that call the domain services directly.

Danish first (Flask-Babel: Danish is the source language of the templates, English a translation).
Every page goes through the same session, CSRF check and access checks as the API.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_babel import Babel

from server.web.blueprint import bp

LANGUAGES = ("da", "en")
HERE = Path(__file__).resolve().parent

# No inline scripts or styles anywhere: htmx and app.js come from /static, and htmx is told not to
# add its own <style> (meta htmx-config), so 'self' is all a page needs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    from server.web import admin, auth, cases, contacts, dashboard, documents, errors, merge, post, search, tasks  # noqa: F401  (routes)

    app.config.update(
        BABEL_DEFAULT_LOCALE="da",
        BABEL_DEFAULT_TIMEZONE="Europe/Copenhagen",
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )
    Babel(app, locale_selector=locale)
    app.register_blueprint(bp)
    for code in (404, 405):
        app.register_error_handler(code, errors.page_or_json_error)


def locale() -> str:
    """The language chosen with the switch, else the browser's preference, else Danish (also outside requests)."""
    if not has_request_context():
        return "da"
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="da")


@bp.after_request
def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        # pages show personal data: never from a shared cache, and the language decides the text
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response
