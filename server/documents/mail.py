"""Reading a raw RFC 822 e-mail (.eml, as Outlook's getAsFileAsync and Gmail's raw format give it).

The message is split into what the archive keeps: metadata, a body for the main document and every
other part (attachments, inline images, forwarded messages) as a bilag, so nothing is lost.
Headers are read forgivingly: mail in the wild carries raw 8-bit names in any charset, broken
addresses and dates, and none of that may stop an e-mail from being archived.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import NamedTuple

from server.documents.filetypes import safe_filename

# Serialising a nested message: keep its header lines as they were, end lines as RFC 5322 says.
_SOURCE_POLICY = policy.default.clone(linesep="\r\n", refold_source="none")
_MAIL_HEADERS = {"from", "sender", "to", "subject", "date", "message-id", "received", "mime-version"}
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")


class NotAnEmail(ValueError):
    """The data is not an e-mail at all; str(error) says why and is safe to show."""


class Mailbox(NamedTuple):
    name: str
    address: str


@dataclass
class EmailPart:
    filename: str  # safe to store; never empty
    content_type: str
    data: bytes
    inline: bool  # shown in the body (an image a cid: link points to) rather than attached
    content_id: str | None  # without angle brackets


@dataclass
class ParsedEmail:
    sha256: str  # of the raw message, to recognise the same e-mail archived twice
    message_id: str | None  # without angle brackets
    subject: str
    sender: Mailbox | None
    to: list[Mailbox]
    cc: list[Mailbox]
    bcc: list[Mailbox]
    date: datetime | None  # UTC
    in_reply_to: str | None
    references: list[str]
    body_text: str
    body_html: str
    parts: list[EmailPart] = field(default_factory=list)


def parse_email(data: bytes) -> ParsedEmail:
    """Split a raw message into metadata, bodies and parts; raises NotAnEmail for 0 bytes or no headers."""
    if not data:
        raise NotAnEmail("the e-mail is empty (0 bytes)")
    msg = BytesParser(policy=policy.default).parsebytes(data)
    if _MAIL_HEADERS.isdisjoint(name.lower() for name, _ in msg.raw_items()):
        raise NotAnEmail("the file has no e-mail headers (From, To, Subject, Date …)")
    try:
        return _parsed(data, msg)
    except Exception as error:  # the email package has corners that raise on damaged structure
        raise NotAnEmail(f"the e-mail is too damaged to read ({type(error).__name__})") from error


def _parsed(data: bytes, msg: EmailMessage) -> ParsedEmail:
    html_part = _body(msg, "html")
    text_part = _body(msg, "plain")
    senders = _mailboxes(msg, "from") or _mailboxes(msg, "sender")
    return ParsedEmail(
        sha256=hashlib.sha256(data).hexdigest(),
        message_id=_message_id(_raw(msg, "message-id")),
        subject=_text(msg, "subject"),
        sender=senders[0] if senders else None,
        to=_mailboxes(msg, "to"),
        cc=_mailboxes(msg, "cc"),
        bcc=_mailboxes(msg, "bcc"),
        date=_date(msg),
        in_reply_to=_message_id(_raw(msg, "in-reply-to")),
        references=_ANGLE_ID.findall(_raw(msg, "references") or ""),
        body_text=_part_text(text_part) if text_part is not None else "",
        body_html=_part_text(html_part) if html_part is not None else "",
        parts=_parts(msg, skip=(html_part, text_part)),
    )


def body_document(parsed: ParsedEmail) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of the main document: the HTML body as a page, else the text.

    Inline images stay as cid: links; they are stored as bilag of their own.
    """
    stem = safe_filename(parsed.subject, max_length=120) or "e-mail"
    if parsed.body_html:
        # The byte order mark makes browsers read UTF-8 even where the page's own <meta> names another charset.
        return f"{stem}.html", "text/html; charset=utf-8", b"\xef\xbb\xbf" + parsed.body_html.encode()
    return f"{stem}.txt", "text/plain; charset=utf-8", parsed.body_text.encode()


# ---------------------------------------------------------------- headers


def _raw(msg: EmailMessage, name: str) -> str | None:
    """The header's value as it arrived, 8-bit bytes read as UTF-8 or else Windows-1252."""
    for key, value in msg.raw_items():
        if key.lower() == name:
            return _decode_8bit(value)
    return None


def _decode_8bit(value: str) -> str:
    # The parser keeps undecodable bytes as surrogates; policy.default would turn them into U+FFFD.
    return _decode_unlabelled(value.encode("ascii", "surrogateescape"))


def _decode_unlabelled(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")  # Outlook writes names in the sender's Windows code page


def _header(msg: EmailMessage, name: str):
    """The parsed header (encoded words and RFC 2231 decoded), or None when absent or unparseable."""
    value = _raw(msg, name)
    if value is None:
        return None
    try:
        return policy.default.header_fetch_parse(name, value)
    except Exception:  # the header parser has corner cases that raise rather than record a defect
        return None


def _text(msg: EmailMessage, name: str) -> str:
    header = _header(msg, name)
    return " ".join(str(header).split()) if header is not None else ""


def _mailboxes(msg: EmailMessage, name: str) -> list[Mailbox]:
    addresses = getattr(_header(msg, name), "addresses", ())
    return [Mailbox(a.display_name, a.addr_spec) for a in addresses if a.username or a.domain]


def _date(msg: EmailMessage) -> datetime | None:
    moment = getattr(_header(msg, "date"), "datetime", None)
    if moment is None:
        return None
    # "-0000" means the zone is unknown; parsing gives a naive time, which RFC 5322 says to read as UTC
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _ANGLE_ID.search(value)
    return match.group(1) if match else ("".join(value.split()) or None)


# ---------------------------------------------------------------- parts


def _body(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    try:
        return msg.get_body(preferencelist=(subtype,))
    except AttributeError:
        # a multipart whose boundary is missing holds a string, which get_body walks as if parts
        return None


def _parts(msg: EmailMessage, skip: tuple) -> list[EmailPart]:
    leaves: list[EmailMessage] = []
    _collect_leaves(msg, skip, leaves)
    return [_email_part(part, number) for number, part in enumerate(leaves, start=1)]


def _collect_leaves(part: EmailMessage, skip: tuple, leaves: list) -> None:
    """Every part that is not a body, in order; a message/* part is one leaf, not opened."""
    if any(part is body for body in skip):
        return
    if part.get_content_maintype() != "message" and part.is_multipart():
        for child in part.iter_parts():
            _collect_leaves(child, skip, leaves)
    else:
        leaves.append(part)


def _email_part(part: EmailMessage, number: int) -> EmailPart:
    content_type = part.get_content_type()
    is_message = part.get_content_maintype() == "message"
    data = _message_bytes(part) if is_message else (part.get_payload(decode=True) or b"")
    disposition = getattr(_header(part, "content-disposition"), "content_disposition", None)
    content_id = _message_id(_raw(part, "content-id"))
    name = _param(part, "content-disposition", "filename") or _param(part, "content-type", "name")
    if not name and content_type == "message/rfc822":
        subject = _text(BytesParser(policy=policy.default).parsebytes(data, headersonly=True), "subject")
        name = f"{subject}.eml" if subject else ""
    filename = safe_filename(name) or f"bilag-{number}{_extension(content_type)}"
    inline = disposition == "inline" or (disposition is None and content_id is not None)
    return EmailPart(filename, content_type, data, inline, content_id)


def _param(part: EmailMessage, header: str, name: str) -> str | None:
    params = getattr(_header(part, header), "params", None) or {}
    return params.get(name)


def _extension(content_type: str) -> str:
    return ".eml" if content_type.startswith("message/") else (mimetypes.guess_extension(content_type) or ".bin")


def _message_bytes(part: EmailMessage) -> bytes:
    """A message/* part's content as bytes: the forwarded message as it would be saved as .eml."""
    payload = part.get_payload()
    if not isinstance(payload, list):  # a message/* type the parser leaves unopened
        return part.get_payload(decode=True) or b""
    data = b"".join(_serialised(inner) for inner in payload)
    encoding = (_raw(part, "content-transfer-encoding") or "").strip().lower()
    # RFC 2046 forbids encoding message/rfc822, yet some senders do; the parser then reads the
    # encoded text as a message without headers, which serialises back to the encoded text.
    if encoding == "base64":
        try:
            return base64.b64decode(data.strip(), validate=False)
        except binascii.Error:
            return data  # damaged: the encoded text is kept rather than lost
    if encoding == "quoted-printable":
        return quopri.decodestring(data.lstrip(b"\r\n"))
    return data


def _serialised(msg: EmailMessage) -> bytes:
    try:
        return msg.as_bytes(policy=_SOURCE_POLICY)
    except UnicodeEncodeError:
        # The bytes generator writes a body it could not parse as ASCII; the text one takes any
        # character, and surrogateescape turns the original 8-bit bytes back into themselves.
        return msg.as_string(policy=_SOURCE_POLICY).encode("utf-8", "surrogateescape")


def _part_text(part: EmailMessage) -> str:
    """A body part as text with "\n" line breaks, whatever its charset and line ends."""
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, "replace")
    except (LookupError, ValueError):  # a charset Python does not know, or a garbled name
        text = _decode_unlabelled(data)
    return text.replace("\r\n", "\n")
