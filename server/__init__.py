"""Sagspost: case files and Digital Post for Danish public authorities."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

from server.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; the only place an app is built."""
    from server import db, errors, logs
    from flask_smorest import Api
    from server.auth import current
    from server.auth.services import Passwords
    from server.documents.blobs import LocalBlobStore
    from server.jobs import worker as jobs_worker

    settings = settings or Settings.from_env()
    logs.configure_logging(settings.log_level, settings.log_format)

    app = Flask(__name__)
    app.config.update(
        SAGSPOST=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_NAME="sagspost_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_lifetime_hours),
        MAX_CONTENT_LENGTH=None,
        API_TITLE="Sagspost API",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": "Personal API token (sp_…)"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "sagspost_session"},
                }
            },
            "security": [{"bearer": []}, {"cookie": []}],
        },
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db.init_app(app, db.make_engine(settings.sqlalchemy_url))
    app.extensions["sagspost.blobs"] = LocalBlobStore(settings.blob_dir)
    jobs_worker.init_app(app)
    _init_post(app, settings)
    _register_job_handlers()
    app.extensions["sagspost.passwords"] = Passwords(settings.argon2_time_cost, settings.argon2_memory_cost_kib)
    logs.init_request_logging(app)
    current.init_app(app)
    errors.register_error_handlers(app)
    api = Api(app)
    _register_blueprints(app, api)
    _init_web(app)
    return app


def _register_blueprints(app: Flask, api) -> None:
    from server.addins.routes import blp as addins_blp
    from server.addins.routes import pages as addin_pages
    from server.admin.routes import blp as admin_blp
    from server.audit.routes import blp as audit_blp
    from server.auth.routes import blp as auth_blp
    from server.cases.routes import blp as cases_blp
    from server.contacts.routes import blp as contacts_blp
    from server.documents.routes import blp as documents_blp
    from server.generation.routes import blp as generation_blp
    from server.post.routes import blp as post_blp
    from server.retention.routes import blp as retention_blp
    from server.health.routes import bp as health_bp
    from server.search.routes import blp as search_blp
    from server.google.routes import blp as google_blp
    from server.google.signin import blp as google_signin_blp
    from server.auth.entra_signin import blp as entra_signin_blp
    from server.work.routes import blp as work_blp

    app.register_blueprint(health_bp)
    app.register_blueprint(addin_pages)
    for blp in (auth_blp, contacts_blp, admin_blp, cases_blp, documents_blp, generation_blp, retention_blp, post_blp, audit_blp, search_blp, addins_blp,
                google_blp, google_signin_blp, entra_signin_blp, work_blp):
        api.register_blueprint(blp)


def _init_web(app: Flask) -> None:
    """The browser UI: HTML pages beside the API, calling the same services."""
    from server import web

    web.init_app(app)


def _register_job_handlers() -> None:
    """Each domain's background job handlers register themselves when imported."""
    from server.documents import jobs as _documents_jobs  # noqa: F401
    from server.generation import jobs as _generation_jobs  # noqa: F401
    from server.post import housekeeping as _post_housekeeping  # noqa: F401
    from server.post import receipts as _post_receipts  # noqa: F401
    from server.post import sending as _post_sending  # noqa: F401


def _init_post(app: Flask, settings: Settings) -> None:
    """Digital Post's adapters: the provider (simulator or NgDP) and the person and business registers."""
    from server.post.dispatches import Registers
    from server.post.providers import make_provider
    from server.post.registers import make_business_register, make_person_register

    app.extensions["sagspost.post_provider"] = make_provider(settings)
    app.extensions["sagspost.registers"] = Registers(make_person_register(settings), make_business_register(settings))
