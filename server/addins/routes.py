"""The add-ins' API under /api/addin, and the task pane and manifests under /addin and /manifest."""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory
from flask.views import MethodView

from server.addins import manifests, services
from server.addins import schemas as s
from server.api import blueprint
from server.auth import current
from server.auth.entra import EntraConfig
from server.db import get_session
from server.documents.routes import MAX_EMAIL_BYTES
from server.documents.schemas import ArchivedSchema
from server.errors import Invalid

blp = blueprint("addins", "/addin", "Office and Google add-ins: sign-in, case suggestions, archiving messages")
pages = Blueprint("addin_pages", __name__)

PANE_DIR = manifests.ROOT / "addin"
PANE_FILES = {".html", ".js", ".css", ".png", ".svg"}
OFFICE_JS_CDN = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
# files from the pane's npm packages that the pane loads, by the name it asks for
VENDOR = {
    "office.js": "@microsoft/office-js/dist/office.js",
    "msal-browser.min.js": "@azure/msal-browser/lib/msal-browser.min.js",
}


def _settings():
    return current_app.config["SAGSPOST"]


def _entra() -> EntraConfig:
    return EntraConfig.from_settings(_settings())


def _entra_http():
    # tests put a client here that speaks to a local identity provider; None: the real network
    return current_app.extensions.get("sagspost.entra_http")


@blp.route("/config")
class PaneConfig(MethodView):
    @blp.response(200, s.PaneConfigSchema)
    def get(self):
        """What the task pane needs before sign-in: where Office.js comes from, and the Entra app"""
        settings, entra = _settings(), _entra()
        local = settings.addin_office_js == "local"
        return {
            "office_js": "/addin/vendor/office.js" if local else OFFICE_JS_CDN,
            "msal_js": "/addin/vendor/msal-browser.min.js",
            "entra_client_id": entra.client_id if entra.enabled else None,
            "entra_scope": f"{entra.app_id_uri or f'api://{request.host}/{entra.client_id}'}/{entra.scope}" if entra.enabled else None,
            "entra_authority": entra.authority,
        }


@blp.route("/sign-in")
class SignIn(MethodView):
    @blp.arguments(s.SignInSchema)
    @blp.response(200, s.PaneTokenSchema)
    def post(self, body):
        """Sign in with a Sagspost account (the Office dialog's fallback): a personal API token for the pane"""
        return services.sign_in_with_password(get_session(), current.passwords(), body["username"], body["password"],
                                              _settings().addin_token_days)


@blp.route("/entra-sign-in")
class EntraSignIn(MethodView):
    @blp.arguments(s.EntraSignInSchema)
    @blp.response(200, s.PaneTokenSchema)
    def post(self, body):
        """Single sign-on: exchange the pane's Entra ID token for a personal API token of the linked user"""
        return services.sign_in_with_entra(get_session(), _entra(), body["token"], _settings().addin_token_days,
                                           http=_entra_http())


@blp.route("/suggestions")
class Suggestions(MethodView):
    @blp.arguments(s.SuggestionQuerySchema, location="query")
    @blp.response(200, s.SuggestionSchema(many=True))
    def get(self, query):
        """Cases to archive a message on, with why each is suggested"""
        return services.suggest_cases(get_session(), current.actor(), sender_email=query["sender"],
                                      conversation_id=query["conversation_id"], message_id=query["message_id"],
                                      limit=query["limit"])


@blp.route("/archived")
class Archived(MethodView):
    @blp.arguments(s.ArchivedQuerySchema, location="query")
    @blp.response(200, s.LocationSchema(many=True))
    def get(self, query):
        """Where a message (by its Message-ID) is archived, on cases I may read"""
        return services.archived_locations(get_session(), current.actor(), query["message_id"])


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(s.MessageArchiveFormSchema, location="form")
    @blp.arguments(s.MessageFileSchema, location="files")
    @blp.response(201, ArchivedSchema)
    @blp.alt_response(200, schema=ArchivedSchema, description="The same message is on the case already")
    def post(self, form, files):
        """Archive a message from Outlook on a case: the .eml, or read through Graph by its id"""
        session, actor = get_session(), current.actor()
        item_id, sso_token = form.pop("item_id"), form.pop("sso_token")
        if "file" in files:
            raw = files["file"].stream.read(MAX_EMAIL_BYTES + 1)
        elif item_id and sso_token:
            raw = services.message_from_graph(session, actor, _entra(), sso_token, item_id, http=_entra_http())
        else:
            raise Invalid.field("file", "Send the message as a file, or its item_id with sso_token.")
        if len(raw) > MAX_EMAIL_BYTES:
            raise Invalid.field("file", f"An e-mail may be at most {MAX_EMAIL_BYTES // 2**20} MB.")
        result = services.archive_message(session, actor, current_app.extensions["sagspost.blobs"], raw,
                                          max_bytes=_settings().max_upload_mb * 2**20, **form)
        return result, 200 if result.duplicate else 201


# ---------------------------------------------------------------- pane files and manifests


@pages.get("/addin/<path:name>")
def pane_file(name: str):
    """The task pane's own files, its icons, and Office.js / MSAL.js from its npm packages."""
    if name.startswith("vendor/"):
        target = VENDOR.get(name.removeprefix("vendor/"))
        if target is None:
            abort(404)
        return send_from_directory(PANE_DIR / "node_modules", target, max_age=3600)
    if name.startswith("icons/"):
        return send_from_directory(manifests.ICONS, name.removeprefix("icons/"), max_age=3600)
    if Path(name).suffix not in PANE_FILES or name.split("/")[0] in {"test", "node_modules"}:
        abort(404)
    return send_from_directory(PANE_DIR, name, max_age=0)


@pages.get("/manifest/<name>")
def manifest(name: str):
    """A manifest rendered for the URL this server is reached at (HTTPS, as Office requires)."""
    try:
        body = manifests.render(name, request.host_url.replace("http://", "https://", 1), _settings().addin_id)
    except KeyError:
        abort(404)
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return current_app.response_class(body, mimetype=mime,
                                      headers={"Content-Disposition": f'attachment; filename="{name}"'})
