"""Gmail, Drive and Sheets through google-api-python-client, as the user the add-on event names.

The clients are built from the discovery documents shipped inside the library (no discovery fetch)
and authorise with the user's OAuth token from the event. `google_api_root` moves every API to one
other host (tests serve the same REST paths locally).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from server.errors import Forbidden, NotFound, Unavailable

# where each API's paths start below the root (from the discovery documents' servicePath)
_SERVICE_PATHS = {("gmail", "v1"): "", ("drive", "v3"): "drive/v3/", ("sheets", "v4"): ""}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
NO_COLOUR = {"red": 1, "green": 1, "blue": 1}
MARKED_COLOUR = {"red": 0.96, "green": 0.78, "blue": 0.76}  # a light red, as spreadsheet users mark errors


@dataclass
class GoogleApis:
    oauth_token: str
    api_root: str = ""
    timeout_s: int = 30

    def _service(self, name: str, version: str):
        # proxy_info=None: like every outside call in Sagspost, proxy variables are not followed
        http = google_auth_httplib2.AuthorizedHttp(Credentials(self.oauth_token),
                                                   http=httplib2.Http(timeout=self.timeout_s, proxy_info=None))
        options = {"api_endpoint": self.api_root.rstrip("/") + "/" + _SERVICE_PATHS[(name, version)]} if self.api_root else None
        return build(name, version, http=http, static_discovery=True, cache_discovery=False, client_options=options)

    # ---------------------------------------------------------------- Gmail

    def message_raw(self, message_id: str, message_token: str) -> bytes:
        """The whole message as RFC 822 bytes. `message_token` is the event's per-message Gmail token,
        which the gmail.addons.current.message.* scopes require beside the user's OAuth token."""
        request = self._service("gmail", "v1").users().messages().get(userId="me", id=message_id, format="raw")
        request.headers["X-Goog-Gmail-Access-Token"] = message_token
        return base64.urlsafe_b64decode(_execute(request)["raw"] + "==")

    # ---------------------------------------------------------------- Drive

    def export(self, file_id: str, mime: str) -> bytes:
        return _execute(self._service("drive", "v3").files().export_media(fileId=file_id, mimeType=mime))

    # ---------------------------------------------------------------- Sheets

    def sheet_ids(self, spreadsheet_id: str) -> dict[str, int]:
        """The spreadsheet's tabs: title -> sheet id, in the order they are shown."""
        meta = _execute(self._service("sheets", "v4").spreadsheets().get(
            spreadsheetId=spreadsheet_id, fields="sheets.properties(sheetId,title)"))
        return {s["properties"]["title"]: s["properties"]["sheetId"] for s in meta.get("sheets", [])}

    def sheet_values(self, spreadsheet_id: str, sheet: str) -> list[list[str]]:
        result = _execute(self._service("sheets", "v4").spreadsheets().values().get(
            spreadsheetId=spreadsheet_id, range=a1(sheet), valueRenderOption="FORMATTED_VALUE"))
        return result.get("values", [])

    def write_column(self, spreadsheet_id: str, sheet: str, column: int, first_row: int, values: list[str]) -> None:
        """Write `values` down one column (0-based) from `first_row` (1-based), as plain text."""
        letter = column_letter(column)
        cells = a1(sheet, f"{letter}{first_row}:{letter}{first_row + len(values) - 1}")
        _execute(self._service("sheets", "v4").spreadsheets().values().batchUpdate(
            spreadsheetId=spreadsheet_id,
            body={"valueInputOption": "RAW", "data": [{"range": cells, "values": [[v] for v in values]}]}))


    def colour_cells(self, spreadsheet_id: str, sheet_id: int, column: int, rows: range, marked: list[int]) -> None:
        """Clear the background of one column (0-based) over `rows` (1-based sheet rows), then colour the
        `marked` rows' cells; the sheet's other cells keep their formatting."""
        def paint(first: int, last: int, colour: dict) -> dict:
            cells = {"sheetId": sheet_id, "startRowIndex": first - 1, "endRowIndex": last,
                     "startColumnIndex": column, "endColumnIndex": column + 1}
            return {"repeatCell": {"range": cells, "cell": {"userEnteredFormat": {"backgroundColor": colour}},
                                   "fields": "userEnteredFormat.backgroundColor"}}

        requests = [paint(rows.start, rows.stop - 1, NO_COLOUR)] + [paint(row, row, MARKED_COLOUR) for row in marked]
        _execute(self._service("sheets", "v4").spreadsheets().batchUpdate(
            spreadsheetId=spreadsheet_id, body={"requests": requests}))


def a1(sheet: str, cells: str = "") -> str:
    quoted = "'" + sheet.replace("'", "''") + "'"
    return f"{quoted}!{cells}" if cells else quoted


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _execute(request):
    try:
        return request.execute(num_retries=2)
    except HttpError as exc:
        status = exc.resp.status
        if status in (401, 403):
            raise Forbidden("Google refused access; open the add-on again and allow it what it asks for.") from exc
        if status == 404:
            raise NotFound("Google does not know that item (deleted, or not shared with you).") from exc
        raise Unavailable(f"Google answered {status}; try again.") from exc
    except (httplib2.HttpLib2Error, OSError) as exc:
        raise Unavailable("Google's APIs do not answer; try again.") from exc
