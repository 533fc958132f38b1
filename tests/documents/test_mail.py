"""Reading raw e-mails: metadata, bodies, every part with a decoded, safe filename; broken input."""
import base64
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from server.documents.mail import Mailbox, NotAnEmail, body_document, parse_email

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
PDF = b"%PDF-1.4\n%fake but fine\n%%EOF\n"


def forwarded_message() -> EmailMessage:
    inner = EmailMessage()
    inner["From"] = "Borger <borger@example.dk>"
    inner["To"] = "kommunen@example.dk"
    inner["Subject"] = "Klage over afgørelse"
    inner.set_content("Jeg klager hermed.\n")
    inner.add_attachment(b"klage", maintype="application", subtype="pdf", filename="klage.pdf")
    return inner


def full_email() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Søren Ærø <soren@example.dk>"
    msg["To"] = "Sagsbehandler <sag@kommune.dk>, anden@kommune.dk"
    msg["Cc"] = '"Hansen, Mette" <mette@example.dk>'
    msg["Bcc"] = "arkiv@kommune.dk"
    msg["Subject"] = "Ansøgning om byggetilladelse – matr. nr. 7æ"
    msg["Date"] = "Tue, 01 Oct 2024 12:30:00 +0200"
    msg["Message-ID"] = "<CAB1234.5678@mail.example.dk>"
    msg["In-Reply-To"] = "<first@kommune.dk>"
    msg["References"] = "<root@kommune.dk> <first@kommune.dk>"
    msg.set_content("Hej\n\nSe vedhæftede tegninger.\n")
    msg.add_alternative('<html><body><p>Hej</p><img src="cid:logo123@example.dk"></body></html>', subtype="html")
    html = msg.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo123@example.dk>", disposition="inline")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="tegning.pdf")
    # RFC 2047 inside the quoted filename, as Outlook and many webmail clients still write it
    latin = EmailMessage()
    latin.set_content(PDF, maintype="application", subtype="pdf")
    del latin["Content-Disposition"]
    latin["Content-Disposition"] = 'attachment; filename="=?iso-8859-1?Q?R=E6kning_for_=F8l.pdf?="'
    msg.attach(latin)
    # RFC 2231 with a charset
    msg.add_attachment(b"a,b\n", maintype="text", subtype="csv", filename=("utf-8", "", "æbler og pærer.csv"))
    msg.add_attachment(forwarded_message())  # message/rfc822 without a filename
    msg.add_attachment(b"evil", maintype="application", subtype="octet-stream", filename="../../etc/passwd")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def parsed():
    return parse_email(full_email())


def test_metadata(parsed):
    assert parsed.message_id == "CAB1234.5678@mail.example.dk"
    assert parsed.subject == "Ansøgning om byggetilladelse – matr. nr. 7æ"
    assert parsed.sender == Mailbox("Søren Ærø", "soren@example.dk")
    assert parsed.to == [Mailbox("Sagsbehandler", "sag@kommune.dk"), Mailbox("", "anden@kommune.dk")]
    assert parsed.cc == [Mailbox("Hansen, Mette", "mette@example.dk")]
    assert parsed.bcc == [Mailbox("", "arkiv@kommune.dk")]
    assert parsed.date == datetime(2024, 10, 1, 10, 30, tzinfo=timezone.utc)
    assert parsed.in_reply_to == "first@kommune.dk"
    assert parsed.references == ["root@kommune.dk", "first@kommune.dk"]
    assert len(parsed.sha256) == 64


def test_bodies(parsed):
    assert parsed.body_text == "Hej\n\nSe vedhæftede tegninger.\n"
    assert parsed.body_html.startswith("<html><body><p>Hej</p>")


def test_every_part_is_kept_with_a_decoded_safe_name(parsed):
    names = [(p.filename, p.content_type, p.inline) for p in parsed.parts]
    assert names == [
        ("bilag-1.png", "image/png", True),
        ("tegning.pdf", "application/pdf", False),
        ("Rækning for øl.pdf", "application/pdf", False),
        ("æbler og pærer.csv", "text/csv", False),
        ("Klage over afgørelse.eml", "message/rfc822", False),
        ("passwd", "application/octet-stream", False),
    ]
    image, pdf, latin, csv, forwarded, _ = parsed.parts
    assert image.data == PNG and image.content_id == "logo123@example.dk"
    assert pdf.data == PDF and latin.data == PDF and csv.data == b"a,b\n"


def test_a_forwarded_message_is_kept_whole_as_an_eml(parsed):
    forwarded = parsed.parts[4]
    inner = BytesParser(policy=policy.default).parsebytes(forwarded.data)
    assert inner["Subject"] == "Klage over afgørelse"
    assert [p.get_filename() for p in inner.iter_attachments()] == ["klage.pdf"]
    again = parse_email(forwarded.data)  # and can be archived in turn
    assert again.body_text == "Jeg klager hermed.\n"
    assert [p.filename for p in again.parts] == ["klage.pdf"]


def test_the_same_bytes_give_the_same_hash_and_another_copy_the_same_message_id():
    data = full_email()  # its MIME boundaries are random, so it is built once
    first, second = parse_email(data), parse_email(data)
    assert first.sha256 == second.sha256
    relayed = parse_email(b"Received: by relay.kommune.dk\r\n" + data)
    assert relayed.message_id == first.message_id and relayed.sha256 != first.sha256


OUTLOOK_8BIT = (
    b"From: =?Windows-1252?Q?J=F8rgen?= <jorgen@example.dk>\r\n"
    b"To: sag@kommune.dk\r\n"
    b"Subject: S\xf8knad\r\n"  # raw Windows-1252, no encoded word
    b"Date: Wed, 2 Oct 2024 08:00:00 -0000\r\n"
    b"Message-ID: <outlook-1@example.dk>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="XX"\r\n'
    b"\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"K\xe6re kommune\r\n"
    b"--XX\r\n"
    b'Content-Type: application/pdf; name="\xc6ndring \xe5r.pdf"\r\n'
    b'Content-Disposition: attachment; filename="\xc6ndring \xe5r.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK\r\n"
    b"--XX\r\n"
    b'Content-Type: application/pdf; name="\xc3\x98konomi.pdf"\r\n'  # raw UTF-8
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK\r\n"
    b"--XX--\r\n"
)


def test_raw_8bit_headers_and_unknown_charsets_are_decoded():
    mail = parse_email(OUTLOOK_8BIT)
    assert mail.subject == "Søknad"
    assert mail.sender == Mailbox("Jørgen", "jorgen@example.dk")
    assert mail.body_text == "Kære kommune"  # the line break before a boundary belongs to it
    assert [p.filename for p in mail.parts] == ["Ændring år.pdf", "Økonomi.pdf"]
    assert mail.parts[0].data == b"%PDF-1.4\n"


def test_a_date_without_zone_is_utc_and_a_bad_date_is_none():
    assert parse_email(OUTLOOK_8BIT).date == datetime(2024, 10, 2, 8, 0, tzinfo=timezone.utc)
    assert parse_email(b"From: a@b.dk\r\nDate: sometime soon\r\n\r\nx").date is None


def test_broken_addresses_are_skipped_not_fatal():
    mail = parse_email(b"From: <<broken\r\nTo: ok@example.dk, @@@, Navn <>\r\nSubject: x\r\n\r\nbody")
    assert mail.to == [Mailbox("", "ok@example.dk")]


def test_an_email_without_a_body_gives_empty_bodies_and_an_empty_text_document():
    mail = parse_email(b"From: a@example.dk\r\nSubject: Tom\r\n\r\n")
    assert (mail.body_text, mail.body_html, mail.parts) == ("", "", [])
    assert mail.message_id is None and mail.date is None
    assert body_document(mail) == ("Tom.txt", "text/plain; charset=utf-8", b"")


def test_the_main_document_is_the_html_body_when_there_is_one(parsed):
    filename, content_type, data = body_document(parsed)
    assert filename == "Ansøgning om byggetilladelse – matr. nr. 7æ.html"
    assert content_type == "text/html; charset=utf-8"
    assert data.startswith(b"\xef\xbb\xbf<html>")  # a BOM keeps the saved page readable as UTF-8
    assert b"cid:logo123@example.dk" in data


def test_the_main_document_is_the_text_body_otherwise():
    msg = EmailMessage()
    msg["From"] = "a@example.dk"
    msg["Subject"] = "../../Svar: tilbud?"
    msg.set_content("Tak for tilbuddet – vi vender tilbage.\n")
    filename, content_type, data = body_document(parse_email(msg.as_bytes()))
    assert (filename, content_type) == ("Svar_ tilbud_.txt", "text/plain; charset=utf-8")
    assert data.decode() == "Tak for tilbuddet – vi vender tilbage.\n"


def test_a_truncated_email_still_gives_what_it_has():
    data = full_email()
    mail = parse_email(data[: len(data) * 2 // 3])
    assert mail.subject.startswith("Ansøgning")
    assert mail.body_text and mail.parts


def test_a_message_that_is_only_an_attachment_keeps_it_as_a_part():
    msg = EmailMessage()
    msg["From"] = "scanner@kommune.dk"
    msg.set_content(PDF, maintype="application", subtype="pdf", filename="scan.pdf")
    mail = parse_email(msg.as_bytes())
    assert (mail.body_text, mail.body_html) == ("", "")
    assert [(p.filename, p.data) for p in mail.parts] == [("scan.pdf", PDF)]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "no e-mail headers"),
        ("Kære kommune, jeg skriver angående min sag.".encode(), "no e-mail headers"),
        (b"\x00\x01\x02\xff" * 100, "no e-mail headers"),
    ],
)
def test_input_that_is_not_an_email_is_refused(data, reason):
    with pytest.raises(NotAnEmail, match=reason):
        parse_email(data)


def forwarding(inner: bytes, encoding: str = "8bit") -> bytes:
    return (
        b"From: a@example.dk\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nSe nedenfor.\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: " + encoding.encode() + b"\r\n\r\n"
        + inner + b"\r\n--B--\r\n"
    )


INNER_8BIT = (
    b"From: borger@example.dk\r\nSubject: =?utf-8?q?Kl=C3=A6ge?=\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nK\xc3\xa6re kommune\r\n"
)


def test_a_forwarded_message_keeps_its_8bit_bytes():
    [part] = parse_email(forwarding(INNER_8BIT)).parts
    assert part.filename == "Klæge.eml"
    assert part.data == INNER_8BIT


def test_a_base64_encoded_forwarded_message_is_decoded():
    [part] = parse_email(forwarding(base64.encodebytes(INNER_8BIT), "base64")).parts
    assert part.data == INNER_8BIT
    assert part.filename == "Klæge.eml"


def test_a_damaged_base64_forwarded_message_is_kept_as_it_is():
    damaged = base64.encodebytes(INNER_8BIT)[:-6]
    [part] = parse_email(forwarding(damaged, "base64")).parts
    assert part.data.split() == damaged.split()  # the encoded lines, whatever their line ends


def test_a_multipart_without_a_boundary_is_kept_as_a_part_not_fatal():
    raw = (
        b"From: a@example.dk\r\nSubject: Rodet\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n'
        b"--A\r\nContent-Type: multipart/related\r\n\r\n<html>hej</html>\r\n--A--\r\n"
    )
    mail = parse_email(raw)
    assert mail.subject == "Rodet"
    assert [p.data for p in mail.parts] == [b"<html>hej</html>\r\n"]
