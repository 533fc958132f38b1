"""Card JSON for the add-on (google.apps.card.v1) and the responses that carry cards.

Triggers (homepage, a message opened) answer with a RenderActions object at top level; button
callbacks answer with {"renderActions": …}. Action parameters are strings: Google's API types them so.
"""
from __future__ import annotations

MAX_ITEMS = 100  # selection items shown; a card holds at most 100 widgets and long lists help nobody


def card(title: str, *sections: dict, subtitle: str | None = None, name: str | None = None) -> dict:
    header = {"title": title, **({"subtitle": subtitle} if subtitle else {})}
    return {"header": header, "sections": [s for s in sections if s["widgets"]], **({"name": name} if name else {})}


def section(*widgets: dict | None, header: str | None = None) -> dict:
    return {**({"header": header} if header else {}), "widgets": [w for w in widgets if w]}


def text(value: str) -> dict:
    return {"textParagraph": {"text": value}}


def fact(label: str, value: str, bottom: str | None = None) -> dict:
    body = {"topLabel": label, "text": value or "–", "wrapText": True}
    if bottom:
        body["bottomLabel"] = bottom
    return {"decoratedText": body}


def text_input(name: str, label: str, value: str = "", hint: str | None = None, multiline: bool = False) -> dict:
    body = {"name": name, "label": label, "value": value, "type": "MULTIPLE_LINE" if multiline else "SINGLE_LINE"}
    if hint:
        body["hintText"] = hint
    return {"textInput": body}


def choice(name: str, label: str, items: list[tuple[str, str, bool]], kind: str = "DROPDOWN") -> dict | None:
    """A selection input from (text, value, selected) triples; None when there is nothing to choose."""
    if not items:
        return None
    return {"selectionInput": {"name": name, "label": label, "type": kind, "items": [
        {"text": t, "value": v, "selected": s} for t, v, s in items[:MAX_ITEMS]]}}


def switch(name: str, label: str, on: bool = False) -> dict:
    return choice(name, "", [(label, "yes", on)], kind="SWITCH")


def date_time(name: str, label: str) -> dict:
    return {"dateTimePicker": {"name": name, "label": label, "type": "DATE_AND_TIME"}}


def action(url: str, **params: str) -> dict:
    body = {"function": url}
    if params:
        body["parameters"] = [{"key": k, "value": str(v)} for k, v in params.items()]
    return {"action": body}


def button(label: str, url: str, filled: bool = False, **params: str) -> dict:
    return {"text": label, "type": "FILLED" if filled else "OUTLINED", "onClick": action(url, **params)}


def link_button(label: str, url: str) -> dict:
    return {"text": label, "type": "BORDERLESS", "onClick": {"openLink": {"url": url}}}


def buttons(*items: dict | None) -> dict:
    return {"buttonList": {"buttons": [b for b in items if b]}}


# ---------------------------------------------------------------- responses


def show(card_: dict) -> dict:
    """A trigger's answer: show this card."""
    return {"action": {"navigations": [{"pushCard": card_}]}}


def push(card_: dict, note: str | None = None) -> dict:
    """A callback's answer: put a new card on top (the user can go back)."""
    return _render({"navigations": [{"pushCard": card_}]}, note)


def update(card_: dict, note: str | None = None) -> dict:
    """A callback's answer: redraw the current card (form values the user typed are kept)."""
    return _render({"navigations": [{"updateCard": card_}]}, note)


def notify(note: str) -> dict:
    return _render({}, note)


def _render(action_: dict, note: str | None) -> dict:
    if note:
        action_["notification"] = {"text": note}
    return {"renderActions": {"action": action_}}


def request_file_access() -> dict:
    """Ask Docs/Sheets to grant the add-on the open file (drive.file scope, per file)."""
    return {"renderActions": {"hostAppAction": {"editorAction": {"requestFileScopeForActiveDocument": {}}}}}


def request_drive_item(item_id: str) -> dict:
    """Ask Drive to grant the add-on one selected item."""
    return {"renderActions": {"hostAppAction": {"driveAction": {"requestFileScope": {"itemId": item_id}}}}}
