"""Gmail: on an open message, suggest cases and archive the whole message with chosen attachments."""
from __future__ import annotations

from dataclasses import dataclass

from server.addins import services as addins
from server.documents import mail
from server.errors import Invalid
from server.google import cards
from server.google.services import Call, case_chooser, chosen_case, chosen_document_type, document_type_choice

REASONS = {"message_archived": "allerede arkiveret her", "same_conversation": "samme samtale",
           "sender_is_party": "afsenderen er part", "recent": "min seneste sag"}


@dataclass
class OpenMessage:
    raw: bytes
    parsed: mail.ParsedEmail
    thread_id: str | None


def open_message(call: Call) -> OpenMessage:
    gmail = call.event.gmail
    if not gmail.get("messageId") or not gmail.get("accessToken"):
        raise Invalid("Åbn en e-mail for at arkivere den.")
    raw = call.apis.message_raw(gmail["messageId"], gmail["accessToken"])
    try:
        parsed = mail.parse_email(raw)
    except mail.NotAnEmail as exc:
        raise Invalid(f"Gmail sendte ikke en læsbar e-mail: {exc}.") from None
    return OpenMessage(raw, parsed, gmail.get("threadId"))


def message_card(call: Call, q: str = "") -> dict:
    message = open_message(call)
    parsed = message.parsed
    suggestions = addins.suggest_cases(call.session, call.actor, sender_email=parsed.sender.address if parsed.sender else None,
                                       conversation_id=message.thread_id, message_id=parsed.message_id)
    attachments = [p.filename for p in parsed.parts if not p.inline]
    return cards.card(
        "Arkivér e-mail",
        cards.section(
            cards.fact("Emne", parsed.subject or "(intet emne)"),
            cards.fact("Fra", parsed.sender.address if parsed.sender else ""),
            *_already_archived(call, parsed.message_id),
        ),
        case_chooser(call, "gmail", [_suggested(s) for s in suggestions], q),
        cards.section(
            cards.choice("attachments", "Vedhæftninger der gemmes", [(n, n, True) for n in attachments], kind="CHECK_BOX"),
            document_type_choice(call, "E-mail"),
            cards.switch("final", "Arkivér som endeligt (ikke kladde)"),
            cards.buttons(cards.button("Arkivér", call.url("gmail-archive"), filled=True)),
        ),
        name="gmail",
    )


def _suggested(suggestion: dict) -> dict:
    case = suggestion["case"]
    why = ", ".join(REASONS.get(r, r) for r in suggestion["reasons"])
    return {"id": str(case["id"]), "number": case["number"], "title": f"{case['title']} ({why})"}


def _already_archived(call: Call, message_id: str | None) -> list[dict]:
    places = addins.archived_locations(call.session, call.actor, message_id) if message_id else []
    return [cards.fact("Allerede arkiveret", f"{p['case_number']} {p['case_title']}",
                       call.event.shown_time(p["archived_at"])) for p in places]


def archive(call: Call) -> dict:
    message = open_message(call)
    case_id = chosen_case(call)
    result = addins.archive_message(
        call.session, call.actor, call.store, message.raw, case_id=case_id, conversation_id=message.thread_id,
        max_bytes=call.max_bytes, document_type_id=chosen_document_type(call), final=call.event.checked("final"),
        keep_attachments=call.event.values("attachments"),
    )
    doc = result.document
    note = "E-mailen lå allerede på sagen." if result.duplicate else "E-mailen er arkiveret."
    done = cards.card("Arkiveret", cards.section(
        cards.fact("Dokument", doc.title, f"Status: {'endelig' if doc.status.value == 'final' else 'kladde'}"),
        cards.fact("Filer", ", ".join(f.name for f in doc.files)),
        cards.buttons(cards.link_button("Åbn i Sagspost", call.web_url(f"/documents/{doc.id}"))),
    ))
    return cards.push(done, note)
