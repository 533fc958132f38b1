"""What a page does when a service says no: sign in first, show the reason, or go back with it."""
from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from server.errors import DomainError, Unauthorized, http_error
from server.web.blueprint import back, bp, is_htmx


def _discard_changes() -> None:
    # A redirect is a success to the unit of work, which would commit half a change; undo it first.
    session = g.get("db_session")
    if session is not None:
        session.rollback()


@bp.errorhandler(Unauthorized)
def _sign_in_first(exc: Unauthorized):
    _discard_changes()
    target = url_for("web.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    _discard_changes()
    if request.method == "POST" and not is_htmx():
        flash(_message(exc), "error")
        return redirect(back())
    template = "_error_fragment.html" if is_htmx() else "error.html"
    return render_template(template, message=_message(exc), status=exc.status), exc.status


def form_refused(exc: DomainError, show_form):
    """The form again, with what was typed and why it was refused: a redirect would lose the input.
    `show_form(error)` renders it; the unit of work's changes are undone first."""
    if isinstance(exc, Unauthorized):
        raise exc
    _discard_changes()
    return show_form(_message(exc)), exc.status


def _message(exc: DomainError) -> str:
    details = [f"{field}: {text}" for field, text in (exc.errors or {}).items() if text != exc.message]
    return " ".join([exc.message, *details])


def page_or_json_error(exc: HTTPException):
    """An unknown address (or a malformed id in one) asked for by a browser gets a page in the
    site's look; the API and everything else get the JSON error body."""
    wants_page = not request.path.startswith("/api/") and request.accept_mimetypes.best == "text/html"
    if not wants_page or is_htmx():
        return http_error(exc)
    message = _("Siden findes ikke.") if exc.code == 404 else exc.description or exc.name
    return render_template("error.html", message=message, status=exc.code), exc.code
