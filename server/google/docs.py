"""Docs (and Drive): archive the open document on a case as .docx and PDF, send it as Digital Post.

The PDF Google renders is the document's main file — what it looks like and what a letter sends —
and the .docx export rides along as an attachment, the editable source.
"""
from __future__ import annotations

import io
import re
import uuid

from server.cases import services as cases
from server.cases.access import Level
from server.contacts import services as contacts
from server.documents import services as documents
from server.documents.models import DocumentStatus
from server.errors import Invalid
from server.google import cards
from server.google.apis import DOCX, PDF
from server.google.services import Call, access_card, case_chooser, chosen_case, chosen_document_type, document_type_choice
from server.post import checks, dispatches, identities
from server.post.views import dispatch_view, letter_view

GOOGLE_DOC = "application/vnd.google-apps.document"
KIND_NAMES = {"recipient": "Modtager", "copy": "Kopi", "guardian": "Kopi (forældremyndighed)"}
NUMBER_TYPES = [("CPR-nummer", "cpr"), ("CVR-nummer", "cvr"), ("P-nummer", "p_number")]
STATUS_NAMES = {"queued": "i kø", "scheduled": "planlagt", "awaiting_approval": "afventer godkendelse",
                "sending": "sendes", "done": "afsendt", "sent": "sendt", "delivered": "leveret",
                "to_print": "til print", "failed": "fejlet", "cancelled": "annulleret"}


def on_open(call: Call) -> dict:
    """The Docs trigger: the archive card once the user has granted the add-on this file."""
    if not call.event.editor_file():
        return access_card(call, "dokumentet")
    return cards.show(document_card(call))


def on_drive_items(call: Call) -> dict:
    """The Drive trigger: archive a selected Google document."""
    docs_ = [item for item in call.event.drive_items() if item.get("mimeType") == GOOGLE_DOC]
    if not docs_:
        return cards.show(cards.card("Sagspost", cards.section(cards.text("Vælg et Google-dokument for at arkivere det."))))
    item = docs_[0]
    if item.get("addonHasFileScopePermission") is False:
        return access_card(call, "dokumentet", item_id=item["id"])
    return cards.show(document_card(call, file_id=item["id"], title=item.get("title", "")))


def document_card(call: Call, q: str = "", file_id: str | None = None, title: str | None = None) -> dict:
    file_ = call.event.editor_file()
    file_id = file_id or call.event.param("file_id") or file_.get("id", "")
    title = title or call.event.param("title") or file_.get("title", "")
    return cards.card(
        "Arkivér dokument",
        case_chooser(call, "docs", q=q, file_id=file_id, title=title),
        cards.section(
            cards.text_input("title", "Titel", title),
            document_type_choice(call, "Brev"),
            cards.switch("final", "Arkivér som endeligt (ikke kladde)"),
            cards.buttons(cards.button("Arkivér på sagen", call.url("docs-archive"), filled=True,
                                       file_id=file_id, title=title)),
        ),
        name="docs",
    )


def archive(call: Call) -> dict:
    doc = _archive(call)
    return cards.push(send_card(call, doc.id), "Dokumentet er arkiveret på sagen.")


def _archive(call: Call):
    file_id = call.event.param("file_id") or call.event.editor_file().get("id")
    if not file_id:
        raise Invalid("Åbn et dokument først.")
    title = call.event.value("title") or call.event.param("title") or "Dokument"
    case_id = chosen_case(call)
    cases.require_case(call.session, call.actor, case_id, Level.WRITE)  # before two exports from Drive
    stem = _file_stem(title)
    pdf = _stored(call, call.apis.export(file_id, PDF), f"{stem}.pdf")
    docx = _stored(call, call.apis.export(file_id, DOCX), f"{stem}.docx")
    doc = documents.create_document(call.session, call.actor, call.store, title=title, main=pdf, attachments=[docx],
                                    case_id=case_id, document_type_id=chosen_document_type(call))
    if call.event.checked("final"):
        documents.set_status(call.session, call.actor, doc.id, DocumentStatus.FINAL)
    return doc


def _file_stem(title: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip()[:120] or "dokument"


def _stored(call: Call, data: bytes, filename: str):
    return documents.store_upload(call.session, call.store, documents.Upload(io.BytesIO(data), filename), call.max_bytes)


# ---------------------------------------------------------------- Digital Post


def send_card(call: Call, document_id: uuid.UUID) -> dict:
    doc = documents.read_document(call.session, call.actor, document_id)
    parties = cases.list_parties(call.session, call.actor, doc.case_id)
    others, _total = documents.list_documents(call.session, call.actor, documents.DocumentFilter(scope="case", case_id=doc.case_id),
                                              offset=0, limit=50)
    senders = identities.list_identities(call.session)
    doc_param = {"document_id": str(doc.id)}
    return cards.card(
        "Send som Digital Post",
        cards.section(cards.fact("Brev", doc.title), cards.text_input("letter_title", "Titel i Digital Post", doc.title)),
        cards.section(
            cards.choice("parties", "Sagens parter", [(p["contact"]["name"], str(p["contact"]["id"]), p["is_primary"])
                                                       for p in parties], kind="CHECK_BOX"),
            cards.choice("number_type", "Andre modtagere er", [(t, v, v == "cpr") for t, v in NUMBER_TYPES]),
            cards.text_input("numbers", "Andre modtagere (ét nummer pr. linje)", multiline=True),
            cards.text_input("copies", "Kopi til (CPR-numre, ét pr. linje)", multiline=True),
            cards.switch("guardians", "Send kopi til forældremyndighedsindehavere (barn under 15)"),
            header="Modtagere",
        ),
        cards.section(
            cards.choice("attachments", "Bilag fra sagen", [(d.title, str(d.id), False) for d in others if d.id != doc.id],
                         kind="CHECK_BOX"),
            cards.choice("sender_identity_id", "Afsender", [(s.name, str(s.id), i == 0) for i, s in enumerate(senders)]),
            cards.date_time("send_at", "Send senere (valgfrit)"),
            cards.buttons(cards.button("Forhåndsvis", call.url("docs-preview"), **doc_param),
                          cards.button("Send", call.url("docs-send"), filled=True, **doc_param)),
        ),
        name="send",
    )


def _document_id(call: Call) -> uuid.UUID:
    return call.event.id_param("document_id", "Arkivér dokumentet først.")


def _recipients(call: Call) -> list[dispatches.RecipientInput]:
    copies = _lines(call.event.value("copies"))
    guardians = call.event.checked("guardians")
    kind = call.event.value("number_type") or "cpr"
    found = [dispatches.RecipientInput(type="contact", contact_id=c, copies=copies, include_guardians=guardians)
             for c in call.event.ids("parties")]
    found += [dispatches.RecipientInput(type=kind, number=n, copies=copies, include_guardians=guardians)
              for n in _lines(call.event.value("numbers"))]
    if not found:
        raise Invalid("Vælg mindst én modtager.")
    return found


def _lines(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]


def preview(call: Call) -> dict:
    """Who gets the letter and how (digital or print), before anything is sent."""
    doc = documents.read_document(call.session, call.actor, _document_id(call))
    widgets = [cards.fact(*_previewed(call, r)) for r in _recipients(call)]
    main = next(f for f in doc.files if f.role.value == "main")
    return cards.push(cards.card("Forhåndsvisning", cards.section(
        cards.fact("Brev", doc.title, main.name), *widgets,
        cards.buttons(cards.link_button("Se brevet (PDF)", call.web_url(f"/documents/{doc.id}/files/{main.id}/download"))),
    )))


def _previewed(call: Call, recipient: dispatches.RecipientInput) -> tuple[str, str, str]:
    if recipient.type == "contact":
        return "Modtager (part)", _contact_name(call, recipient.contact_id), "Tjekkes ved afsendelse"
    check = checks.check_recipient(call.session, call.actor, call.registers, call.provider, recipient.type, recipient.number)
    channel = "Digital Post" if check["channel"] == "digital" else "Print"
    guardians = ", ".join(g["name"] for g in check["guardians"])
    return "Modtager", check["name"] or "(ukendt)", f"{channel}" + (f"; forældremyndighed: {guardians}" if guardians else "")


def _contact_name(call: Call, contact_id: uuid.UUID) -> str:
    return contacts.get_contact(call.session, call.actor, contact_id).name


def send(call: Call) -> dict:
    doc = documents.read_document(call.session, call.actor, _document_id(call))
    dispatch = dispatches.create_dispatch(
        call.session, call.actor, call.store, call.registers, title=call.event.value("letter_title") or doc.title,
        sender_identity_id=call.event.id_of("sender_identity_id", "Vælg en afsender."), recipients=_recipients(call),
        main_document_id=doc.id, attachment_document_ids=call.event.ids("attachments"), case_id=doc.case_id,
        send_at=call.event.moment("send_at"),
    )
    return cards.push(status_card(call, dispatch.id), "Brevet er sendt afsted.")


def status(call: Call) -> dict:
    return cards.update(status_card(call, call.event.id_param("dispatch_id", "Afsendelsen er ukendt.")))


def status_card(call: Call, dispatch_id: uuid.UUID) -> dict:
    dispatch = dispatches.get_dispatch(call.session, call.actor, dispatch_id)
    view = dispatch_view(call.session, dispatch)
    letters, _total = dispatches.list_letters(call.session, call.actor, dispatch.id, offset=0, limit=50)
    rows = [letter_view(call.session, call.actor, letter) for letter in letters]
    return cards.card(
        "Afsendelse", cards.section(
            cards.fact("Titel", dispatch.title, f"Status: {_named(view['status'])}"),
            *[cards.fact(KIND_NAMES[r["kind"].value], r["recipient"]["name"], _named(r["status"])) for r in rows],
            cards.buttons(cards.button("Opdatér status", call.url("docs-status"), dispatch_id=str(dispatch.id))),
        ), subtitle=f"Sendes {call.event.shown_time(dispatch.send_at)}" if dispatch.send_at else None,
    )


def _named(status) -> str:
    value = getattr(status, "value", status)
    return STATUS_NAMES.get(value, value)
