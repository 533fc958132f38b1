"""A local stand-in for Google: its signing certificates, OAuth token endpoint and the Gmail, Drive
and Sheets REST paths the add-on uses, answering in Google's shapes. ID tokens are signed with a
local RSA key whose certificate is published at /oauth2/v1/certs like Google's."""
from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, abort, jsonify, request

ISSUER = "https://accounts.google.com"
USER_TOKEN = "ya29.user-oauth-token"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class GoogleState:
    key: object = field(default_factory=new_key)
    kid: str = "fake-kid-1"
    messages: dict = field(default_factory=dict)  # id -> (raw bytes, thread id, per-message token)
    files: dict = field(default_factory=dict)  # (file id, mime) -> bytes
    sheets: dict = field(default_factory=dict)  # spreadsheet id -> {sheet title: [[cells]]}
    writes: list = field(default_factory=list)  # (spreadsheet id, range, values)
    colours: dict = field(default_factory=dict)  # (spreadsheet id, sheet id, row, column) (0-based) -> colour
    requests: list = field(default_factory=list)  # (method, path)
    codes: dict = field(default_factory=dict)  # sign-in authorization code -> claims

    def sign(self, claims: dict, key=None, kid: str | None = None) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "iat": now, "exp": now + 3600, **claims}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


def create_fake_google(state: GoogleState) -> Flask:
    app = Flask("fake_google")

    @app.before_request
    def _record_and_authorise():
        state.requests.append((request.method, request.path))
        if request.path.startswith(("/gmail/", "/drive/", "/v4/")) and \
                request.headers.get("Authorization") != f"Bearer {USER_TOKEN}":
            return jsonify(error={"code": 401, "message": "Request had invalid authentication credentials."}), 401

    @app.get("/oauth2/v1/certs")
    def certs():
        return jsonify({state.kid: certificate_pem(state.key)})

    @app.post("/token")
    def token():
        claims = state.codes.pop(request.form.get("code"), None)
        if claims is None:
            return jsonify(error="invalid_grant"), 400
        return jsonify(access_token="ya29.signin", token_type="Bearer", expires_in=3599, id_token=state.sign(claims))

    @app.get("/gmail/v1/users/me/messages/<message_id>")
    def gmail_message(message_id):
        raw, thread_id, message_token = state.messages.get(message_id) or abort(404)
        if request.headers.get("X-Goog-Gmail-Access-Token") != message_token or request.args.get("format") != "raw":
            return jsonify(error={"code": 403, "message": "Missing the current message's access token."}), 403
        return jsonify(id=message_id, threadId=thread_id, labelIds=["INBOX"], sizeEstimate=len(raw),
                       raw=base64.urlsafe_b64encode(raw).decode())

    @app.get("/drive/v3/files/<file_id>/export")
    def drive_export(file_id):
        mime = request.args.get("mimeType")
        data = state.files.get((file_id, mime))
        if data is None or request.args.get("alt") != "media":
            abort(404)
        return data, 200, {"Content-Type": mime}

    @app.get("/v4/spreadsheets/<sheet_id>")
    def spreadsheet(sheet_id):
        book = state.sheets.get(sheet_id) or abort(404)
        return jsonify(sheets=[{"properties": {"sheetId": i, "title": t}} for i, t in enumerate(book)])

    @app.get("/v4/spreadsheets/<sheet_id>/values/<path:cells>")
    def values_get(sheet_id, cells):
        book = state.sheets.get(sheet_id) or abort(404)
        title = _sheet_title(cells)
        rows = book.get(title)
        if rows is None:
            abort(400)
        return jsonify(range=f"'{title}'!A1:Z{len(rows)}", majorDimension="ROWS", values=rows)

    @app.post("/v4/spreadsheets/<sheet_id>:batchUpdate")
    def spreadsheet_batch_update(sheet_id):
        state.sheets.get(sheet_id) or abort(404)
        requests_ = request.get_json()["requests"]
        for item in requests_:
            cell = item["repeatCell"]
            assert cell["fields"] == "userEnteredFormat.backgroundColor"
            cells = cell["range"]
            for row in range(cells["startRowIndex"], cells["endRowIndex"]):
                for column in range(cells["startColumnIndex"], cells["endColumnIndex"]):
                    state.colours[(sheet_id, cells["sheetId"], row, column)] = \
                        cell["cell"]["userEnteredFormat"]["backgroundColor"]
        return jsonify(spreadsheetId=sheet_id, replies=[{} for _ in requests_])

    @app.post("/v4/spreadsheets/<sheet_id>/values:batchUpdate")
    def values_batch_update(sheet_id):
        book = state.sheets.get(sheet_id) or abort(404)
        body = request.get_json()
        for item in body["data"]:
            state.writes.append((sheet_id, item["range"], item["values"]))
            _apply(book, item["range"], item["values"])
        return jsonify(spreadsheetId=sheet_id, totalUpdatedCells=sum(len(i["values"]) for i in body["data"]))

    return app


def _sheet_title(cells: str) -> str:
    title = cells.split("!")[0]
    return title[1:-1].replace("''", "'") if title.startswith("'") else title


def _apply(book: dict, cells: str, values: list[list]) -> None:
    """Write a single-column range like 'Ark1'!F2:F51 into the stored sheet."""
    match = re.fullmatch(r"([A-Z]+)(\d+):[A-Z]+\d+", cells.split("!")[1])
    column = sum((ord(c) - 64) * 26 ** i for i, c in enumerate(reversed(match.group(1)))) - 1
    rows = book[_sheet_title(cells)]
    for offset, (value,) in enumerate(values):
        index = int(match.group(2)) - 1 + offset
        while len(rows) <= index:
            rows.append([])
        row = rows[index]
        row.extend([""] * (column + 1 - len(row)))
        row[column] = value
