"""The MeMo builder: what it builds is valid against the official XSDs, limits are refused in plain
words, the validator and reader are safe with hostile XML and read the official examples."""
from __future__ import annotations

import base64
import importlib.util
import io
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfWriter

from server.documents import filetypes
from server.post import memo

SHARED = Path(__file__).parents[2].parent / "shared" / "schemas" / "memo"
PACKAGED = Path(memo.__file__).with_name("memo_xsd")
CPR, CPR_HYPHEN = "2211771212", "221177-1212"  # the official examples' recipient
CVR = "25313763"  # passes the modulus-11 check
CREATED = datetime(2025, 3, 4, 13, 30, tzinfo=timezone(timedelta(hours=1)))


def one_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = one_page_pdf()


def minimal(version: str = "1.2", **changes) -> memo.MemoLetter:
    values = dict(
        message_uuid=uuid.uuid4(),
        label="Afgørelse om børnehaveplads",
        sender=memo.MemoParty("CVR", CVR, "Sagspost Kommune"),
        recipient=memo.MemoParty("CPR", CPR),
        main=memo.MemoFile("Afgørelse.pdf", "application/pdf", PDF),
        memo_version=version,
    )
    return memo.MemoLetter(**{**values, **changes})


def full(version: str = "1.2", **changes) -> memo.MemoLetter:
    starts = datetime(2025, 3, 5, 8, 0, tzinfo=timezone.utc)
    values = dict(
        recipient=memo.MemoParty("CPR", CPR_HYPHEN, "Mette Hansen"),
        attachments=[
            memo.MemoFile("Vejledning.pdf", "application/pdf", PDF),
            memo.MemoFile("Regler & vilkår.txt", "text/plain", "Læs vilkårene.".encode(), "da"),
            memo.MemoFile("Skema.docx", filetypes.DOCX.mime, b"PK\x03\x04 not really a docx", "en"),
        ],
        about=memo.MemoParty("CPR", "2512169996", "Emilie Hansen"),
        mandatory=True,
        legal_notification=True,
        reply_allowed=True,
        reply_to=uuid.uuid4(),
        actions=[
            memo.MemoAction("Svar på høringen", "https://selvbetjening.example.dk/svar?sag=42&x=<1>", "SELVBETJENING",
                            starts, starts + timedelta(days=14)),
            memo.MemoAction("Læs mere", "https://example.dk/info", "INFORMATION"),
        ],
        notification="Du har fået et brev om børnehaveplads.",
        created=CREATED,
    )
    return minimal(version, **{**values, **changes})


# ---------------------------------------------------------------- the official XSDs


@pytest.fixture(scope="module")
def official():
    """Errors of a message under the official XSDs, by the shared validate.py's own rules."""
    if not (SHARED / "validate.py").is_file():
        pytest.skip(f"the shared MeMo schemas are not at {SHARED}; they come with the project's ../shared folder")
    spec = importlib.util.spec_from_file_location("shared_memo_validate", SHARED / "validate.py")
    validate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(validate)

    def errors(xml: bytes) -> list[str]:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        version, note = validate.detect_version(root)
        assert version is not None, note
        return [validate.format_error(e) for e in validate.load_schema(version).iter_errors(root)]

    return errors


@pytest.fixture
def built(official):
    """build_memo, and the result must be valid against the official XSDs."""

    def build(letter: memo.MemoLetter) -> bytes:
        xml = memo.build_memo(letter)
        assert official(xml) == []
        return xml

    return build


def test_the_packaged_xsds_are_byte_copies_of_the_shared_ones():
    if not SHARED.is_dir():
        pytest.skip(f"the shared MeMo schemas are not at {SHARED}")
    shared = {p.relative_to(SHARED) for folder in ("memo-1.1", "memo-1.2") for p in (SHARED / folder).rglob("*.xsd")}
    packaged = {p.relative_to(PACKAGED) for p in PACKAGED.rglob("*.xsd")}
    assert packaged == shared
    for path in shared:
        assert (PACKAGED / path).read_bytes() == (SHARED / path).read_bytes(), path


# ---------------------------------------------------------------- building


@pytest.mark.parametrize("version", ["1.2", "1.1"])
@pytest.mark.parametrize("make", [minimal, full], ids=["minimal", "full"])
def test_a_built_letter_is_valid_and_reads_back(built, make, version):
    letter = make(version)
    xml = built(letter)
    assert memo.validate_memo(xml) == []
    summary = memo.read_memo(xml)
    assert summary.message_uuid == letter.message_uuid
    assert summary.memo_version == version
    assert summary.label == letter.label
    assert (summary.sender.id_type, summary.sender.number, summary.sender.label) == ("CVR", CVR, "Sagspost Kommune")
    assert (summary.recipient.id_type, summary.recipient.number) == ("CPR", CPR)  # always bare digits
    assert summary.reply_to == letter.reply_to
    assert summary.attachment_count == len(letter.attachments)
    assert summary.main_filename == "Afgørelse.pdf"


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_message_carries_its_version_namespace_and_utc_time(built, version):
    root = etree.fromstring(built(full(version)))
    assert root.tag == f"{{{memo.MEMO_NS}}}Message"
    assert root.get("memoVersion") == version
    assert root.get("memoSchVersion") == ("1.1.0" if version == "1.1" else None)
    ns = {"memo": memo.MEMO_NS, "grd": memo.GRD_NS}
    assert root.findtext("memo:MessageBody/memo:createdDateTime", namespaces=ns) == "2025-03-04T12:30:00Z"
    assert root.findtext(".//memo:Action/memo:startDateTime", namespaces=ns) == "2025-03-05T08:00:00Z"
    assert root.findtext(".//memo:ContentData/grd:CPRdata/grd:cprNumber", namespaces=ns) == "2512169996"
    assert root.findtext(".//memo:ReplyData/memo:replyUUID", namespaces=ns) is not None
    assert root.findtext("memo:MessageHeader/memo:reply", namespaces=ns) == "true"
    assert root.findtext("memo:MessageHeader/memo:legalNotification", namespaces=ns) == "true"


def test_files_are_base64_in_schema_order_even_across_chunks(built):
    big = bytes(range(256)) * (memo._BASE64_CHUNK // 256 * 2 + 7)  # three pieces, the last one short
    letter = full(main=memo.MemoFile("Stor.pdf", "application/pdf", big))
    root = etree.fromstring(built(letter), etree.XMLParser(huge_tree=True))
    ns = {"memo": memo.MEMO_NS}
    contents = [base64.b64decode(c.text) for c in root.iterfind(".//memo:File/memo:content", ns)]
    assert contents == [big] + [a.content for a in letter.attachments]
    main_children = [etree.QName(c).localname for c in root.find(".//memo:MainDocument", ns)]
    assert main_children == ["File", "Action", "Action"]


def test_the_encoded_size_is_the_size_of_what_is_built(built):
    for letter in (minimal(), full(), full("1.1")):
        assert memo.encoded_size(letter) == len(built(letter))


def test_a_company_is_addressed_and_concerned_by_its_cvr_number(built):
    letter = minimal(recipient=memo.MemoParty("CVR", "25 31 37 63", "Firma A/S"),
                     about=memo.MemoParty("CVR", CVR, "Firma A/S"))
    root = etree.fromstring(built(letter))
    ns = {"memo": memo.MEMO_NS, "grd": memo.GRD_NS}
    assert root.findtext(".//memo:Recipient/memo:recipientID", namespaces=ns) == CVR
    assert root.findtext(".//grd:CVRdata/grd:companyName", namespaces=ns) == "Firma A/S"


def test_a_party_never_shows_its_number_in_repr():
    assert CPR not in repr(full()) and CPR_HYPHEN not in repr(full())


# ---------------------------------------------------------------- limits


class FakeSize(bytes):
    """Content that claims a size without taking the memory."""

    def __new__(cls, size: int):
        instance = super().__new__(cls, b"%PDF-")
        instance.size = size
        return instance

    def __len__(self):
        return self.size


def with_main_size(size: int) -> memo.MemoLetter:
    return minimal(main=memo.MemoFile("Stor.pdf", "application/pdf", FakeSize(size)))


def encoded_without_content() -> int:
    return memo.encoded_size(with_main_size(0))


REFUSED = {
    "title 257 characters": (minimal(label="x" * 257), "The title is 257 characters; at most 256."),
    "11 attachments": (
        minimal(attachments=[memo.MemoFile(f"Bilag {n}.pdf", "application/pdf", PDF) for n in range(11)]),
        "At most 10 attachments per letter; this has 11.",
    ),
    "bad filename": (
        minimal(attachments=[memo.MemoFile("x:y.pdf", "application/pdf", PDF)]),
        "The attachment 'x:y.pdf' has characters not allowed in a filename: ':'.",
    ),
    "http link": (
        minimal(actions=[memo.MemoAction("Svar", "http://example.dk/svar")]),
        "The action link must use https: http://example.dk/svar",
    ),
    "not a version-4 uuid": (minimal(message_uuid=uuid.uuid1()),
                             "The message UUID must be a version-4 UUID; this is version 1."),
    "main document not a pdf": (
        minimal(main=memo.MemoFile("Brev.docx", filetypes.DOCX.mime, b"PK")),
        f"The main document 'Brev.docx' is of type '{filetypes.DOCX.mime}'; it must be a PDF document.",
    ),
    "notification 151 characters": (minimal(notification="n" * 151),
                                    "The notification is 151 characters; at most 150."),
    "cpr of 9 digits": (minimal(recipient=memo.MemoParty("CPR", CPR[:9])),
                        "The recipient's CPR number must be 10 digits."),
    "cpr without a date": (minimal(recipient=memo.MemoParty("CPR", "3213771212")),
                           "The recipient's CPR number does not begin with a valid birth date."),
    "cvr failing modulus 11": (minimal(sender=memo.MemoParty("CVR", "12345678", "Kommunen")),
                               "The sender's CVR number fails the modulus-11 check."),
    "unknown id type": (minimal(recipient=memo.MemoParty("MyndighedsID", "ABC")),
                        "The recipient's id type must be CPR or CVR; this is 'MyndighedsID'."),
    "no sender name": (minimal(sender=memo.MemoParty("CVR", CVR)),
                       "The sender's name is empty; the recipient sees it as the sender."),
    "cpr in the title": (minimal(label=f"Afgørelse vedr. {CPR_HYPHEN}"),
                         "The title contains what looks like a CPR number, which must not be shown there."),
    "cpr in a filename": (
        minimal(attachments=[memo.MemoFile(f"Journal {CPR}.pdf", "application/pdf", PDF)]),
        "The attachment 'Journal xxxxxx-xxxx.pdf' has what looks like a CPR number in its filename; leave it out.",
    ),
    "cpr in a link": (minimal(actions=[memo.MemoAction("Svar", f"https://example.dk/?cpr={CPR}")]),
                      "The action link contains what looks like a CPR number, which must not be shown there."),
    "attachment type": (
        minimal(attachments=[memo.MemoFile("program.exe", "application/x-msdownload", b"MZ")]),
        "The attachment 'program.exe' is of type 'application/x-msdownload'; it must be one of: Excel workbook, ",
    ),
    "name and type disagree": (minimal(main=memo.MemoFile("Brev.docx", "application/pdf", PDF)),
                               "The main document 'Brev.docx' is a PDF document but not named .pdf."),
    "language": (minimal(main=memo.MemoFile("Brev.pdf", "application/pdf", PDF, "dansk")),
                 "The main document 'Brev.pdf' has the language 'dansk'; use a two-letter code such as 'da'."),
    "empty file": (minimal(main=memo.MemoFile("Brev.pdf", "application/pdf", b"")),
                   "The main document 'Brev.pdf' is empty."),
    "action code": (minimal(actions=[memo.MemoAction("Book tid", "https://example.dk", "AFTALE")]),
                    "The action 'Book tid' has the code 'AFTALE'; use one of BEKRAEFT, BETALING, FORBEREDELSE, "
                    "INFORMATION, SELVBETJENING, TILMELDING, UNDERSKRIV."),
    "naive action time": (minimal(actions=[memo.MemoAction("Svar", "https://example.dk", starts=datetime(2025, 1, 1))]),
                          "The start time of the action 'Svar' must be timezone-aware (UTC)."),
    "action ends first": (
        minimal(actions=[memo.MemoAction("Svar", "https://example.dk", starts=CREATED, ends=CREATED - timedelta(1))]),
        "The action 'Svar' ends before it starts.",
    ),
    "naive creation time": (minimal(created=datetime(2025, 1, 1)), "The creation time must be timezone-aware (UTC)."),
    "reply to a non-uuid4": (minimal(reply_to=uuid.UUID(int=5)),
                             "The UUID of the letter replied to must be a version-4 UUID; this is not RFC 4122."),
    "version": (minimal("1.3"), "The MeMo version must be 1.1 or 1.2; this is '1.3'."),
    "control character": (minimal(label="Brev\x07"), "The title has control characters, which XML cannot carry."),
}


@pytest.mark.parametrize("letter, expected", REFUSED.values(), ids=REFUSED.keys())
def test_each_limit_is_refused_in_plain_words(letter, expected):
    problems = memo.check_letter(letter)
    assert any(p.startswith(expected) for p in problems), problems
    assert not any(CPR in p or CPR_HYPHEN in p for p in problems)  # the number is named, never shown
    with pytest.raises(ValueError) as raised:
        memo.build_memo(letter)
    assert raised.value.problems == problems


def test_a_letter_over_99_5_mb_is_refused_and_one_at_the_limit_passes():
    room = memo.MAX_MESSAGE_BYTES - encoded_without_content()
    assert memo.check_letter(with_main_size(room // 4 * 3)) == []
    assert memo.check_letter(with_main_size(room // 4 * 3 + 1)) == ["The letter is 99.6 MB encoded; at most 99.5 MB."]
    over = (101_150_000 - encoded_without_content()) // 4 * 3
    assert memo.check_letter(with_main_size(over)) == ["The letter is 101.2 MB encoded; at most 99.5 MB."]


def test_at_the_limits_a_letter_passes(built):
    letter = minimal(
        label="t" * 256,
        notification="n" * 150,
        attachments=[memo.MemoFile(f"Bilag {n}.pdf", "application/pdf", PDF) for n in range(10)],
        actions=[memo.MemoAction("a" * 256, "https://example.dk/" + "p" * 237)],
    )
    assert memo.check_letter(letter) == []
    built(letter)


def test_all_problems_are_reported_at_once():
    letter = minimal(label="x" * 300, message_uuid=uuid.uuid1(), recipient=memo.MemoParty("CPR", "1"))
    assert len(memo.check_letter(letter)) == 3


# ---------------------------------------------------------------- validating


def test_the_official_examples_are_valid():
    if not SHARED.is_dir():
        pytest.skip(f"the shared MeMo examples are not at {SHARED}")
    for example in sorted((SHARED / "examples").glob("*.xml")):
        assert memo.validate_memo(example.read_bytes()) == [], example.name


def test_a_message_without_recipient_is_reported(built):
    root = etree.fromstring(built(minimal()))
    recipient = root.find(".//{%s}Recipient" % memo.MEMO_NS)
    recipient.getparent().remove(recipient)
    errors = memo.validate_memo(etree.tostring(root))
    assert len(errors) == 1 and errors[0].startswith("line 1: Element 'memo:MessageHeader'"), errors
    assert "memo:Recipient" in errors[0]


def test_a_message_in_another_namespace_is_reported(built):
    xml = built(minimal()).replace(memo.MEMO_NS.encode(), b"https://example.org/MeMo")
    assert memo.validate_memo(xml) == [
        "The root element is 'Message' in the namespace https://example.org/MeMo; a MeMo message is memo:Message "
        f"in the namespace {memo.MEMO_NS}."]


def test_other_broken_messages_are_reported(built):
    xml = built(minimal())
    assert memo.validate_memo(xml.replace(b'memoVersion="1.2"', b'memoVersion="1.3"')) == [
        "memoVersion '1.3' is not supported; it must be 1.1 or 1.2."]
    assert memo.validate_memo(xml[:-20])[0].startswith("The message is not well-formed XML:")
    long_title = xml.replace("Afgørelse om børnehaveplads".encode(), b"x" * 257)
    assert "maxLength" in memo.validate_memo(long_title)[0]
    assert memo.validate_memo(FakeSize(100_000_000)) == ["The message is 100.0 MB; at most 99.5 MB."]


def test_a_1_1_message_without_its_schema_version_is_invalid(built):
    xml = built(minimal("1.1")).replace(b' memoSchVersion="1.1.0"', b"")
    assert any("memoSchVersion" in e for e in memo.validate_memo(xml))


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"FETCHED")

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    """A local web server that records every request made to it."""
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def hostile(built, web: str, secret: Path) -> bytes:
    """A valid letter with a DTD whose entities point at the web and at a local file."""
    xml = built(minimal(label="Titel"))
    doctype = (f'<!DOCTYPE memo:Message [<!ENTITY web SYSTEM "{web}/entity"> <!ENTITY file SYSTEM "{secret.as_uri()}">'
               f'<!ENTITY % dtd SYSTEM "{web}/dtd"> %dtd;]>').encode()
    xml = xml.replace(b"?>", b"?>" + doctype, 1)
    return xml.replace(b">Titel<", b">&web;&file;<")


def test_external_entities_are_reported_and_never_fetched(built, web, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    errors = memo.validate_memo(hostile(built, web, secret))
    assert errors == ["The message has a DOCTYPE declaration; MeMo messages have none, and its entities are not read."]
    assert "TOPSECRET" not in " ".join(errors)
    with pytest.raises(ValueError, match="DOCTYPE"):
        memo.read_memo(hostile(built, web, secret))
    assert Recorder.hits == []


def test_validation_is_right_from_many_threads_at_once(built):
    good, bad = built(minimal()), built(minimal()).replace(b"<memo:label>", b"<memo:lable>", 1)
    wrong: list[str] = []

    def run(xml: bytes, valid: bool):
        for _ in range(200):
            if (memo.validate_memo(xml) == []) != valid:
                wrong.append("a validation gave another thread's answer")

    threads = [threading.Thread(target=run, args=(xml, xml is good)) for xml in (good, bad) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


@pytest.mark.slow  # the shared validator (xmlschema, pure Python) takes seconds over 11 MB of base64
def test_a_letter_with_more_than_10_mb_of_base64_in_one_file_is_validated_and_read(built):
    content = bytes(range(256)) * 32_000  # 8.2 MB: 10.9 MB in base64, over libxml2's default text limit
    xml = built(minimal(main=memo.MemoFile("Stor.pdf", "application/pdf", content)))
    assert memo.validate_memo(xml) == []
    assert memo.read_memo(xml).main_filename == "Stor.pdf"


# ---------------------------------------------------------------- reading


EXAMPLES = {
    "memo-1.1_MeMo_Minimum_Example.xml": ("1.1", "Pladsanvisning", None, 0, "Pladsanvisning.pdf"),
    "memo-1.1_MeMo_Full_Example.xml": ("1.1", "Besked fra Børneforvaltningen", "C657", 2, "Pladsanvisning.pdf"),
    "memo-1.2_MeMo_Minimum_Example.xml": ("1.2", "Pladsanvisning", None, 0, "Pladsanvisning.pdf"),
    "memo-1.2_MeMo_Full_Example.xml": ("1.2", "Besked fra Børneforvaltningen", "C657", 2, "Pladsanvisning.pdf"),
    "memo-1.2_MeMo_NemSMS.xml": ("1.2", "Label Text", None, 0, None),
    "memo-1.2_MeMo_with_attachment.xml": ("1.2", "Label Text", None, 0, "File1.txt"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_official_examples_are_read(name):
    if not SHARED.is_dir():
        pytest.skip(f"the shared MeMo examples are not at {SHARED}")
    version, label, reply_to, attachments, main_filename = EXAMPLES[name]
    summary = memo.read_memo((SHARED / "examples" / name).read_bytes())
    assert (summary.memo_version, summary.label, summary.attachment_count, summary.main_filename) == (
        version, label, attachments, main_filename)
    # The full examples' thread is no real business content: this message (C114) is its first entry,
    # and C657 answers C114. The reader names the other message in the thread, never the message itself.
    assert summary.reply_to == (uuid.UUID(f"8C2EA15D-61FB-4BA9-9366-42F8B194{reply_to}") if reply_to else None)
    if "Sender ID" not in (SHARED / "examples" / name).read_text(encoding="utf-8-sig"):
        assert summary.message_uuid == uuid.UUID("8C2EA15D-61FB-4BA9-9366-42F8B194C114")
        assert (summary.sender.id_type, summary.sender.number, summary.sender.label) == ("CVR", "12345678", "Kommunen")
        assert (summary.recipient.id_type, summary.recipient.number) == ("CPR", CPR)


def test_a_reply_naming_only_the_original_is_understood(built):
    original = uuid.uuid4()
    root = etree.fromstring(built(minimal(reply_to=original)))
    ns = {"memo": memo.MEMO_NS}
    reply_data = root.find(".//memo:ReplyData", ns)
    reply_data.find("memo:messageUUID", ns).text = str(original)
    reply_data.remove(reply_data.find("memo:replyUUID", ns))
    assert memo.read_memo(etree.tostring(root)).reply_to == original


@pytest.mark.parametrize("xml, message", [
    (b"<Message/>", "Not a MeMo message: the root element is 'Message' without a namespace."),
    (b'<memo:Message xmlns:memo="https://DigitalPost.dk/MeMo-1" memoVersion="1.2"/>',
     "The MeMo message lacks messageUUID, label, Sender/senderID, Sender/idType, Recipient/recipientID, "
     "Recipient/idType."),
    (b"<memo:Message", "The message is not well-formed XML"),
])
def test_what_is_not_a_memo_message_is_refused_by_the_reader(xml, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        memo.read_memo(xml)
