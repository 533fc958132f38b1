"""What every add-on card shares: the call's context, the case chooser, the homepage, error cards."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session

from server.admin import services as lists
from server.admin.models import DocumentType
from server.auth import google_tokens
from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import services as cases
from server.config import Settings
from server.documents.blobs import BlobStore
from server.errors import Invalid
from server.google import cards
from server.google.apis import GoogleApis
from server.google.events import Event

ADDON_PATH = "/api/google/addon/"
CASE_CHOICES = 20


@dataclass
class Call:
    """One call from Google, after its ID token and the user's identity were checked."""

    session: Session
    actor: Principal
    event: Event
    settings: Settings
    store: BlobStore
    registers: object
    provider: object
    base_url: str

    def url(self, name: str) -> str:
        """The absolute URL of another add-on endpoint (Google calls buttons' functions by URL)."""
        return f"{self.base_url}{ADDON_PATH}{name}"

    def web_url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @cached_property
    def apis(self) -> GoogleApis:
        if not self.event.user_oauth_token:
            raise Invalid("Google sent no access token for you; open the add-on again and allow it access.")
        return GoogleApis(self.event.user_oauth_token, self.settings.google_api_root, self.settings.google_api_timeout_s)

    @property
    def max_bytes(self) -> int:
        return self.settings.max_upload_mb * 1024 * 1024


# ---------------------------------------------------------------- choosing a case


def case_chooser(call: Call, view: str, suggested: list[dict] = (), q: str = "", **keep: str) -> dict:
    """The case dropdown and a search field whose button redraws the card `view` with the hits.
    Search hits come first (the first is chosen), then the suggestions, then my recent cases;
    `keep` goes along with the search as parameters (what the card is about)."""
    items, seen = [], set()
    found = _found(call, q)
    for case in (found + list(suggested) if q else list(suggested) + found):
        if case["id"] not in seen:
            seen.add(case["id"])
            items.append((f"{case['number']} {case['title']}", case["id"], not items))
    return cards.section(
        cards.choice("case_id", "Sag", items) or cards.text("Ingen sager fundet. Søg efter sagsnummer eller titel."),
        cards.text_input("q", "Søg sag (nummer eller titel)", q),
        cards.buttons(cards.button("Søg", call.url("search"), view=view, **keep)),
        header="Sag",
    )


def _found(call: Call, q: str) -> list[dict]:
    flt = cases.CaseFilter(scope="all", q=q) if q else cases.CaseFilter(scope="mine")
    found, _total = cases.list_cases(call.session, call.actor, flt, offset=0, limit=CASE_CHOICES)
    return [{"id": str(c.id), "number": c.number, "title": c.title} for c in found]


def chosen_case(call: Call) -> uuid.UUID:
    return call.event.id_of("case_id", "Vælg en sag først.")


def document_type_choice(call: Call, default_name: str | None = None) -> dict | None:
    types = lists.list_named(call.session, DocumentType)
    return cards.choice("document_type_id", "Dokumenttype", [("(ingen)", "", default_name is None)] + [
        (t.name, str(t.id), t.name == default_name) for t in types])


def chosen_document_type(call: Call) -> uuid.UUID | None:
    return call.event.id_of("document_type_id")


# ---------------------------------------------------------------- homepage and errors


def homepage(call: Call) -> dict:
    user = auth.get_user(call.session, call.actor.user_id)
    hints = {
        "GMAIL": "Åbn en e-mail for at arkivere den på en sag.",
        "DOCS": "Åbn et dokument for at arkivere det eller sende det som Digital Post.",
        "SHEETS": "Åbn et regneark for at sende en brevfletning som Digital Post.",
        "DRIVE": "Vælg et Google-dokument for at arkivere det på en sag.",
    }
    return cards.show(cards.card(
        "Sagspost", cards.section(
            cards.fact("Logget ind som", user.full_name or user.username, user.email),
            cards.text(hints.get(call.event.host, "Sagsbehandling og Digital Post fra Google Workspace.")),
            cards.buttons(cards.link_button("Åbn Sagspost", call.web_url("/"))),
        )))


def access_card(call: Call, what: str, item_id: str | None = None) -> dict:
    """Docs, Sheets and Drive show the add-on a file only once the user grants it (drive.file scope);
    `item_id` names the Drive item to ask for, else the open Docs/Sheets file is meant."""
    params = {"item_id": item_id} if item_id else {}
    return cards.show(cards.card("Sagspost", cards.section(
        cards.text(f"Sagspost skal have adgang til {what} for at kunne arkivere og sende."),
        cards.buttons(cards.button("Giv adgang", call.url("grant"), filled=True, **params)),
    )))


def grant(call: Call) -> dict:
    """Ask the host app to grant the add-on the file the access card named."""
    item_id = call.event.param("item_id")
    return cards.request_drive_item(item_id) if item_id else cards.request_file_access()


def problem(message: str, trigger: bool) -> dict:
    """A refused step: a card for a trigger, a notification for a button (the user's input stays)."""
    if trigger:
        return cards.show(cards.card("Sagspost", cards.section(cards.text(message))))
    return cards.notify(message)


# ---------------------------------------------------------------- who is calling


def verify_caller(settings: Settings, event: Event, endpoint_url: str, system_token: str | None) -> dict:
    """The claims of the user's identity token, once Google's signature on the call and on the user's
    token hold; Unauthorized (401, nothing done) otherwise.

    Google sends the system ID token as the Authorization header (httpOptions.authorizationHeader
    SYSTEM_ID_TOKEN, the default); the user's identity token comes in the event.
    """
    google_tokens.verify_system_token(settings, system_token, endpoint_url)
    return google_tokens.verify_user_token(settings, event.user_id_token)


def user_of(session: Session, settings: Settings, claims: dict) -> Principal:
    """The Sagspost user behind the user's Google identity."""
    user = google_tokens.user_for_claims(session, claims, link_by_email=settings.google_link_by_email)
    return auth.principal_for(user)
