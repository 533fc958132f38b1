"""Domain errors raised by services, mapped to JSON HTTP errors in one place."""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, default_exceptions


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class Conflict(DomainError):
    status = 409


class Unavailable(DomainError):
    """An outside system (Digital Post, a register) does not answer now; trying later may work."""

    status = 503


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule; `errors` maps field names to messages."""

    status = 422

    @classmethod
    def field(cls, name: str, message: str) -> "Invalid":
        return cls(message, errors={name: [message]})


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def register_error_handlers(app) -> None:
    # Registered per status code: Flask prefers a code's handler to flask-smorest's catch-all
    # HTTPException handler, whose body lacks `message` (validation errors, unknown URLs, 405 …).
    for code in default_exceptions:
        app.register_error_handler(code, http_error)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return jsonify(error_body(exc.status, exc.message, exc.errors)), exc.status

    @app.errorhandler(IntegrityError)
    def _integrity_error(exc: IntegrityError):
        # The constraint text can echo column values (a CPR number), so it is never returned.
        app.logger.warning("integrity error", extra={"constraint": _constraint_name(exc)})
        return jsonify(error_body(409, "The change conflicts with existing data.")), 409


def http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if not message:
        message = "The request is not valid; see errors." if errors else (exc.description or exc.name)
    # keep headers such as Allow (405) and those webargs passes along, never the HTML content type
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    body = {"code": exc.code, "status": exc.name, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), exc.code, headers


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None)
