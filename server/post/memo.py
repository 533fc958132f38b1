"""MeMo, the message format of Danish Digital Post: build a letter, check its limits, validate, read.

The Digital Post sender and the local simulator both use this module, so what one writes the other
reads by the same rules. Every limit is a named constant that says where it comes from: the MeMo
XSDs (packaged in memo_xsd/, see PROVENANCE.md there) or Digitaliseringsstyrelsen's rules.

Problem messages never contain a CPR number, because they end up in HTTP answers and logs: they
name the field instead ("the recipient's CPR number"), and any value quoted back is masked.
"""
from __future__ import annotations

import base64
import math
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from lxml import etree

from server.contacts.numbers import NumberError, cpr_birth_date, normalise_cvr
from server.documents import filetypes

MEMO_NS = "https://DigitalPost.dk/MeMo-1"
GRD_NS = "https://data.gov.dk/model/core/"  # ContentData's CPRdata and CVRdata live here
MEMO_VERSIONS = ("1.1", "1.2")
_XSD_DIR = Path(__file__).with_name("memo_xsd")
_SCHEMA_FILES = {"1.1": "memo-1.1/MeMo_core.xsd", "1.2": "memo-1.2/Version1.2/MeMo_core.xsd"}

# MeMo_dataTypes.xsd, memoTextType (both versions): title, names, ids, filename, MIME type, action code.
MAX_TEXT = 256
# MeMo_dataTypes.xsd, memoUriType: an action's EntryPoint/url.
MAX_URL = 256
# memoNotificationType is 150 in the official 1.1 XSD and 160 in the unofficial 1.2 copy; 150 fits both
# (shared/reference/digital-post.md).
MAX_NOTIFICATION = 150
# Bekendtgørelse om størrelse på filer i Digital Post, § 3 (retsinformation.dk, R0710 id=183321): a
# public sender may send "op til 99,5 MB med op til 10 vedhæftede filer".
MAX_ATTACHMENTS = 10
# The same §. MB read as 10^6 bytes, the smaller reading, measured on the MeMo XML (files in base64).
MAX_MESSAGE_BYTES = 99_500_000
# actionCode is free text in the XSD. These are the codes of the MeMo guidance "Vejledning til Actions
# og frister i MeMo" (as python-serviceplatformen's MeMo model lists them). AFTALE is left out: it
# carries a calendar Reservation, not the link a MemoAction has.
ACTION_CODES = frozenset({"SELVBETJENING", "INFORMATION", "BETALING", "UNDERSKRIV", "BEKRAEFT", "FORBEREDELSE",
                          "TILMELDING"})
# A Digital Post letter is a PDF; other formats go as attachments.
MAIN_TYPE = filetypes.PDF
# Digitaliseringsstyrelsen lists the accepted types in "Tilladte filtyper i Digital Post"
# (digitaliser.dk), which could not be read when this was written. Until it is, attachments keep to a
# conservative subset: common formats without macros or scripts.
ATTACHMENT_TYPES = {t.mime: t for t in (
    filetypes.PDF, filetypes.TEXT, filetypes.PNG, filetypes.JPEG, filetypes.GIF, filetypes.TIFF,
    filetypes.DOCX, filetypes.XLSX, filetypes.PPTX, filetypes.ODT, filetypes.ODS, filetypes.ODP,
)}
# No MeMo rule on filenames was found. Recipients save attachments to disk, so a name keeps clear of
# what Windows refuses: path separators, <>:"|?* and control characters.
_FILENAME_FORBIDDEN = re.compile(r'[\\/<>:"|?*\x00-\x1f\x7f]')
# memoLanguageType is xs:language of at most 2 characters: an ISO 639-1 code.
_LANGUAGE = re.compile(r"[a-z]{2}", re.ASCII)

# characters XML 1.0 cannot carry, not even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# DDMMYY-SSSS or DDMMYYSSSS anywhere in a text
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)", re.ASCII)
# base64 pieces of a multiple of 3 bytes join without padding in between
_BASE64_CHUNK = 3 * 256 * 1024


@dataclass(frozen=True)
class MemoFile:
    filename: str
    mime: str
    content: bytes = field(repr=False)  # up to 99 MB: never in a log line
    language: str = "da"


@dataclass(frozen=True)
class MemoAction:
    """A link shown with the letter, e.g. to a self-service form."""
    label: str
    url: str
    action_code: str = "SELVBETJENING"
    starts: datetime | None = None
    ends: datetime | None = None


@dataclass(frozen=True)
class MemoParty:
    id_type: str  # "CPR" or "CVR"
    number: str = field(repr=False)  # a CPR number must never reach a log through repr()
    label: str = ""


@dataclass(frozen=True)
class MemoLetter:
    message_uuid: uuid.UUID  # version 4, fixed when the letter is created: the idempotency key
    label: str  # the title
    sender: MemoParty
    recipient: MemoParty
    main: MemoFile
    attachments: Sequence[MemoFile] = ()
    about: MemoParty | None = None  # ContentData: the person or company the letter concerns
    mandatory: bool = False
    legal_notification: bool = False
    reply_allowed: bool = False
    reply_to: uuid.UUID | None = None  # set on a reply: the messageUUID of the letter answered
    actions: Sequence[MemoAction] = ()
    notification: str | None = None  # the text of the notification (NemSMS/e-mail) about the letter
    created: datetime | None = None  # timezone-aware, written in UTC; None: the time it is built
    memo_version: str = "1.2"


@dataclass(frozen=True)
class MemoSummary:
    message_uuid: uuid.UUID
    memo_version: str | None
    label: str
    sender: MemoParty
    recipient: MemoParty
    reply_to: uuid.UUID | None
    attachment_count: int  # AdditionalDocument elements
    main_filename: str | None  # None for a NemSMS, which has no body


class MemoProblems(ValueError):
    """The letter breaks MeMo's limits; `problems` holds one sentence per problem, safe to show."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


# ---------------------------------------------------------------- checking


def check_letter(letter: MemoLetter) -> list[str]:
    """Every way the letter breaks a limit, one English sentence each; [] when it can be sent."""
    problems = []
    if letter.memo_version not in MEMO_VERSIONS:
        problems.append(f"The MeMo version must be 1.1 or 1.2; this is {_quote(letter.memo_version)}.")
    problems += _uuid4_problems(letter.message_uuid, "The message UUID")
    problems += ["The title is empty."] if not letter.label.strip() else _text_problems("The title", letter.label)
    if letter.notification:
        problems += _text_problems("The notification", letter.notification, MAX_NOTIFICATION)
    if letter.created is not None and not _aware(letter.created):
        problems.append("The creation time must be timezone-aware (UTC).")
    problems += _party_problems(letter.sender, "The sender's")
    if not letter.sender.label.strip():
        problems.append("The sender's name is empty; the recipient sees it as the sender.")
    problems += _party_problems(letter.recipient, "The recipient's")
    if letter.about is not None:
        problems += _party_problems(letter.about, "The concerned party's")
    if letter.reply_to is not None:
        problems += _uuid4_problems(letter.reply_to, "The UUID of the letter replied to")
        if letter.reply_to == letter.message_uuid:
            problems.append("A letter cannot reply to itself.")
    problems += _file_problems(letter.main, "main document", {MAIN_TYPE.mime: MAIN_TYPE})
    if len(letter.attachments) > MAX_ATTACHMENTS:
        problems.append(f"At most {MAX_ATTACHMENTS} attachments per letter; this has {len(letter.attachments)}.")
    for attachment in letter.attachments:
        problems += _file_problems(attachment, "attachment", ATTACHMENT_TYPES)
    for action in letter.actions:
        problems += _action_problems(action)
    problems += _size_problems(letter)
    return problems


def encoded_size(letter: MemoLetter) -> int:
    """The size in bytes of the letter's MeMo XML, without building it: the XML around the files is
    written to a counter, and each file adds its base64 length."""
    counter = _Counter()
    _write(letter, counter, with_content=False)
    return counter.size + sum(4 * math.ceil(len(f.content) / 3) for f in (letter.main, *letter.attachments))


def _size_problems(letter: MemoLetter) -> list[str]:
    try:
        size = encoded_size(letter)
    except (ValueError, TypeError, AttributeError):
        return []  # a value cannot be written at all (a control character, a time that is no datetime): said above
    if size <= MAX_MESSAGE_BYTES:
        return []
    shown = math.ceil(size / 100_000) / 10  # rounded up, so a letter just over never reads "99.5 MB"
    return [f"The letter is {shown:.1f} MB encoded; at most {MAX_MESSAGE_BYTES / 1_000_000:g} MB."]


def _uuid4_problems(value, what: str) -> list[str]:
    # memoUuidType's pattern is a version-4 UUID of the RFC 4122 variant; uuid gives .version only then
    if not isinstance(value, uuid.UUID):
        return [f"{what} must be a version-4 UUID; this is not a UUID."]
    if value.version != 4:
        found = f"version {value.version}" if value.version else "not RFC 4122"
        return [f"{what} must be a version-4 UUID; this is {found}."]
    return []


def _text_problems(what: str, value: str, limit: int = MAX_TEXT) -> list[str]:
    problems = []
    if len(value) > limit:
        problems.append(f"{what} is {len(value)} characters; at most {limit}.")
    if _NOT_XML.search(value):
        problems.append(f"{what} has control characters, which XML cannot carry.")
    if _has_cpr(value):
        problems.append(f"{what} contains what looks like a CPR number, which must not be shown there.")
    return problems


def _party_problems(party: MemoParty, whose: str) -> list[str]:
    problems = []
    number = party.number.strip()
    if party.id_type == "CPR":
        if not re.fullmatch(r"\d{6}-?\d{4}", number, re.ASCII):
            problems.append(f"{whose} CPR number must be 10 digits.")
        elif not _valid_cpr_date(number):
            problems.append(f"{whose} CPR number does not begin with a valid birth date.")
    elif party.id_type == "CVR":
        try:
            normalise_cvr(number)
        except NumberError as exc:  # its messages never repeat the number
            problems.append(f"{whose} {exc}.")
    else:
        problems.append(f"{whose} id type must be CPR or CVR; this is {_quote(party.id_type)}.")
    return problems + _text_problems(f"{whose} name", party.label)


def _file_problems(f: MemoFile, noun: str, types: dict[str, filetypes.FileType]) -> list[str]:
    name = _quote(f.filename)
    problems = []
    if not f.filename.strip():
        problems.append(f"The {noun} has no filename.")
    elif len(f.filename) > MAX_TEXT:
        problems.append(f"The {noun} {name} has a filename of {len(f.filename)} characters; at most {MAX_TEXT}.")
    forbidden = sorted(set(_FILENAME_FORBIDDEN.findall(f.filename)) | set(_NOT_XML.findall(f.filename)))
    if forbidden:
        shown = ", ".join(f"'{c}'" if c.isprintable() else f"U+{ord(c):04X}" for c in forbidden)
        problems.append(f"The {noun} {name} has characters not allowed in a filename: {shown}.")
    if _has_cpr(f.filename):
        problems.append(f"The {noun} {name} has what looks like a CPR number in its filename; leave it out.")
    filetype = types.get(f.mime)
    if filetype is None:
        labels = sorted(t.label for t in types.values())
        expected = f"a {labels[0]}" if len(labels) == 1 else f"one of: {', '.join(labels)}"
        problems.append(f"The {noun} {name} is of type {_quote(f.mime)}; it must be {expected}.")
    elif f.filename.strip() and _extension(f.filename) not in filetype.extensions:
        problems.append(f"The {noun} {name} is a {filetype.label} but not named .{filetype.extension}.")
    if not _LANGUAGE.fullmatch(f.language):
        problems.append(f"The {noun} {name} has the language {_quote(f.language)}; use a two-letter code such as 'da'.")
    if len(f.content) == 0:
        problems.append(f"The {noun} {name} is empty.")
    return problems


def _action_problems(action: MemoAction) -> list[str]:
    label = _quote(action.label)
    problems = _text_problems("The action label", action.label) if action.label.strip() else ["An action has no label."]
    if action.action_code not in ACTION_CODES:
        problems.append(f"The action {label} has the code {_quote(action.action_code)}; "
                        f"use one of {', '.join(sorted(ACTION_CODES))}.")
    problems += _text_problems("The action link", action.url, MAX_URL)
    parts = urlsplit(action.url)
    if parts.scheme != "https":
        problems.append(f"The action link must use https: {_mask(action.url)}")
    elif not parts.hostname or any(c.isspace() for c in action.url):
        problems.append(f"The action link is not a valid address: {_mask(action.url)}")
    for moment, when in ((action.starts, "start"), (action.ends, "end")):
        if moment is not None and not _aware(moment):
            problems.append(f"The {when} time of the action {label} must be timezone-aware (UTC).")
    if _aware(action.starts) and _aware(action.ends) and action.ends <= action.starts:
        problems.append(f"The action {label} ends before it starts.")
    return problems


def _aware(moment) -> bool:
    return isinstance(moment, datetime) and moment.utcoffset() is not None


def _valid_cpr_date(text: str) -> bool:
    try:
        cpr_birth_date(text)
    except NumberError:
        return False
    return True


def _has_cpr(text: str) -> bool:
    """Ten digits that begin with a real date: a CPR number, as far as text can tell."""
    return any(_valid_cpr_date(m.group()) for m in _CPR_LIKE.finditer(text or ""))


def _mask(text: str, limit: int = 80) -> str:
    masked = _CPR_LIKE.sub("xxxxxx-xxxx", str(text))
    return masked if len(masked) <= limit else masked[:limit] + "…"


def _quote(text) -> str:
    return f"'{_mask(text)}'"


def _extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


# ---------------------------------------------------------------- building


def build_memo(letter: MemoLetter) -> bytes:
    """The letter as MeMo XML (UTF-8). Raises MemoProblems (a ValueError) listing what breaks a limit."""
    out = BytesIO()
    write_memo(letter, out)
    # getvalue() hands over BytesIO's own buffer when nothing else holds it: no copy of the 99 MB
    return out.getvalue()


def write_memo(letter: MemoLetter, out: BinaryIO) -> None:
    """Write the letter's MeMo XML to a binary stream (a file, a spooled temporary file, a request body).

    Written incrementally: each file is base64-encoded in pieces of under a megabyte straight into
    `out`, so besides the files themselves only the output is held, not an XML tree and its copies.
    """
    problems = check_letter(letter)
    if problems:
        raise MemoProblems(problems)
    _write(letter, out, with_content=True)


def _write(letter: MemoLetter, out, *, with_content: bool) -> None:
    attributes = {"memoVersion": letter.memo_version}
    if letter.memo_version == "1.1":
        attributes["memoSchVersion"] = "1.1.0"  # required by 1.1, not allowed by 1.2
    namespaces = {"memo": MEMO_NS, **({"grd": GRD_NS} if letter.about is not None else {})}
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_m("Message"), attributes, nsmap=namespaces):
            _write_header(xf, letter)
            with xf.element(_m("MessageBody")):
                _leaf(xf, "createdDateTime", _utc(letter.created or datetime.now(timezone.utc)))
                with xf.element(_m("MainDocument")):
                    _write_file(xf, letter.main, with_content)
                    for action in letter.actions:
                        _write_action(xf, action)
                for attachment in letter.attachments:
                    with xf.element(_m("AdditionalDocument")):
                        _write_file(xf, attachment, with_content)


def _write_header(xf, letter: MemoLetter) -> None:
    # the XSD's xs:sequence fixes this order
    with xf.element(_m("MessageHeader")):
        _leaf(xf, "messageType", "DIGITALPOST")
        _leaf(xf, "messageUUID", str(letter.message_uuid))
        _leaf(xf, "label", letter.label)
        if letter.notification:
            _leaf(xf, "notification", letter.notification)
        if letter.reply_allowed:
            _leaf(xf, "reply", "true")
        # optional in 1.2, required in 1.1: always written
        _leaf(xf, "mandatory", _boolean(letter.mandatory))
        _leaf(xf, "legalNotification", _boolean(letter.legal_notification))
        with xf.element(_m("Sender")):
            _leaf(xf, "senderID", _memo_number(letter.sender))
            _leaf(xf, "idType", letter.sender.id_type)
            _leaf(xf, "label", letter.sender.label)
        with xf.element(_m("Recipient")):
            _leaf(xf, "recipientID", _memo_number(letter.recipient))
            _leaf(xf, "idType", letter.recipient.id_type)
            if letter.recipient.label:
                _leaf(xf, "label", letter.recipient.label)
        if letter.about is not None:
            _write_content_data(xf, letter.about)
        if letter.reply_to is not None:
            # as in the official full example: this message's UUID, and replyUUID the message answered
            with xf.element(_m("ReplyData")):
                _leaf(xf, "messageUUID", str(letter.message_uuid))
                _leaf(xf, "replyUUID", str(letter.reply_to))


def _write_content_data(xf, about: MemoParty) -> None:
    cpr = about.id_type == "CPR"
    with xf.element(_m("ContentData")), xf.element(_grd("CPRdata" if cpr else "CVRdata")):
        _leaf(xf, "cprNumber" if cpr else "cvrNumber", _memo_number(about), qualify=_grd)
        if about.label:
            _leaf(xf, "name" if cpr else "companyName", about.label, qualify=_grd)


def _write_file(xf, f: MemoFile, with_content: bool) -> None:
    with xf.element(_m("File")):
        _leaf(xf, "encodingFormat", f.mime)
        _leaf(xf, "filename", f.filename)
        _leaf(xf, "language", f.language)
        with xf.element(_m("content")):
            if with_content:
                view = memoryview(f.content)
                for start in range(0, len(view), _BASE64_CHUNK):
                    xf.write(base64.b64encode(view[start:start + _BASE64_CHUNK]).decode("ascii"))
                    xf.flush()  # else xmlfile keeps all output until the end: three copies of 99 MB


def _write_action(xf, action: MemoAction) -> None:
    with xf.element(_m("Action")):
        _leaf(xf, "label", action.label)
        _leaf(xf, "actionCode", action.action_code)
        if action.starts is not None:
            _leaf(xf, "startDateTime", _utc(action.starts))
        if action.ends is not None:
            _leaf(xf, "endDateTime", _utc(action.ends))
        with xf.element(_m("EntryPoint")):
            _leaf(xf, "url", action.url)


def _leaf(xf, name: str, text: str, *, qualify=None) -> None:
    with xf.element((qualify or _m)(name)):
        xf.write(text)


def _m(name: str) -> str:
    return f"{{{MEMO_NS}}}{name}"


def _grd(name: str) -> str:
    return f"{{{GRD_NS}}}{name}"


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _utc(moment: datetime) -> str:
    # memoDateTimeType must end in Z
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _memo_number(party: MemoParty) -> str:
    # MeMo writes CPR and CVR numbers as bare digits (10 and 8): no hyphen, no spaces
    return re.sub(r"[\s-]", "", party.number)


class _Counter:
    """A stream that only counts what is written to it."""

    def __init__(self):
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)


# ---------------------------------------------------------------- validating


_schemas: dict[str, tuple[etree.XMLSchema, threading.Lock]] = {}
_schemas_lock = threading.Lock()


def validate_memo(xml: bytes) -> list[str]:
    """XSD errors of a MeMo message (1.1 or 1.2, by its memoVersion), readable; [] when valid.

    Only the packaged schemas are used and nothing is fetched: no DTD, no external entity, no import
    from the network.
    """
    if len(xml) > MAX_MESSAGE_BYTES:
        return [f"The message is {len(xml) / 1_000_000:.1f} MB; at most {MAX_MESSAGE_BYTES / 1_000_000:g} MB."]
    # huge_tree: libxml2 refuses text over 10 MB without it, and a 7.5 MB file is that much base64.
    # What it otherwise guards against is shut off: no DTD is loaded, no entity expanded, nothing
    # fetched, and the input is capped above.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        return [f"The message is not well-formed XML: {_mask(exc, 300)}"]
    if root.getroottree().docinfo.doctype:
        return ["The message has a DOCTYPE declaration; MeMo messages have none, and its entities are not read."]
    if root.tag != _m("Message"):
        return [f"The root element is {_qname(root.tag)}; a MeMo message is memo:Message in the namespace {MEMO_NS}."]
    version = _schema_version(root)
    if version is None:
        return [f"memoVersion {_quote(root.get('memoVersion'))} is not supported; it must be 1.1 or 1.2."]
    schema, lock = _schema(version)
    # An XMLSchema keeps its last errors on itself, so one validation at a time per schema.
    with lock:
        if schema.validate(root):
            return []
        return [_describe(entry) for entry in schema.error_log]


def _schema_version(root) -> str | None:
    raw = root.get("memoVersion")
    if raw is None:
        # memoSchVersion exists only in 1.1; the schema then reports the missing memoVersion
        return "1.1" if root.get("memoSchVersion") is not None else "1.2"
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return next((v for v in MEMO_VERSIONS if Decimal(v) == number), None)


def _schema(version: str) -> tuple[etree.XMLSchema, threading.Lock]:
    """A MeMo version's XSD, loaded once per process from the packaged files."""
    with _schemas_lock:
        if version not in _schemas:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            document = etree.parse(str(_XSD_DIR / _SCHEMA_FILES[version]), parser)
            _schemas[version] = (etree.XMLSchema(document), threading.Lock())
        return _schemas[version]


def _describe(entry) -> str:
    message = entry.message.replace(f"{{{MEMO_NS}}}", "memo:").replace(f"{{{GRD_NS}}}", "grd:")
    return f"line {entry.line}: {_mask(message, 500)}"


def _qname(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"'{local}' in the namespace {namespace}" if namespace else f"'{local}' without a namespace"


# ---------------------------------------------------------------- reading


_HEADER = ("Message", "MessageHeader")
_LABEL = (*_HEADER, "label")
_UUID = (*_HEADER, "messageUUID")
_SENDER = (*_HEADER, "Sender")
_RECIPIENT = (*_HEADER, "Recipient")
_REPLY = (*_HEADER, "ReplyData")
_MAIN_FILENAME = ("Message", "MessageBody", "MainDocument", "File", "filename")
_ATTACHMENT = ("Message", "MessageBody", "AdditionalDocument")
_REQUIRED = {_UUID: "messageUUID", _LABEL: "label", (*_SENDER, "senderID"): "Sender/senderID",
             (*_SENDER, "idType"): "Sender/idType", (*_RECIPIENT, "recipientID"): "Recipient/recipientID",
             (*_RECIPIENT, "idType"): "Recipient/idType"}
_LEAVES = {*_REQUIRED, (*_SENDER, "label"), (*_RECIPIENT, "label"), (*_REPLY, "messageUUID"),
           (*_REPLY, "replyUUID"), _MAIN_FILENAME}


def read_memo(xml: bytes) -> MemoSummary:
    """The header facts of a MeMo message, read safely; raises ValueError when it is not one.

    A streaming parse with libxml2's limits on (no huge_tree), no DTD, no entities and no network.
    Nothing but the few fields is kept, so a 99 MB letter costs no tree, and file contents pass
    through unread.
    """
    target = _SummaryTarget()
    parser = etree.XMLParser(target=target, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"The message is not well-formed XML: {_mask(exc, 300)}") from None
    if target.root != _m("Message"):
        raise ValueError(f"Not a MeMo message: the root element is {_qname(target.root or '')}.")
    found = target.found
    missing = [name for path, name in _REQUIRED.items() if not found.get(path)]
    if missing:
        raise ValueError(f"The MeMo message lacks {', '.join(missing)}.")
    message_uuid = _read_uuid(found[_UUID], "messageUUID")
    return MemoSummary(
        message_uuid=message_uuid,
        memo_version=target.version,
        label=found[_LABEL],
        sender=_read_party(found, _SENDER, "senderID"),
        recipient=_read_party(found, _RECIPIENT, "recipientID"),
        reply_to=_answered(target.replies, message_uuid),
        attachment_count=target.attachments,
        main_filename=found.get(_MAIN_FILENAME),
    )


def _read_party(found: dict, party: tuple[str, ...], number: str) -> MemoParty:
    return MemoParty(found[(*party, "idType")], found[(*party, number)], found.get((*party, "label"), ""))


def _answered(replies: list[dict[str, str]], own: uuid.UUID) -> uuid.UUID | None:
    """The message this one answers, from its ReplyData thread; never the message itself.

    Our replies (like the official full example's answer) carry this message's UUID with replyUUID
    pointing at the one answered. A sender that gives only the original's messageUUID is understood too.
    """
    entries = [{k: _read_uuid(v, f"ReplyData/{k}") for k, v in e.items() if v} for e in replies]
    for entry in entries:
        if entry.get("messageUUID") == own and "replyUUID" in entry:
            return entry["replyUUID"]
    others = [e.get(k) for k in ("replyUUID", "messageUUID") for e in reversed(entries) if e.get(k, own) != own]
    return others[0] if others else None


def _read_uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError(f"The message's {what} is not a UUID.") from None


class _SummaryTarget:
    """lxml parser target: keeps the text of the few fields read_memo wants, drops everything else."""

    def __init__(self):
        self.root: str | None = None
        self.version: str | None = None
        self.path: list[str] = []
        self.text: list[str] | None = None  # collecting only inside a wanted field
        self.found: dict[tuple[str, ...], str] = {}
        self.replies: list[dict[str, str]] = []
        self.attachments = 0

    def doctype(self, name, public_id, system_url):
        raise ValueError("The message has a DOCTYPE declaration; MeMo messages have none.")

    def start(self, tag, attributes):
        if self.root is None:
            self.root, self.version = tag, attributes.get("memoVersion")
        self.path.append(tag[len(MEMO_NS) + 2:] if tag.startswith(f"{{{MEMO_NS}}}") else tag)
        path = tuple(self.path)
        if path == _ATTACHMENT:
            self.attachments += 1
        elif path == _REPLY:
            self.replies.append({})
        self.text = [] if path in _LEAVES else None

    def data(self, data):
        if self.text is not None:
            self.text.append(data)

    def end(self, tag):
        path = tuple(self.path)
        if self.text is not None:
            value = "".join(self.text).strip()
            if path[:-1] == _REPLY:
                self.replies[-1][path[-1]] = value
            else:
                self.found.setdefault(path, value)  # the first: the main document's first file
            self.text = None
        self.path.pop()

    def close(self):
        return self
