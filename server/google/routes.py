"""The add-on's HTTP endpoints: Google posts an event object, we answer with cards."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from marshmallow import INCLUDE, Schema, fields

from server.api import blueprint
from server.db import get_session
from server.errors import DomainError, NotFound
from server.google import cards, docs, gmail, services, sheets
from server.google.events import Event

blp = blueprint("google", "/google", "Google Workspace add-on: Google's event objects in, cards out")


def _trigger(build):
    """A card builder answering a trigger (a card shown at the root)."""
    return lambda call: cards.show(build(call))


def _search(call: services.Call) -> dict:
    view = VIEWS.get(call.event.param("view", ""))
    if view is None:
        raise NotFound("Unknown card to search from.")
    return cards.update(view(call, call.event.value("q")))


VIEWS = {"gmail": gmail.message_card, "docs": docs.document_card}

# endpoint name -> (handler, answers a trigger)
HANDLERS = {
    "homepage": (services.homepage, True),
    "gmail": (_trigger(gmail.message_card), True),
    "gmail-archive": (gmail.archive, False),
    "search": (_search, False),
    "docs": (docs.on_open, True),
    "grant": (services.grant, False),
    "docs-archive": (docs.archive, False),
    "docs-preview": (docs.preview, False),
    "docs-send": (docs.send, False),
    "docs-status": (docs.status, False),
    "drive": (docs.on_drive_items, True),
    "sheets": (sheets.on_open, True),
    "sheets-check": (sheets.check, False),
    "sheets-dispatch": (sheets.dispatch, False),
    "sheets-status": (sheets.write_statuses, False),
}


class EventSchema(Schema):
    """Google's event object; host parts (gmail, docs, sheets, drive …) pass through as they come."""

    class Meta:
        unknown = INCLUDE

    commonEventObject = fields.Dict(load_default=dict)
    authorizationEventObject = fields.Dict(load_default=dict)


@blp.route("/addon/<string:name>")
class AddonEndpoint(MethodView):
    @blp.arguments(EventSchema)
    @blp.response(200, description="A render action or a form-submit response with cards (Google's add-on JSON)")
    @blp.alt_response(401, description="Not a call Google signed for this add-on")
    def post(self, event, name):
        """One add-on trigger or button: homepage, gmail, gmail-archive, docs, docs-send, sheets, …"""
        if name not in HANDLERS:
            raise NotFound(f"The add-on has no endpoint {name!r}.")
        handler, trigger = HANDLERS[name]
        settings = current_app.config["SAGSPOST"]
        base_url = (settings.google_addon_base_url or request.host_url).rstrip("/")
        session, parsed = get_session(), Event(event)
        claims = services.verify_caller(settings, parsed, base_url + request.path, _bearer())
        try:
            actor = services.user_of(session, settings, claims)
            call = services.Call(session, actor, parsed, settings, current_app.extensions["sagspost.blobs"],
                                 current_app.extensions["sagspost.registers"],
                                 current_app.extensions["sagspost.post_provider"], base_url)
            return handler(call)
        except DomainError as exc:
            # the card shows why; nothing of the refused step is kept
            session.rollback()
            return services.problem(exc.message, trigger)


def _bearer() -> str | None:
    """Google's system ID token, sent as the Authorization header (the deployment's default)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None
