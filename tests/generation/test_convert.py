"""Conversion to PDF with a real, long-lived LibreOffice (make test installs it)."""
from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import docx
import openpyxl
import pypdf
import pytest

from server.generation.convert import ConversionFailed, Converter, ConverterUnavailable, is_supported
from tests.files import text_pdf

if shutil.which("soffice") is None:
    pytest.skip("LibreOffice (soffice) is not installed; `make test` installs it", allow_module_level=True)

DANISH = "Kære Søren Ærøskøbing, vi har modtaget din ansøgning om tilskud til Åbenrå Ø-lejr."


@pytest.fixture(scope="module")
def converter():
    converter = Converter()
    yield converter
    converter.stop()


def word(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def xmp(pdf: bytes) -> str:
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).xmp_metadata
    return metadata.stream.get_data().decode("utf-8") if metadata is not None else ""


def pdfa_id(pdf: bytes) -> tuple[str | None, str | None]:
    """(part, conformance) from the XMP pdfaid schema, written as elements or as attributes."""
    found = xmp(pdf)

    def value(name):
        match = re.search(rf"<pdfaid:{name}>\s*(\w+)\s*<|pdfaid:{name}=\"(\w+)\"", found)
        return (match.group(1) or match.group(2)) if match else None

    return value("part"), value("conformance")


_ODF = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2"'
)


def opendocument(kind: str, body: str) -> bytes:
    """A minimal OpenDocument file ("text" or "spreadsheet"): the stored mimetype first, a manifest, the content."""
    mime = f"application/vnd.oasis.opendocument.{kind}"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF}>'
        f"<office:body><office:{kind}>{body}</office:{kind}></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mime)  # a ZipInfo of its own: stored, not compressed
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return out.getvalue()


@pytest.fixture(scope="module")
def old_office_files(tmp_path_factory) -> dict[str, bytes]:
    """A Word 97 .doc and an Excel 97 .xls, saved by LibreOffice's own command line from DOCX and XLSX."""
    folder = tmp_path_factory.mktemp("old-office")
    (folder / "gammel.docx").write_bytes(word("Gammelt Word-brev fra Ærø"))
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Gammelt Excel-ark fra Ærø"
    workbook.save(folder / "gammel.xlsx")
    profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"
    for source, target in (("gammel.docx", "doc"), ("gammel.xlsx", "xls")):
        subprocess.run(
            ["soffice", profile, "--headless", "--convert-to", target, "--outdir", str(folder), str(folder / source)],
            check=True, capture_output=True, timeout=60,
        )
    return {name: (folder / name).read_bytes() for name in ("gammel.doc", "gammel.xls")}


def gone(pid: int, within_s: float = 5) -> bool:
    """Whether the process ended (or is a zombie waiting to be reaped) within the time."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------- formats


def test_docx_with_danish_letters(converter):
    pdf = converter.to_pdf(word("Afgørelse", DANISH), "Afgørelse.docx")
    text = text_of(pdf)
    assert "Afgørelse" in text
    assert DANISH in " ".join(text.split())


def test_xlsx_cell_values_with_danish_number_format(converter):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Kommune", "Beløb"])
    sheet.append(["Aabenraa", 1234.5])
    sheet.append(["Ærø", 17])
    out = io.BytesIO()
    workbook.save(out)
    text = text_of(converter.to_pdf(out.getvalue(), "tilskud.xlsx"))
    for value in ("Kommune", "Beløb", "Aabenraa", "Ærø", "17"):
        assert value in text
    assert "1234,5" in text  # LibreOffice's profile is Danish: a decimal comma


def test_rtf_in_windows_encoding(converter):
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0\fs24 "
        rb"K\'e6re borger i \'c6r\'f8sk\'f8bing og \'c5rhus\par}"
    )
    assert "Kære borger i Ærøskøbing og Århus" in text_of(converter.to_pdf(rtf, "brev.rtf"))


def test_rtf_named_doc_is_converted_as_rtf(converter):
    # Word saves RTF under .doc now and then; the content decides, and it is a document either way.
    rtf = rb"{\rtf1\ansi\ansicpg1252 Sagsnummer 27.00.00-A00-1-24\par}"
    assert "Sagsnummer 27.00.00-A00-1-24" in text_of(converter.to_pdf(rtf, "gammel.doc"))


def test_odt_and_ods(converter):
    text = opendocument("text", "<text:p>Høringssvar fra Ærø</text:p>")
    assert "Høringssvar fra Ærø" in text_of(converter.to_pdf(text, "svar.odt"))
    sheet = opendocument(
        "spreadsheet",
        '<table:table table:name="Ark1"><table:table-row><table:table-cell office:value-type="string">'
        "<text:p>Budget for Åbenrå</text:p></table:table-cell></table:table-row></table:table>",
    )
    assert "Budget for Åbenrå" in text_of(converter.to_pdf(sheet, "budget.ods"))


def test_word_97_and_excel_97(converter, old_office_files):
    assert "Gammelt Word-brev fra Ærø" in text_of(converter.to_pdf(old_office_files["gammel.doc"], "gammel.doc"))
    assert "Gammelt Excel-ark fra Ærø" in text_of(converter.to_pdf(old_office_files["gammel.xls"], "gammel.xls"))


def test_text_file_in_windows_1252(converter):
    data = "Notat\nSøren skal ringe tilbage på mandag.".encode("cp1252")
    text = text_of(converter.to_pdf(data, "notat.txt"))
    assert "Søren skal ringe tilbage på mandag." in text


def test_pdfa_2b_output_carries_the_identification(converter):
    data = word("Til arkivet", DANISH)
    archived = converter.to_pdf(data, "arkiv.docx", pdfa=True)
    assert pdfa_id(archived) == ("2", "B")
    assert DANISH in " ".join(text_of(archived).split())
    assert pdfa_id(converter.to_pdf(data, "arkiv.docx")) == (None, None)  # plain PDF unless asked


def test_pdfa_from_a_spreadsheet(converter):
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Journalplan"
    out = io.BytesIO()
    workbook.save(out)
    assert pdfa_id(converter.to_pdf(out.getvalue(), "plan.xlsx", pdfa=True)) == ("2", "B")


# ---------------------------------------------------------------- refusals


def test_garbage_named_docx_is_refused_with_a_reason(converter):
    with pytest.raises(ConversionFailed) as caught:
        converter.to_pdf(os.urandom(4096), "Afgørelse.docx")
    assert "Afgørelse.docx" in caught.value.reason
    assert "Word document" in caught.value.reason
    assert caught.value.filename == "Afgørelse.docx"
    assert caught.value.status == 422  # a domain error: the API answers 422, never 500


def test_damaged_docx_is_refused_by_libreoffice_and_it_carries_on(converter):
    good = word("Før")
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"<w:document><<<" if name == "word/document.xml" else source.read(name))
    converter.start()
    pid = converter.pid
    with pytest.raises(ConversionFailed, match="damaged or is not a readable Word document"):
        converter.to_pdf(damaged.getvalue(), "brev.docx")
    with pytest.raises(ConversionFailed, match="brev.docx"):
        converter.to_pdf(good[: len(good) // 2], "brev.docx")  # cut short
    assert "Før" in text_of(converter.to_pdf(good, "brev.docx"))
    assert converter.pid == pid  # a bad file costs no restart


def test_text_named_docx_is_refused(converter):
    with pytest.raises(ConversionFailed, match="named as a Word document"):
        converter.to_pdf(b"just some text, not a letter", "brev.docx")


def test_other_types_are_refused(converter):
    with pytest.raises(ConversionFailed, match="is a PDF already"):
        converter.to_pdf(text_pdf("Allerede PDF"), "brev.pdf")
    with pytest.raises(ConversionFailed, match="cannot be converted to PDF"):
        converter.to_pdf(b"\x89PNG\r\n\x1a\n" + os.urandom(100), "foto.png")
    with pytest.raises(ConversionFailed, match="empty"):
        converter.to_pdf(b"", "tom.docx")


def test_is_supported():
    assert is_supported("brev.DOCX") and is_supported("ark.xls") and is_supported("notat.txt")
    assert not is_supported("foto.png") and not is_supported("brev.pdf")
    assert is_supported("x", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert not is_supported("x.docx", "application/pdf")


def test_missing_libreoffice_says_how_to_install_it():
    with pytest.raises(ConverterUnavailable, match="LibreOffice is not installed: run make run / make test"):
        Converter(soffice="/nonexistent/soffice").to_pdf(word("x"), "x.docx")


# ---------------------------------------------------------------- one long-lived LibreOffice


def test_twenty_documents_in_a_row_use_one_libreoffice(converter):
    letters = [word(f"Brev nummer {n}", DANISH) for n in range(20)]
    converter.start()
    pid, starts = converter.pid, converter.starts
    began = time.monotonic()
    pdfs = [converter.to_pdf(data, f"brev-{n}.docx") for n, data in enumerate(letters)]
    seconds = time.monotonic() - began
    assert converter.pid == pid and converter.starts == starts
    for n, pdf in enumerate(pdfs):
        assert f"Brev nummer {n}" in text_of(pdf)
    print(f"\n20 one-page DOCX in a row: {seconds:.2f} s, {20 / seconds:.1f} documents/s")


def test_a_batch_in_one_call_keeps_the_order(converter):
    converter.start()
    pid = converter.pid
    pdfs = converter.to_pdf_many([(word(f"Modtager {n}"), f"flet-{n}.docx") for n in range(5)], pdfa=True)
    assert [f"Modtager {n}" in text_of(pdf) for n, pdf in enumerate(pdfs)] == [True] * 5
    assert all(pdfa_id(pdf) == ("2", "B") for pdf in pdfs)
    assert converter.pid == pid


def test_threads_share_the_one_libreoffice(converter):
    converter.start()
    pid = converter.pid
    with ThreadPoolExecutor(4) as pool:
        pdfs = list(pool.map(lambda n: converter.to_pdf(word(f"Tråd {n}"), f"{n}.docx"), range(8)))
    assert [f"Tråd {n}" in text_of(pdf) for n, pdf in enumerate(pdfs)] == [True] * 8
    assert converter.pid == pid


def test_a_bad_file_in_a_batch_is_named(converter):
    with pytest.raises(ConversionFailed) as caught:
        converter.to_pdf_many([(word("a"), "a.docx"), (b"PK\x03\x04junk", "b.docx"), (word("c"), "c.docx")])
    assert caught.value.filename == "b.docx"


def test_a_hung_libreoffice_is_killed_and_restarted(converter):
    converter.start()
    pid, starts = converter.pid, converter.starts
    os.kill(pid, signal.SIGSTOP)  # soffice.bin stops answering mid-way, as a hung filter would
    began = time.monotonic()
    with pytest.raises(ConversionFailed, match="took longer than 1.5 s and was stopped"):
        converter.to_pdf(word("Hænger"), "hænger.docx", timeout_s=1.5)
    assert time.monotonic() - began < 5
    assert gone(pid), "the hung LibreOffice was left running"
    assert "Virker igen" in text_of(converter.to_pdf(word("Virker igen"), "igen.docx"))
    assert converter.pid not in (None, pid) and converter.starts == starts + 1


def test_libreoffice_that_died_while_idle_is_restarted(converter):
    converter.start()
    pid = converter.pid
    os.kill(pid, signal.SIGKILL)  # the kernel's OOM killer, say
    assert gone(pid)
    assert "Efter nedbrud" in text_of(converter.to_pdf(word("Efter nedbrud"), "efter.docx"))
    assert converter.pid not in (None, pid)


def test_stop_ends_every_process():
    converter = Converter()
    converter.start()
    pid = converter.pid
    converter.stop()
    assert converter.pid is None
    assert gone(pid)


def test_a_python_without_the_uno_bridge_is_reported():
    # The project's own Python has no `uno`: the worker must run under Debian's python3 with python3-uno.
    with pytest.raises(ConverterUnavailable, match="python3-uno"):
        Converter(uno_python=sys.executable).to_pdf(word("x"), "x.docx")
