"""A local NgDP: the Digital Post REST API shape of server/post/providers.py, served over HTTP.

`sagspost simulator --host 127.0.0.1 --port 8025` serves it with waitress; tests start it in a thread
(tests/post/conftest.py). It speaks the protocol NgdpClient speaks (see the providers module for the
facts and their sources), so the real client is what runs against it:

    POST   /apis/v1/memos/?memo-message-uuid=<uuid>   send one MeMo (XML body): 201 Receipt JSON,
                                                      400 ErrorMessage (invalid MeMo, UUID mismatch,
                                                      rejected), 409 ErrorMessage for a known UUID
    GET    /apis/v1/contacts/?cprNumber=… | ?cvrNumber=…   contact search result
    GET    /apis/v1/receipts/?page=&size=             ids of receipts waiting (PagingResultUUID)
    GET    /apis/v1/receipts/<id>[?delete=true]       one Receipt JSON
    DELETE /apis/v1/receipts/<id>                     acknowledge (204)
    GET    /apis/v1/memos/?page=&size=                ids of inbound messages waiting
    GET    /apis/v1/memos/<id>                        one inbound MeMo (XML)
    DELETE /apis/v1/memos/<id>                        acknowledge (204)

and a control API under /_sim/ that is no part of NgDP (numbers only ever in JSON bodies):

    GET    /_sim/deliveries            {"total", "duplicates_refused", "per_uuid": {uuid: count}, …}
    POST   /_sim/reset                 forget everything (post, contacts, switches)
    GET/PUT/DELETE /_sim/faults        fault switches, see FAULT_DEFAULTS
    PUT    /_sim/contacts/<STATE>      {"numbers": [...]}: these recipients are REGISTERED/EXEMPT/…
    GET/PUT /_sim/contact-rules        {"default": "REGISTERED", "rules": [{"suffix": "9999", "state": "EXEMPT"}]}
    POST   /_sim/inbound               {"reply_to": uuid, "text": …} builds a reply MeMo with ReplyData;
                                       or {"memo_xml": "<…>"} queues any MeMo as inbound post
    GET    /_sim/state                 counts of waiting receipts and inbound messages, switches

Every delivery, receipt, reply, contact state and switch is kept in memory and written through to a
SQLite file (`state_file`), committed before the answer goes out: a delivery that was counted
survives a restart, and a UUID once accepted is refused as a duplicate after it too. Contact numbers
are stored as salted hashes, never as numbers; the parties of delivered letters are kept (as NgDP
keeps the letters) so that a reply can be built for them. Nothing here logs a CPR number.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import random
import re
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from flask import Flask, Response, request

from server.post.providers import DELEGATED_CVR_HEADER

log = logging.getLogger(__name__)

API = "/apis/v1"
STATES = ("REGISTERED", "EXEMPT", "CLOSED", "UNKNOWN")
# How each recipient state ends in a receipt: (receiptStatus, errorCode, errorMessage).
# COMPLETED / NOT_ALLOWED come from the reference system's receipts; SENT_TO_PRINT is our own word
# for "sent on to physical print" (NgDP leaves print to the sender), see providers.py.
RECEIPT_FOR_STATE = {
    "REGISTERED": ("COMPLETED", None, None),
    "EXEMPT": ("SENT_TO_PRINT", "RECIPIENT_EXEMPT", "Recipient is exempt from Digital Post; sent to physical print"),
    "CLOSED": ("NOT_ALLOWED", "RECIPIENT_CLOSED", "Recipient's mailbox is closed"),
    "UNKNOWN": ("NOT_ALLOWED", "RECIPIENT_UNKNOWN", "Recipient is not known by Digital Post"),
}
REGISTRATION_STATUS = {"REGISTERED": "AUTOMATIC_REGISTRATION", "EXEMPT": "EXEMPT_OTHER_REASON", "CLOSED": "UNKNOWN"}
DEFAULT_CONTACT_RULES = {
    "default": "REGISTERED",
    # Handy for `make run`: numbers ending like this behave accordingly unless set explicitly.
    "rules": [{"suffix": "9999", "state": "EXEMPT"}, {"suffix": "8888", "state": "CLOSED"},
              {"suffix": "7777", "state": "UNKNOWN"}],
}
FAULT_DEFAULTS = {
    "latency_ms": 0,  # fixed delay, or [min, max] for a random one, before every answer
    "error_rate": 0.0,  # share of requests answered error_status before anything happens
    "error_status": 503,
    "lost_response_rate": 0.0,  # share of sends that are recorded, then answered error_status
    "timeout_rate": 0.0,  # share of requests that hang for timeout_s (longer than the client waits)
    "timeout_s": 35.0,
    "reject_rate": 0.0,  # share of sends rejected with reject_status and reject_reason
    "reject_status": 400,
    "reject_reason": "Rejected by the simulator",
    "reject_uuids": [],  # messageUUIDs always rejected
    "reject_recipients": [],  # recipient numbers always rejected (kept as hashes)
    # which NgDP resources the latency/error/timeout switches hit: send, contacts, receipts, inbound
    "endpoints": ["send", "contacts", "receipts", "inbound"],
    "seed": None,  # seed for the random switches, for repeatable runs
}
_ENDPOINTS = {"send", "contacts", "receipts", "inbound"}
_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_SALT = b"sagspost-simulator:"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _hash_number(number: str) -> str:
    digits = re.sub(r"\D", "", str(number))
    return hashlib.sha256(_SALT + digits.encode()).hexdigest()


class SimulatorState:
    """All of the simulator's post behind one lock, written through to SQLite."""

    def __init__(self, state_file: Path | None = None):
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.state_file = Path(state_file) if state_file else None
        if self.state_file:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.state_file) if self.state_file else ":memory:",
                                   check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS deliveries (message_uuid TEXT PRIMARY KEY, count INTEGER NOT NULL,
                transmission_id TEXT NOT NULL, received_at TEXT NOT NULL, parties TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS receipts (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS inbound (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, xml BLOB NOT NULL,
                received_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS contacts (number_hash TEXT PRIMARY KEY, state TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        self._load()

    # ------------------------------------------------------------------ loading and writing

    def _load(self) -> None:
        db = self._db
        self.deliveries: dict[str, dict] = {
            row[0]: {"count": row[1], "transmission_id": row[2], "received_at": row[3], "parties": json.loads(row[4])}
            for row in db.execute("SELECT message_uuid, count, transmission_id, received_at, parties FROM deliveries")
        }
        self.counters = {"total": 0, "duplicates_refused": 0, "seq": 0}
        self.counters.update(dict(db.execute("SELECT name, value FROM counters")))
        self.receipts: dict[str, dict] = {
            row[0]: json.loads(row[1]) for row in db.execute("SELECT id, body FROM receipts ORDER BY seq")
        }
        self.inbound: dict[str, tuple[bytes, str]] = {
            row[0]: (bytes(row[1]), row[2]) for row in db.execute("SELECT id, xml, received_at FROM inbound ORDER BY seq")
        }
        self.contacts: dict[str, str] = dict(db.execute("SELECT number_hash, state FROM contacts"))
        stored = dict(db.execute("SELECT name, value FROM settings"))
        self.faults = {**FAULT_DEFAULTS, **json.loads(stored.get("faults", "{}"))}
        self.contact_rules = json.loads(stored["contact_rules"]) if "contact_rules" in stored else DEFAULT_CONTACT_RULES
        self.random = random.Random(self.faults.get("seed"))
        self.last_caller: dict = {}

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        """One transaction; the caller holds the lock."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                db.execute(sql, params)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _counter_sql(self, name: str) -> tuple[str, tuple]:
        return ("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, self.counters[name]))

    def close(self) -> None:
        self.stopping.set()
        with self.lock:
            self._db.close()

    # ------------------------------------------------------------------ post

    def is_delivered(self, message_uuid: str) -> bool:
        with self.lock:
            return message_uuid in self.deliveries

    def refuse_duplicate(self) -> None:
        with self.lock:
            self.counters["duplicates_refused"] += 1
            self._write([self._counter_sql("duplicates_refused")])

    def deliver(self, message_uuid: str, parties: dict, recipient_state: str) -> dict | None:
        """Record a new delivery and its receipt; None if the UUID is already there (a duplicate)."""
        with self.lock:
            if message_uuid in self.deliveries:
                self.counters["duplicates_refused"] += 1
                self._write([self._counter_sql("duplicates_refused")])
                return None
            now = _iso(_now())
            transmission_id = str(uuid.uuid4())
            receipt_status, code, message = RECEIPT_FOR_STATE[recipient_state]
            receipt_id = str(uuid.uuid4())
            receipt = {"transmissionId": transmission_id, "messageUUID": message_uuid, "messageId": None,
                       "errorCode": code, "errorMessage": message, "timeStamp": now, "receiptStatus": receipt_status}
            self.counters["total"] += 1
            self.counters["seq"] += 1
            self._write([
                ("INSERT INTO deliveries (message_uuid, count, transmission_id, received_at, parties) VALUES (?, 1, ?, ?, ?)",
                 (message_uuid, transmission_id, now, json.dumps(parties))),
                ("INSERT INTO receipts (id, seq, body) VALUES (?, ?, ?)", (receipt_id, self.counters["seq"], json.dumps(receipt))),
                self._counter_sql("total"),
                self._counter_sql("seq"),
            ])
            self.deliveries[message_uuid] = {"count": 1, "transmission_id": transmission_id, "received_at": now,
                                             "parties": parties}
            self.receipts[receipt_id] = receipt
            return {"transmissionId": transmission_id, "messageUUID": message_uuid, "messageId": None, "errorCode": None,
                    "errorMessage": None, "timeStamp": now, "receiptStatus": "RECEIVED"}

    def delete_receipt(self, receipt_id: str) -> bool:
        with self.lock:
            if self.receipts.pop(receipt_id, None) is None:
                return False
            self._write([("DELETE FROM receipts WHERE id = ?", (receipt_id,))])
            return True

    def add_inbound(self, message_id: str, xml: bytes) -> None:
        with self.lock:
            received_at = _iso(_now())
            self.counters["seq"] += 1
            self._write([
                ("INSERT OR REPLACE INTO inbound (id, seq, xml, received_at) VALUES (?, ?, ?, ?)",
                 (message_id, self.counters["seq"], xml, received_at)),
                self._counter_sql("seq"),
            ])
            self.inbound[message_id] = (xml, received_at)

    def delete_inbound(self, message_id: str) -> bool:
        with self.lock:
            if self.inbound.pop(message_id, None) is None:
                return False
            self._write([("DELETE FROM inbound WHERE id = ?", (message_id,))])
            return True

    # ------------------------------------------------------------------ contacts

    def recipient_state(self, number: str) -> str:
        digits = re.sub(r"\D", "", str(number))
        with self.lock:
            explicit = self.contacts.get(_hash_number(digits))
            if explicit:
                return explicit
            for rule in self.contact_rules.get("rules", []):
                if digits.endswith(str(rule.get("suffix", "\0"))):
                    return rule["state"]
            return self.contact_rules.get("default", "REGISTERED")

    def set_contacts(self, state: str, numbers: list[str]) -> int:
        with self.lock:
            statements = []
            for number in numbers:
                key = _hash_number(number)
                self.contacts[key] = state
                statements.append(("INSERT OR REPLACE INTO contacts (number_hash, state) VALUES (?, ?)", (key, state)))
            self._write(statements)
            return len(statements)

    def set_contact_rules(self, rules: dict) -> None:
        with self.lock:
            self.contact_rules = rules
            self._write([("INSERT OR REPLACE INTO settings (name, value) VALUES ('contact_rules', ?)", (json.dumps(rules),))])

    # ------------------------------------------------------------------ switches

    def set_faults(self, faults: dict) -> dict:
        with self.lock:
            self.faults = {**FAULT_DEFAULTS, **faults}
            self.random = random.Random(self.faults.get("seed"))
            self._write([("INSERT OR REPLACE INTO settings (name, value) VALUES ('faults', ?)", (json.dumps(faults),))])
            return self.faults

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self.lock:
            return self.random.random() < rate

    def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the simulator is stopping."""
        if seconds > 0:
            self.stopping.wait(seconds)

    def latency_s(self) -> float:
        latency = self.faults.get("latency_ms") or 0
        if isinstance(latency, (list, tuple)) and len(latency) == 2:
            with self.lock:
                return self.random.uniform(float(latency[0]), float(latency[1])) / 1000
        return float(latency) / 1000

    def reset(self) -> None:
        with self.lock:
            self._write([(f"DELETE FROM {table}", ()) for table in
                         ("deliveries", "counters", "receipts", "inbound", "contacts", "settings")])
            self._load()

    def summary(self) -> dict:
        with self.lock:
            return {"total": self.counters["total"], "duplicates_refused": self.counters["duplicates_refused"],
                    "per_uuid": {key: value["count"] for key, value in self.deliveries.items()},
                    "last_caller": dict(self.last_caller)}


# ---------------------------------------------------------------------- the app


def create_simulator(state_file: Path | None = None) -> Flask:
    """The simulator as a WSGI app; its state is `app.extensions["post_simulator"]`."""
    from server.post.memo import read_memo, validate_memo

    app = Flask("sagspost.post_simulator")
    state = SimulatorState(state_file)
    app.extensions["post_simulator"] = state

    def switches(endpoint: str) -> Response | None:
        """Latency, 5xx and timeouts, as switched on for this resource."""
        faults = state.faults
        if endpoint not in faults.get("endpoints", _ENDPOINTS):
            return None
        state.pause(state.latency_s())
        if state.chance(float(faults.get("timeout_rate") or 0)):
            state.pause(float(faults.get("timeout_s") or 35))
            return _error(504, "TIMEOUT", "The simulator let this request time out")
        if state.chance(float(faults.get("error_rate") or 0)):
            return _error(int(faults.get("error_status") or 503), "SERVICE_UNAVAILABLE", "Simulated server error")
        return None

    # -------------------------------------------------------------- sending

    @app.post(f"{API}/memos/", strict_slashes=False)
    def send_memo():
        _note_caller(state)
        fault = switches("send")
        if fault is not None:
            return fault
        raw_uuid = request.args.get("memo-message-uuid", "")
        try:
            message_uuid = str(uuid.UUID(raw_uuid))
        except ValueError:
            return _error(400, "INVALID_PARAMETER", "Request parameter memo-message-uuid must be a UUID",
                          field="memo-message-uuid")
        content_type = (request.mimetype or "").lower()
        if content_type not in ("application/xml", "text/xml"):
            return _error(415, "UNSUPPORTED_MEDIA_TYPE", "A single MeMo is sent as application/xml or text/xml")
        if state.is_delivered(message_uuid):  # cheap answer before validating the body again
            state.refuse_duplicate()
            return _duplicate(message_uuid)
        body = request.get_data(cache=False)
        errors = validate_memo(body)
        if errors:
            return _error(400, "INVALID_MEMO", "The MeMo does not validate against the MeMo schema",
                          field_errors=[{"resource": "memo", "field": "memo", "code": "SCHEMA", "message": e}
                                        for e in errors[:50]])
        summary = read_memo(body)
        if str(summary.message_uuid).lower() != message_uuid:
            return _error(400, "MEMO_MESSAGE_UUID_MISMATCH",
                          "Request parameter memo-message-uuid must equal the MeMo's messageUUID",
                          field="memo-message-uuid")
        faults = state.faults
        recipient_id = summary.recipient.number
        if (message_uuid in {str(u).lower() for u in faults.get("reject_uuids", [])}
                or (recipient_id and _hash_number(recipient_id) in set(faults.get("reject_recipients", [])))
                or state.chance(float(faults.get("reject_rate") or 0))):
            log.info("simulated rejection", extra={"message_uuid": message_uuid})
            return _error(int(faults.get("reject_status") or 400), "REJECTED", str(faults.get("reject_reason")))
        recipient_state = state.recipient_state(recipient_id) if recipient_id else "UNKNOWN"
        answer = state.deliver(message_uuid, _parties(summary), recipient_state)
        if answer is None:  # another request with the same UUID won the race
            return _duplicate(message_uuid)
        log.info("memo accepted", extra={"message_uuid": message_uuid})
        if state.chance(float(faults.get("lost_response_rate") or 0)):
            return _error(int(faults.get("error_status") or 503), "SERVICE_UNAVAILABLE", "Simulated lost answer")
        return _json(answer, 201)

    # -------------------------------------------------------------- contacts

    @app.get(f"{API}/contacts/", strict_slashes=False)
    def contacts():
        _note_caller(state)
        fault = switches("contacts")
        if fault is not None:
            return fault
        cpr, cvr = request.args.get("cprNumber"), request.args.get("cvrNumber")
        if bool(cpr) == bool(cvr):
            return _error(400, "INVALID_PARAMETER", "Give exactly one of cprNumber and cvrNumber")
        number = cpr or cvr
        if not re.fullmatch(r"\d{10}" if cpr else r"\d{8}", number):
            return _error(400, "INVALID_PARAMETER", "cprNumber has 10 digits, cvrNumber 8",
                          field="cprNumber" if cpr else "cvrNumber")
        recipient_state = state.recipient_state(number)
        found = [] if recipient_state == "UNKNOWN" else [_contact(number, bool(cpr), recipient_state)]
        return _json({"currentPage": 0, "totalPages": 1 if found else 0, "elementsOnPage": len(found),
                      "totalElements": len(found), "contacts": found})

    # -------------------------------------------------------------- receipts

    @app.get(f"{API}/receipts/", strict_slashes=False)
    def list_receipts():
        fault = switches("receipts")
        if fault is not None:
            return fault
        with state.lock:
            ids = list(state.receipts)
        return _page(ids)

    @app.get(f"{API}/receipts/<receipt_id>")
    def fetch_receipt(receipt_id):
        fault = switches("receipts")
        if fault is not None:
            return fault
        with state.lock:
            receipt = state.receipts.get(receipt_id)
        if receipt is None:
            return _error(404, "NOT_FOUND", "No such receipt")
        if request.args.get("delete", "").lower() == "true":
            state.delete_receipt(receipt_id)
        return _json(receipt)

    @app.delete(f"{API}/receipts/<receipt_id>")
    def delete_receipt(receipt_id):
        fault = switches("receipts")
        if fault is not None:
            return fault
        if not state.delete_receipt(receipt_id):
            return _error(404, "NOT_FOUND", "No such receipt")
        return Response(status=204)

    # -------------------------------------------------------------- inbound post

    @app.get(f"{API}/memos/", strict_slashes=False)
    def list_inbound():
        fault = switches("inbound")
        if fault is not None:
            return fault
        with state.lock:
            ids = list(state.inbound)
        return _page(ids)

    @app.get(f"{API}/memos/<message_id>")
    def fetch_inbound(message_id):
        fault = switches("inbound")
        if fault is not None:
            return fault
        with state.lock:
            found = state.inbound.get(message_id)
        if found is None:
            return _error(404, "NOT_FOUND", "No such message")
        xml, received_at = found
        response = Response(xml, mimetype="application/xml")
        response.headers["Last-Modified"] = format_datetime(
            datetime.fromisoformat(received_at.replace("Z", "+00:00")), usegmt=True)
        return response

    @app.delete(f"{API}/memos/<message_id>")
    def delete_inbound(message_id):
        fault = switches("inbound")
        if fault is not None:
            return fault
        if not state.delete_inbound(message_id):
            return _error(404, "NOT_FOUND", "No such message")
        return Response(status=204)

    # -------------------------------------------------------------- control API (not NgDP)

    @app.get("/_sim/deliveries")
    def deliveries():
        return _json(state.summary())

    @app.get("/_sim/state")
    def sim_state():
        with state.lock:
            faults = {k: v for k, v in state.faults.items() if k != "reject_recipients"}
            return _json({"total": state.counters["total"], "duplicates_refused": state.counters["duplicates_refused"],
                          "receipts_waiting": len(state.receipts), "inbound_waiting": len(state.inbound),
                          "faults": faults, "contact_rules": state.contact_rules,
                          "state_file": str(state.state_file) if state.state_file else None})

    @app.post("/_sim/reset")
    def reset():
        state.reset()
        log.info("simulator reset")
        return Response(status=204)

    @app.get("/_sim/faults")
    def get_faults():
        with state.lock:
            return _json({k: v for k, v in state.faults.items() if k != "reject_recipients"})

    @app.put("/_sim/faults")
    def put_faults():
        given = request.get_json(silent=True)
        if not isinstance(given, dict):
            return _error(400, "INVALID_BODY", "A JSON object of switches")
        unknown = set(given) - set(FAULT_DEFAULTS)
        if unknown:
            return _error(400, "INVALID_BODY", f"Unknown switches: {', '.join(sorted(unknown))}")
        if not set(given.get("endpoints", _ENDPOINTS)) <= _ENDPOINTS:
            return _error(400, "INVALID_BODY", f"endpoints are some of {', '.join(sorted(_ENDPOINTS))}")
        faults = dict(given)
        faults["reject_recipients"] = [_hash_number(n) for n in given.get("reject_recipients", [])]
        faults["reject_uuids"] = [str(u).lower() for u in given.get("reject_uuids", [])]
        stored = state.set_faults(faults)
        log.info("simulator switches set", extra={"switches": sorted(given)})
        return _json({k: v for k, v in stored.items() if k != "reject_recipients"})

    @app.delete("/_sim/faults")
    def clear_faults():
        state.set_faults({})
        return Response(status=204)

    @app.put("/_sim/contacts/<recipient_state>")
    def put_contacts(recipient_state):
        recipient_state = recipient_state.upper()
        if recipient_state not in STATES:
            return _error(404, "NOT_FOUND", f"State is one of {', '.join(STATES)}")
        given = request.get_json(silent=True)
        numbers = given.get("numbers") if isinstance(given, dict) else None
        if not isinstance(numbers, list) or not all(isinstance(n, str) and n.strip() for n in numbers):
            return _error(400, "INVALID_BODY", 'Give {"numbers": ["<CPR or CVR>", ...]}')
        return _json({"state": recipient_state, "count": state.set_contacts(recipient_state, numbers)})

    @app.get("/_sim/contact-rules")
    def get_contact_rules():
        with state.lock:
            return _json(state.contact_rules)

    @app.put("/_sim/contact-rules")
    def put_contact_rules():
        given = request.get_json(silent=True)
        if not isinstance(given, dict):
            return _error(400, "INVALID_BODY", 'Give {"default": "REGISTERED", "rules": [{"suffix": "99", "state": "EXEMPT"}]}')
        rules = given.get("rules", [])
        default = str(given.get("default", "REGISTERED")).upper()
        if default not in STATES or not isinstance(rules, list) or not all(
                isinstance(r, dict) and str(r.get("suffix", "")).isdigit() and str(r.get("state", "")).upper() in STATES
                for r in rules):
            return _error(400, "INVALID_BODY", "Each rule has a digit suffix and a state")
        cleaned = {"default": default,
                   "rules": [{"suffix": str(r["suffix"]), "state": str(r["state"]).upper()} for r in rules]}
        state.set_contact_rules(cleaned)
        return _json(cleaned)

    @app.post("/_sim/inbound")
    def inject_inbound():
        given = request.get_json(silent=True)
        if not isinstance(given, dict):
            return _error(400, "INVALID_BODY", "A JSON object")
        if given.get("memo_xml"):
            xml = str(given["memo_xml"]).encode("utf-8")
            try:
                message_id = str(read_memo(xml).message_uuid)
            except Exception:
                message_id = str(uuid.uuid4())
        else:
            try:
                original = str(uuid.UUID(str(given.get("reply_to"))))
            except ValueError:
                return _error(400, "INVALID_BODY", "reply_to is the messageUUID of a delivered letter")
            with state.lock:
                delivery = state.deliveries.get(original)
            if delivery is None:
                return _error(404, "NOT_FOUND", "No letter with that messageUUID was delivered here")
            message_id = str(uuid.uuid4())
            xml = _reply_memo(message_id, original, delivery["parties"], given)
        state.add_inbound(message_id, xml)
        log.info("inbound message queued", extra={"message_id": message_id})
        return _json({"message_id": message_id}, 201)

    return app


# ---------------------------------------------------------------------- answers


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str, *, field: str | None = None, field_errors: list | None = None) -> Response:
    """NgDP's ErrorMessage: {code, message, fieldErrors: [{resource, field, code, message, rejectedValue}]}."""
    errors = field_errors or ([{"resource": "memo", "field": field, "code": code, "message": message,
                                "rejectedValue": None}] if field else [])
    return _json({"code": code, "message": message, "fieldErrors": errors}, status)


def _duplicate(message_uuid: str) -> Response:
    return _error(409, "DUPLICATE_MESSAGE_UUID",
                  f"A MeMo with messageUUID {message_uuid} has already been received", field="memo-message-uuid")


def _page(ids: list[str]) -> Response:
    """PagingResultUUID for ?page=&size= (zero-based page)."""
    try:
        page = max(int(request.args.get("page", 0)), 0)
        size = min(max(int(request.args.get("size", 20)), 1), 1000)
    except ValueError:
        return _error(400, "INVALID_PARAMETER", "page and size are numbers")
    total = len(ids)
    content = ids[page * size:(page + 1) * size]
    pages = math.ceil(total / size) if total else 0
    return _json({"content": content, "number": page, "size": size, "totalElements": total, "totalPages": pages,
                  "previous": {"page": page - 1, "size": size} if page > 0 else None,
                  "next": {"page": page + 1, "size": size} if page + 1 < pages else None})


def _contact(number: str, citizen: bool, recipient_state: str) -> dict:
    contact_id = uuid.uuid5(uuid.NAMESPACE_URL, "sagspost-simulator-contact:" + _hash_number(number))
    return {
        "id": str(contact_id), "version": 1, "type": "CITIZEN" if citizen else "COMPANY",
        ("cprNumber" if citizen else "cvrNumber"): number,
        "mailboxSubscription": {
            "id": str(uuid.uuid5(contact_id, "mailbox")), "version": 1,
            "registrationStatus": REGISTRATION_STATUS.get(recipient_state, "UNKNOWN"),
            "publicRegistrationStatus": recipient_state,
        },
    }


def _note_caller(state: SimulatorState) -> None:
    """Remember who called last (system id from the Basic credential, on-behalf-of CVR): for tests."""
    caller = {}
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            caller["system_id"] = base64.b64decode(auth[6:]).decode("utf-8", "replace").split(":", 1)[0]
        except (binascii.Error, ValueError):
            caller["system_id"] = None
    if request.headers.get(DELEGATED_CVR_HEADER):
        caller["on_behalf_of_cvr"] = request.headers[DELEGATED_CVR_HEADER]
    state.last_caller = caller


# ---------------------------------------------------------------------- MeMo helpers


def _parties(summary) -> dict:
    def one(party):
        return {"id_type": party.id_type, "id": party.number, "label": party.label}

    return {"sender": one(summary.sender), "recipient": one(summary.recipient), "label": summary.label,
            "memo_version": summary.memo_version}


def _reply_memo(message_id: str, original: str, parties: dict, given: dict) -> bytes:
    """A citizen's reply to a delivered letter: sender and recipient swapped, ReplyData pointing back."""
    from server.post import memo

    citizen, authority = parties["recipient"], parties["sender"]
    text = str(given.get("text") or "Tak for brevet.")
    version = parties.get("memo_version") if parties.get("memo_version") in memo.MEMO_VERSIONS else "1.2"
    letter = memo.MemoLetter(
        message_uuid=uuid.UUID(message_id),
        label=str(given.get("label") or f"Svar: {parties.get('label') or 'brev'}")[:256],
        sender=memo.MemoParty(citizen["id_type"], citizen["id"], citizen.get("label") or "Borger"),
        recipient=memo.MemoParty(authority["id_type"], authority["id"], authority.get("label") or ""),
        main=memo.MemoFile(str(given.get("filename") or "svar.pdf"), "application/pdf", _tiny_pdf(text)),
        reply_to=uuid.UUID(original),
        memo_version=version,
    )
    return memo.build_memo(letter)


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing one line of text (Latin-1, Helvetica): the body of a simulated reply."""
    line = text.encode("latin-1", "replace")[:200].replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 12 Tf 72 770 Td (" + line + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
