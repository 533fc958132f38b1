"""Sheets: mail-merge dispatch from the open spreadsheet, each row's status written back beside it.

The sheet's values are read through the Sheets API and given to the generation domain's mail merge
(the same one the Excel add-in uses), which checks every row. Each row's result — the problem of a
bad row, then the letter's status once sent — goes into a "Status" column, added after the last
column where the sheet has none.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.errors import Invalid
from server.generation import merge as merges
from server.generation import sheets as tables
from server.generation import templates
from server.generation.models import MergeStatus
from server.google import cards
from server.google.apis import column_letter
from server.google.docs import STATUS_NAMES
from server.google.services import Call, access_card
from server.post import identities

STATUS_HEADER = "Status"
ROW_STATUS_NAMES = {**STATUS_NAMES, "invalid": "fejl", "pending": "klargøres", "ready": "klar"}
MARKED = ("invalid", "failed")  # rows whose status cell is coloured: someone must act on them
HEADER_SCAN_ROWS = 20
ROWS_SHOWN = 20  # problems listed on a card; the sheet itself shows them all


@dataclass
class SheetData:
    title: str
    sheet_id: int
    tabs: list[str]  # every tab's title
    header_row: int  # the sheet's row number of the header (1-based)
    header: list[str]  # without the status column
    rows: list[list[str]]  # the rows below the header, without the status column, as long as the header
    status_column: int  # 0-based


def read_sheet(call: Call, spreadsheet_id: str, title: str | None = None) -> SheetData:
    tabs = call.apis.sheet_ids(spreadsheet_id)
    if not tabs:
        raise Invalid("Regnearket har ingen faner.")
    title = title if title in tabs else next(iter(tabs))
    values = call.apis.sheet_values(spreadsheet_id, title)
    start = _header_index(values)
    if start is None:
        raise Invalid(f"Fanen \"{title}\" er tom.")
    header = [str(c).strip() for c in values[start]]
    status = next((i for i, name in enumerate(header) if name.lower() == STATUS_HEADER.lower()), len(header))
    keep = [i for i in range(len(header)) if i != status]
    rows = [[_cell(row, i) for i in keep] for row in values[start + 1:]]
    return SheetData(title, tabs[title], list(tabs), start + 1, [header[i] for i in keep], rows, status)


def _header_index(values: list[list]) -> int | None:
    """The header is the fullest of the first rows: a title line above it ("Elevliste efterår") has
    fewer cells filled than the header."""
    filled = [sum(1 for c in row if str(c).strip()) for row in values[:HEADER_SCAN_ROWS]]
    if not any(filled):
        return None
    return filled.index(max(filled))


def _cell(row: list, index: int) -> str:
    return str(row[index]) if index < len(row) else ""


def _spreadsheet(call: Call) -> str:
    spreadsheet_id = call.event.param("spreadsheet_id") or call.event.editor_file().get("id")
    if not spreadsheet_id:
        raise Invalid("Åbn et regneark først.")
    return spreadsheet_id


def on_open(call: Call) -> dict:
    if not call.event.editor_file():
        return access_card(call, "regnearket")
    return cards.show(sheet_card(call))


def sheet_card(call: Call) -> dict:
    """The merge card: sheet tab, recipient column and template."""
    spreadsheet_id = _spreadsheet(call)
    data = read_sheet(call, spreadsheet_id, call.event.value("sheet") or call.event.param("sheet"))
    found = templates.list_templates(call.session)
    return cards.card(
        "Brevfletning til Digital Post",
        cards.section(
            cards.choice("sheet", "Fane", [(t, t, t == data.title) for t in data.tabs]),
            cards.fact("Rækker", str(sum(1 for r in data.rows if any(r))), f"Overskrifter i række {data.header_row}"),
            cards.fact("Kolonner", ", ".join(h for h in data.header if h)),
            cards.choice("id_column", "Kolonne med CPR/CVR/P-nummer", [("Find selv", "", True)] + [
                (h, h, False) for h in data.header if h]),
            cards.choice("template_id", "Brevskabelon", [(t.name, str(t.id), i == 0) for i, t in enumerate(found)])
            or cards.text("Der er ingen brevskabeloner endnu; en administrator kan lægge dem ind i Sagspost."),
            cards.buttons(cards.button("Kontrollér rækkerne", call.url("sheets-check"), filled=True,
                                       spreadsheet_id=spreadsheet_id)),
        ),
        name="sheets",
    )


def check(call: Call) -> dict:
    """Check every row (a merge is made); bad rows get their problem in the status column."""
    spreadsheet_id = _spreadsheet(call)
    data = read_sheet(call, spreadsheet_id, call.event.value("sheet"))
    template_id = call.event.id_of("template_id", "Vælg en brevskabelon.")
    table = tables.from_values(data.header, data.rows, data.header_row + 1)
    merge = merges.create_from_table(call.session, call.actor, table=table, template_id=template_id,
                                     id_column=call.event.value("id_column") or None, id_type=None)
    _write_statuses(call, spreadsheet_id, data, merge.id)
    params = {"spreadsheet_id": spreadsheet_id, "sheet": data.title, "merge_id": str(merge.id)}
    if merge.problems:
        return cards.push(_problems_card(merge.problems), f"{len(merge.problems)} fejl; rækkerne er markeret i arket.")
    first = merges.rows(call.session, merge, limit=1)[0].row
    return cards.push(_ready_card(call, merge, first, params), "Alle rækker er i orden.")


def _problems_card(problems: list[dict]) -> dict:
    shown = [cards.fact(f"Række {p['row']}" if p.get("row") else "Arket", p["message"], p.get("column"))
             for p in problems[:ROWS_SHOWN]]
    more = len(problems) - ROWS_SHOWN
    return cards.card("Rækker med fejl", cards.section(
        cards.text("Ret rækkerne i arket og kontrollér igen. Fejlen står i kolonnen Status."), *shown,
        cards.text(f"… og {more} fejl mere.") if more > 0 else None))


def _ready_card(call: Call, merge, first_row: int, params: dict) -> dict:
    senders = identities.list_identities(call.session)
    # the browser opens the preview with the user's Sagspost sign-in (the merge is theirs alone)
    preview = call.web_url(f"/api/merges/{merge.id}/rows/{first_row}/preview")
    return cards.card(
        "Klar til afsendelse",
        cards.section(
            cards.fact("Breve", str(merge.row_count), "Brevene dannes nu; send, når de er klar."),
            cards.buttons(cards.link_button(f"Se brevet til række {first_row}", preview)),
            cards.text_input("title", "Titel i Digital Post", "Brev"),
            cards.choice("sender_identity_id", "Afsender", [(s.name, str(s.id), i == 0) for i, s in enumerate(senders)]),
            cards.date_time("send_at", "Send senere (valgfrit)"),
            cards.buttons(cards.button("Send", call.url("sheets-dispatch"), filled=True, **params)),
        ),
    )


def dispatch(call: Call) -> dict:
    """Send the checked merge as one dispatch and write each row's status back."""
    spreadsheet_id, merge_id = _spreadsheet(call), _merge_id(call)
    sender = call.event.id_of("sender_identity_id", "Vælg en afsender.")
    sent = merges.dispatch(call.session, call.actor, call.store, call.registers, merge_id,
                           title=call.event.value("title") or "Brev", sender_identity_id=sender,
                           send_at=call.event.moment("send_at"))
    data = read_sheet(call, spreadsheet_id, call.event.param("sheet"))
    counts = _write_statuses(call, spreadsheet_id, data, merge_id)
    return cards.push(_status_card(call, sent.title, counts, spreadsheet_id, data, merge_id),
                      "Brevene er sendt afsted; status står i arket.")


def write_statuses(call: Call) -> dict:
    """Write the rows' live statuses into the sheet again (receipts arrive after sending)."""
    spreadsheet_id, merge_id = _spreadsheet(call), _merge_id(call)
    data = read_sheet(call, spreadsheet_id, call.event.param("sheet"))
    counts = _write_statuses(call, spreadsheet_id, data, merge_id)
    return cards.update(_status_card(call, call.event.param("title", ""), counts, spreadsheet_id, data, merge_id),
                        "Status er opdateret i arket.")


def _merge_id(call: Call) -> uuid.UUID:
    return call.event.id_param("merge_id", "Kontrollér rækkerne først.")


def _write_statuses(call: Call, spreadsheet_id: str, data: SheetData, merge_id: uuid.UUID) -> dict[str, int]:
    """One write for the whole column: the header, then each data row's status (blank rows stay blank)."""
    rows, _total = merges.row_views(call.session, call.actor, merge_id, offset=0, limit=len(data.rows) + 1)
    # while other rows are bad nothing is being made: a good row is just "ok", not "being prepared"
    held = merges.get_merge(call.session, call.actor, merge_id).status is MergeStatus.INVALID
    by_row = {r["row"]: r for r in rows}
    column = [STATUS_HEADER]
    counts: dict[str, int] = {}
    for number in range(data.header_row + 1, data.header_row + 1 + len(data.rows)):
        row = by_row.get(number)
        column.append(("ok" if held and row["status"] == "pending" else _status_text(row)) if row else "")
        if row:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    call.apis.write_column(spreadsheet_id, data.title, data.status_column, data.header_row, column)
    marked = [r["row"] for r in rows if r["status"] in MARKED]
    call.apis.colour_cells(spreadsheet_id, data.sheet_id, data.status_column,
                           range(data.header_row + 1, data.header_row + 1 + len(data.rows)), marked)
    return counts


def _status_text(row: dict) -> str:
    name = ROW_STATUS_NAMES.get(row["status"], row["status"])
    return f"{name}: {row['problem']}" if row.get("problem") else name


def _status_card(call: Call, title: str, counts: dict[str, int], spreadsheet_id: str, data: SheetData,
                 merge_id: uuid.UUID) -> dict:
    params = {"spreadsheet_id": spreadsheet_id, "sheet": data.title, "merge_id": str(merge_id), "title": title}
    return cards.card("Afsendelse", cards.section(
        cards.fact("Titel", title),
        *[cards.fact(ROW_STATUS_NAMES.get(status, status), str(n)) for status, n in sorted(counts.items())],
        cards.text(f"Status for hver række står i kolonne {column_letter(data.status_column)} i fanen {data.title}."),
        cards.buttons(cards.button("Opdatér status i arket", call.url("sheets-status"), **params)),
    ))
