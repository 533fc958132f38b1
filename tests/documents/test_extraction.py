"""Text extraction in a worker process: the formats, hostile and broken files, time and memory limits."""
import io
import os
import re
import signal
import stat
import sys
import threading
import time
import zipfile
from datetime import date

import docx
import openpyxl
import pytest
from pypdf import PdfReader, PdfWriter

from server.documents import extraction, filetypes
from server.documents.extraction import ExtractionStatus, extract_text, is_supported

OK, EMPTY, FAILED, UNSUPPORTED = ExtractionStatus
DOCX, XLSX = filetypes.DOCX.mime, filetypes.XLSX.mime


def make_pdf(*pages: str, text: bool = True) -> bytes:
    """A minimal PDF, one Helvetica line per page; without text, each page holds a drawn box only (a "scan")."""
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, line in enumerate(pages):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("cp1252")
        content = b"BT /F1 12 Tf 72 720 Td (" + escaped + b") Tj ET" if text else b"0 g 72 500 200 200 re f"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="ejer-hemmelighed", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(path):
    document = docx.Document()
    document.add_paragraph("Afgørelse om boligstøtte")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Navn", "Beløb"), ("Ærø Hansen", "1.250 kr.")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    section = document.sections[0]
    section.header.paragraphs[0].text = "Sidehoved: Aarhus Kommune"
    section.footer.paragraphs[0].text = "Sidefod: side 1"
    document.save(path)
    return path


def rewrite_zip(source, target, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None):
    """A copy of the archive `source` with some entries' content replaced and some entries added."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for entry in old.infolist():
            new.writestr(entry.filename, replace.get(entry.filename, old.read(entry.filename)))
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def zeros_docx(path, megabytes: int):
    """A zip bomb dressed as a DOCX: word/document.xml of `megabytes` MB of zeros, written in chunks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w") as entry:
            for _ in range(megabytes):
                entry.write(bytes(1024 * 1024))
    return path


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def extract(path, **limits):
    """Extract with the type found by content, as the upload job will."""
    return extract_text(path, filetypes.detect_file(path).mime, **limits)


# ---------------------------------------------------------------- PDF


def test_pdf_text_per_page(tmp_path):
    result = extract(write(tmp_path, "brev.pdf", make_pdf("Kære Søren Ærø", "Med venlig hilsen (kommunen)")))
    assert result.status is OK
    assert result.text == "Kære Søren Ærø\fMed venlig hilsen (kommunen)"
    assert (result.pages, result.ocr_used, result.reason) == (2, False, None)


def test_a_pdf_named_docx_is_read_as_the_pdf_it_is(tmp_path):
    path = write(tmp_path, "brev.docx", make_pdf("Indhold afgør typen"))
    assert extract(path).text == "Indhold afgør typen"


def test_an_encrypted_pdf_fails_with_a_clear_reason(tmp_path):
    path = write(tmp_path, "hemmelig.pdf", encrypted(make_pdf("Fortroligt"), user_password="kode"))
    result = extract(path)
    assert (result.status, result.reason) == (FAILED, "the PDF is encrypted")


def test_a_pdf_with_only_an_owner_password_is_readable(tmp_path):
    path = write(tmp_path, "laast.pdf", encrypted(make_pdf("Kan læses af alle"), user_password=""))
    assert extract(path).text == "Kan læses af alle"


def test_truncated_and_malformed_pdfs_fail_with_a_reason(tmp_path):
    pdf = make_pdf("Afskåret")
    truncated = extract(write(tmp_path, "halv.pdf", pdf[: len(pdf) // 2]))
    malformed = extract(write(tmp_path, "rod.pdf", b"%PDF-1.7\n" + os.urandom(2000)))
    for result in (truncated, malformed):
        assert result.status is FAILED
        assert "the PDF is damaged" in result.reason


def test_an_empty_file_given_as_pdf_fails(tmp_path):
    assert extract_text(write(tmp_path, "tom.pdf", b""), "application/pdf").status is FAILED


# ---------------------------------------------------------------- OCR


def fake_tesseract(folder, languages=("eng", "dan")):
    """A stand-in `tesseract` that checks it is given a PGM image and says what it saw."""
    folder.mkdir()
    script = folder / "tesseract"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "if sys.argv[1:] == ['--list-langs']:\n"
        f"    print('List of available languages in \"/usr/share/tessdata/\" ({len(languages)}):')\n"
        f"    print('\\n'.join({list(languages)!r}))\n"
        "    sys.exit(0)\n"
        "assert sys.argv[1:] == ['-', '-', '-l', 'dan'], sys.argv\n"
        "image = sys.stdin.buffer.read()\n"
        "magic, size, depth, pixels = image.split(b'\\n', 3)\n"
        "width, height = map(int, size.split())\n"
        "assert magic == b'P5' and depth == b'255' and len(pixels) == width * height\n"
        "print(f'Skannet side {width}x{height}, {pixels.count(0)} sorte punkter')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_a_scanned_pdf_is_read_by_tesseract_when_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_tesseract(tmp_path / "bin")))
    result = extract(write(tmp_path, "scan.pdf", make_pdf("", "", text=False)))
    assert result.status is OK and result.ocr_used is True and result.pages == 2
    pages = result.text.split("\f")
    assert len(pages) == 2
    for page in pages:
        width, height, black = map(int, re.fullmatch(r"Skannet side (\d+)x(\d+), (\d+) sorte punkter\n", page).groups())
        # US Letter at 300 dpi; the drawn box is 200 x 200 points, (200 * 300/72)^2 pixels
        assert (width, round(height, -1)) == (2550, 3300)
        assert black == pytest.approx(694_444, rel=0.01)


def test_without_tesseract_a_scanned_pdf_is_empty_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract here
    result = extract(write(tmp_path, "scan.pdf", make_pdf("", text=False)))
    assert (result.status, result.reason, result.ocr_used) == (EMPTY, "no text layer; OCR not installed", False)


def test_without_the_danish_language_ocr_is_not_attempted(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_tesseract(tmp_path / "bin", languages=("eng",))))
    result = extract(write(tmp_path, "scan.pdf", make_pdf("", text=False)))
    assert result.status is EMPTY and "tesseract-ocr-dan" in result.reason


def test_ocr_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_tesseract(tmp_path / "bin")))
    result = extract(write(tmp_path, "scan.pdf", make_pdf("", text=False)), ocr=False)
    assert (result.status, result.ocr_used) == (EMPTY, False)


# ---------------------------------------------------------------- Office


def test_docx_paragraphs_tables_headers_and_footers(tmp_path):
    result = extract(make_docx(tmp_path / "afgoerelse.docx"))
    assert result.status is OK
    lines = result.text.splitlines()
    assert lines[0] == "Afgørelse om boligstøtte"
    assert "Navn\tBeløb" in lines and "Ærø Hansen\t1.250 kr." in lines
    assert "Sidehoved: Aarhus Kommune" in lines and "Sidefod: side 1" in lines


def test_xlsx_cell_values(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Budget"
    sheet.append(["Post", "Beløb", "Dato"])
    sheet.append(["Løn", 125000.5, date(2024, 12, 31)])
    workbook.create_sheet("Tom")
    workbook.save(tmp_path / "budget.xlsx")
    result = extract(tmp_path / "budget.xlsx")
    assert result.status is OK
    assert result.text == "Budget\nPost\tBeløb\tDato\nLøn\t125000.5\t2024-12-31\nTom"


def test_a_zip_bomb_shaped_as_docx_is_refused_without_unpacking(tmp_path):
    path = zeros_docx(tmp_path / "bombe.docx", megabytes=500)
    assert path.stat().st_size < 1024 * 1024
    started = time.monotonic()
    result = extract(path)
    assert result.status is FAILED
    assert result.reason == "the archive would unpack to more than 200 MB"
    assert time.monotonic() - started < 5


def test_an_entry_compressed_like_a_bomb_is_refused_even_under_the_size_limit(tmp_path):
    result = extract(zeros_docx(tmp_path / "lille-bombe.docx", megabytes=20))
    assert result.status is FAILED and "compressed more than 100:1" in result.reason


def test_a_docx_with_a_path_traversal_entry_is_refused(tmp_path):
    path = rewrite_zip(make_docx(tmp_path / "a.docx"), tmp_path / "b.docx", add={"../evil": b"x"})
    assert filetypes.detect_file(path) == filetypes.DOCX
    result = extract(path)
    assert (result.status, result.reason) == (FAILED, "the archive has unsafe entry names")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE w:document [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""


def test_a_docx_with_malformed_xml_fails_with_a_reason(tmp_path):
    broken = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    path = rewrite_zip(make_docx(tmp_path / "a.docx"), tmp_path / "b.docx", replace={"word/document.xml": broken})
    result = extract(path)
    assert result.status is FAILED and result.reason.startswith("the document's XML is malformed")


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_docx_xml_with_entities_is_refused(tmp_path, xml):
    path = rewrite_zip(make_docx(tmp_path / "a.docx"), tmp_path / "b.docx", replace={"word/document.xml": xml})
    result = extract(path)
    assert result.status is FAILED and "entities" in result.reason
    assert "root:" not in result.text


def test_xlsx_xml_with_an_external_entity_does_not_leak_files(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "placeholder"
    workbook.save(tmp_path / "a.xlsx")
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>'
    )
    path = rewrite_zip(tmp_path / "a.xlsx", tmp_path / "b.xlsx", replace={"xl/worksheets/sheet1.xml": sheet})
    result = extract(path)
    assert result.status is FAILED
    assert "root:" not in result.text


def test_a_pdf_given_as_docx_fails_cleanly(tmp_path):
    result = extract_text(write(tmp_path, "x.docx", make_pdf("x")), DOCX)
    assert result.status is FAILED and "not a readable ZIP" in result.reason


# ---------------------------------------------------------------- mail, HTML, text


EML = (
    "From: Søren Ærø <soren@example.dk>\r\nTo: sag@kommune.dk\r\nSubject: Ansøgning\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head><style>p {color: red}</style></head><body><p>Jeg søger om tilskud.</p>"
    "<script>alert('x')</script></body></html>\r\n"
).encode()


def test_eml_headers_and_body(tmp_path):
    result = extract(write(tmp_path, "mail.eml", EML))
    assert result.status is OK
    assert result.text == (
        "From: Søren Ærø <soren@example.dk>\nTo: sag@kommune.dk\nSubject: Ansøgning\n\nJeg søger om tilskud."
    )


def test_a_zero_byte_or_broken_eml_fails_with_a_reason(tmp_path):
    empty = extract_text(write(tmp_path, "tom.eml", b""), "message/rfc822")
    broken = extract_text(write(tmp_path, "rod.eml", b"\x00\x01binary junk\xff"), "message/rfc822")
    assert (empty.status, empty.reason) == (FAILED, "the e-mail is empty (0 bytes)")
    assert broken.status is FAILED and "no e-mail headers" in broken.reason


def test_html_text_without_tags_scripts_or_styles(tmp_path):
    html = (
        '<!DOCTYPE html><html><head><meta charset="iso-8859-1"><title>T</title><style>b{}</style></head>'
        "<body><h1>Høring</h1><p>Svar senest&nbsp;1. maj &amp; gerne før.</p>"
        "<table><tr><td>A</td><td>B</td></tr></table><script>var x = 1;</script></body></html>"
    ).encode("iso-8859-1")
    result = extract(write(tmp_path, "side.html", html))
    assert result.text == "Høring\nSvar senest 1. maj & gerne før.\nA B"


@pytest.mark.parametrize(
    "data",
    [
        "Blåbærgrød, æbleskiver og rødkål\n".encode(),
        "Blåbærgrød, æbleskiver og rødkål\n".encode("cp1252"),
        "Blåbærgrød, æbleskiver og rødkål\n".encode("utf-16"),
    ],
    ids=["utf-8", "cp1252", "utf-16"],
)
def test_plain_text_in_common_encodings(tmp_path, data):
    assert extract(write(tmp_path, "note.txt", data)).text == "Blåbærgrød, æbleskiver og rødkål\n"


def test_csv_is_text(tmp_path):
    result = extract_text(write(tmp_path, "data.csv", "navn;beløb\nÆble;12,50\n".encode()), "text/csv")
    assert result.text == "navn;beløb\nÆble;12,50\n"


def test_xml_text_content(tmp_path):
    xml = b'<?xml version="1.0"?><Faktura><Kunde>Aarhus Kommune</Kunde><Beloeb valuta="DKK">100</Beloeb></Faktura>'
    assert extract(write(tmp_path, "faktura.xml", xml)).text == "Aarhus Kommune\n100"


def test_an_empty_text_file_is_empty_and_nul_characters_are_dropped(tmp_path):
    assert extract_text(write(tmp_path, "tom.txt", b""), "text/plain").status is EMPTY
    assert extract_text(write(tmp_path, "nul.txt", b"a\x00b"), "text/plain").text == "ab"


def test_the_text_is_capped(tmp_path):
    result = extract_text(write(tmp_path, "stor.txt", b"ord " * 2_000_000), "text/plain")
    assert result.status is OK
    assert len(result.text) == extraction.MAX_TEXT_CHARS
    assert "cut" in result.reason


def test_unsupported_and_missing_files(tmp_path):
    png = extract_text(write(tmp_path, "foto.png", b"\x89PNG\r\n\x1a\n"), "image/png")
    assert (png.status, png.reason) == (UNSUPPORTED, "no text extraction for image/png")
    assert is_supported("application/pdf") and is_supported("Text/Plain; charset=utf-8")
    assert not is_supported("image/png")
    missing = extract_text(tmp_path / "findes-ikke.pdf", "application/pdf")
    assert missing.status is FAILED


# ---------------------------------------------------------------- limits and the worker


def big_xlsx(path, rows: int):
    """A valid workbook that takes openpyxl about a second per 40,000 rows."""
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = 1
    workbook.save(path.with_suffix(".tmp"))
    row = b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>%d</v></c></row>'
    sheet = b"".join(
        [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
        + [row % (r, r, r, r, r) for r in range(1, rows)]
        + [b"</sheetData></worksheet>"]
    )
    return rewrite_zip(path.with_suffix(".tmp"), path, replace={"xl/worksheets/sheet1.xml": sheet})


def idle_worker_pid():
    return extraction._pool._idle[-1].process.pid


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_slow_extraction_is_killed_at_the_timeout_and_the_next_one_works(tmp_path):
    pdf = write(tmp_path, "a.pdf", make_pdf("efter"))
    slow = big_xlsx(tmp_path / "stor.xlsx", rows=100_000)
    extract(pdf)  # make sure a worker is idle, so its start does not count
    pid = idle_worker_pid()

    started = time.monotonic()
    result = extract(slow, timeout_s=0.3)
    elapsed = time.monotonic() - started

    assert (result.status, result.reason) == (FAILED, "extraction timed out after 0.3 s")
    assert elapsed < 1.5
    assert not process_exists(pid)
    assert extract(pdf).text == "efter"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="the memory limit is measured on Linux")
def test_an_extraction_over_the_memory_limit_fails_and_the_worker_is_replaced(tmp_path):
    path = write(tmp_path, "stor.txt", b"ord " * 3_000_000)
    assert extract_text(path, "text/plain").status is OK  # fine with the normal limit
    pid = idle_worker_pid()

    result = extract_text(path, "text/plain", memory_mb=1)

    assert (result.status, result.reason) == (FAILED, "extraction ran out of memory")
    assert not process_exists(pid)
    assert extract_text(path, "text/plain").status is OK


def test_a_worker_that_dies_during_a_job_is_reported_and_replaced(tmp_path):
    pdf = write(tmp_path, "a.pdf", make_pdf("igen"))
    slow = big_xlsx(tmp_path / "stor.xlsx", rows=100_000)
    extract(pdf)
    pid = idle_worker_pid()
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))  # as the kernel's OOM killer would
    killer.start()
    result = extract(slow)
    killer.join()
    assert result.status is FAILED
    assert result.reason == "the extraction process crashed (SIGKILL); it most likely ran out of memory"
    assert extract(pdf).text == "igen"


def test_a_dead_idle_worker_is_not_handed_out(tmp_path):
    path = write(tmp_path, "a.pdf", make_pdf("igen"))
    extract(path)
    worker = extraction._pool._idle[-1]
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    assert extract(path).text == "igen"


def test_workers_serve_threads_side_by_side(tmp_path):
    paths = [write(tmp_path, f"{i}.pdf", make_pdf(f"Dokument {i}")) for i in range(20)]
    results: dict[int, str] = {}

    def run(offset):
        for i in range(offset, 20, 2):
            results[i] = extract_text(paths[i], "application/pdf").text

    threads = [threading.Thread(target=run, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: f"Dokument {i}" for i in range(20)}


def test_small_pdfs_extract_at_well_over_200_per_second(tmp_path):
    paths = [write(tmp_path, f"{i}.pdf", make_pdf(f"Sag {i}: afgørelse om tilskud")) for i in range(200)]
    extract_text(paths[0], "application/pdf")  # a warm worker, as in a running job queue
    started = time.monotonic()
    results = [extract_text(path, "application/pdf") for path in paths]
    per_second = len(paths) / (time.monotonic() - started)
    assert all(r.status is OK for r in results)
    assert per_second > 200, f"{per_second:.0f} documents/s"


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="reads the worker's environment on Linux")
def test_the_worker_gets_no_secrets_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SAGSPOST_DATABASE_URL", "postgresql://sagspost:hemmeligt@db/sagspost")
    while extraction._pool._idle:  # so that a fresh worker starts with this environment
        extraction._pool._idle.pop().stop()
    extract(write(tmp_path, "a.txt", b"x"))
    pid = idle_worker_pid()
    with open(f"/proc/{pid}/environ", "rb") as environ:
        assert b"hemmeligt" not in environ.read()
