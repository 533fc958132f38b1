"""Content sniffing: the type comes from the bytes, and a lying extension is noticed."""
import io
import os
import struct
import zipfile

import docx
import openpyxl
import pytest
from pypdf import PdfWriter

from server.documents import filetypes
from server.documents.filetypes import (
    BMP, DOC, DOCM, DOCX, EML, EMPTY, GIF, HTML, JPEG, MSG, OCTET_STREAM, ODS, ODT, OLE, PDF, PNG, PPTX,
    RTF, TEXT, TIFF, WEBP, XLS, XLSX, XML, ZIP, detect, detect_file, extension_matches, safe_filename,
)


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("Høringssvar")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Beløb", 100])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bytes(*entries: tuple[str, bytes], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return out.getvalue()


def ole_bytes(*stream_names: str) -> bytes:
    """A minimal OLE2 compound file whose directory spans two sectors (so the chain must be followed)."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *[free] * 108)
    fat = struct.pack("<128I", fat_sector, 2, end, *[free] * 125)

    def entry(name: str, kind: int) -> bytes:
        encoded = name.encode("utf-16-le")
        return encoded.ljust(64, b"\0") + struct.pack("<HB", len(encoded) + 2, kind).ljust(64, b"\0")

    names = ["Root Entry", "\x05SummaryInformation", "\x05DocumentSummaryInformation", "1Table", *stream_names]
    entries = b"".join(entry(name, 5 if i == 0 else 2) for i, name in enumerate(names))
    directory = entries.ljust(1024, b"\0")
    return bytes(header) + fat + directory


def bmp_bytes() -> bytes:
    pixel = b"\xff\xff\xff\x00"
    file_header = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54)
    info_header = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 32, 0, 4, 0, 0, 0, 0)
    return file_header + info_header + pixel


# ---------------------------------------------------------------- binary formats


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", PNG),
        (b"\xff\xd8\xff\xe0\0\x10JFIF\0", JPEG),
        (b"GIF89a\x01\0\x01\0", GIF),
        (b"GIF87a\x01\0\x01\0", GIF),
        (b"II*\0\x08\0\0\0", TIFF),
        (b"MM\0*\0\0\0\x08", TIFF),
        (b"RIFF\x24\0\0\0WEBPVP8 ", WEBP),
        (b"{\\rtf1\\ansi\\ansicpg1252 Hej}", RTF),
    ],
)
def test_images_and_rtf_are_known_by_their_magic_bytes(data, expected):
    assert detect(data) == expected


def test_a_bitmap_needs_a_plausible_header_not_just_bm():
    assert detect(bmp_bytes()) == BMP
    assert detect(b"BMW og Audi er biler.\n") == TEXT


def test_pdf_is_known_by_its_header_even_after_junk():
    data = pdf_bytes()
    assert detect(data) == PDF
    assert detect(b"\r\n\0garbage from a mail gateway\n" + data) == PDF


def test_office_open_xml_is_told_apart_by_its_entries(tmp_path):
    assert detect(docx_bytes()) == DOCX
    assert detect(xlsx_bytes()) == XLSX
    assert detect(zip_bytes(("[Content_Types].xml", b"<Types/>"), ("ppt/presentation.xml", b"<p/>"))) == PPTX
    macros = zip_bytes(("word/document.xml", b"<w/>"), ("word/vbaProject.bin", b"\0" * 10))
    assert detect(macros) == DOCM


def test_zip_entries_are_read_from_the_file_when_head_is_only_the_start(tmp_path):
    # the main part comes after 20 KB of other entries, so it is not in the first 8 KB
    filler = [(f"customXml/item{i}.xml", os.urandom(1024)) for i in range(20)]
    data = zip_bytes(("[Content_Types].xml", b"<Types/>"), *filler, ("xl/workbook.xml", b"<workbook/>"))
    path = tmp_path / "bog.xlsx"
    path.write_bytes(data)
    head = data[: filetypes.HEAD_SIZE]

    assert detect(head) == ZIP  # head alone cannot know
    assert detect(head, path) == XLSX
    assert detect_file(path) == XLSX
    with open(path, "rb") as f:
        f.seek(123)
        assert detect(head, f) == XLSX
        assert f.tell() == 123  # the caller's position is kept


def test_a_zip_with_very_many_entries_is_not_listed_but_still_named_by_its_first_entries(tmp_path):
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", b"<w/>")
        for i in range(filetypes.MAX_ZIP_ENTRIES):
            archive.writestr(f"x/{i}", b"")
    assert detect_file(path) == DOCX


@pytest.mark.parametrize("damage", ["unknown version", "cut directory"])
def test_a_damaged_zip_directory_falls_back_to_the_head(damage):
    data = bytearray(docx_bytes())
    directory = data.index(b"PK\x01\x02")
    if damage == "unknown version":
        data[directory + 6] = 0xFF  # "version needed to extract" 25.5, which zipfile refuses
    else:
        del data[directory + 10 :]
    assert detect(bytes(data[: filetypes.HEAD_SIZE]), io.BytesIO(bytes(data))) == DOCX


def test_opendocument_is_known_by_its_mimetype_entry():
    odt = zip_bytes(("mimetype", ODT.mime.encode()), ("content.xml", b"<office/>"), stored_first=True)
    ods = zip_bytes(("mimetype", ODS.mime.encode()), ("content.xml", b"<office/>"), stored_first=True)
    assert detect(odt) == ODT
    assert detect(ods) == ODS


def test_other_zips_and_empty_zips_are_plain_zip():
    assert detect(zip_bytes(("billeder/foto.jpg", b"\xff\xd8\xff"))) == ZIP
    assert detect(zip_bytes()) == ZIP


@pytest.mark.parametrize(
    "stream, expected",
    [("WordDocument", DOC), ("Workbook", XLS), ("__substg1.0_0037001F", MSG), ("Contents", OLE)],
)
def test_old_office_files_are_told_apart_by_their_stream_names(tmp_path, stream, expected):
    data = ole_bytes(stream)
    path = tmp_path / "old.bin"
    path.write_bytes(data)
    assert detect(data[:512], path) == expected
    assert detect(data) == expected  # small enough to be read from head alone


def test_a_damaged_ole_file_is_still_an_ole_file():
    data = bytearray(ole_bytes("WordDocument"))
    struct.pack_into("<I", data, 0x30, 0xFFFFFF00)  # the directory points far past the end
    assert detect(bytes(data)) == OLE


# ---------------------------------------------------------------- text formats


@pytest.mark.parametrize(
    "text",
    [
        "Received: from mx.example.dk\r\n\tby mail; Tue, 1 Oct 2024\r\nFrom: a@example.dk\r\nSubject: Hej\r\n\r\nBody",
        "MIME-Version: 1.0\nContent-Type: text/plain\n\nbody",
        "From: Søren <s@example.dk>\nTo: kommunen@example.dk\nSubject: Ansøgning\n\nHej",
        "From - Tue Oct 01 10:00:00 2024\nX-Mozilla-Status: 0001\nMessage-ID: <a@b>\n\nbody",
        "Delivered-To: sag@example.dk\nReceived: by 10.0.0.1\n" + "X-Long: " + "x" * 9000,
    ],
)
def test_emails_are_known_by_their_header_block(text):
    assert detect(text.encode()[: filetypes.HEAD_SIZE]) == EML


@pytest.mark.parametrize(
    "text",
    [
        "Subject: not mail\nDate: today\n\nOnly generic headers.",
        "Note: buy milk\nFrom: the shop\nnot a header line\n",
        "From: a single header",
    ],
)
def test_text_that_only_resembles_headers_is_text(text):
    assert detect(text.encode()) == TEXT


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"<!DOCTYPE html><html><body>Hej</body></html>", HTML),
        (b"\xef\xbb\xbf  <html lang='da'><head></head></html>", HTML),
        (b"<!-- gemt fra Outlook -->\n<html><body>x</body></html>", HTML),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', HTML),
        (b'<?xml version="1.0" encoding="UTF-8"?><Emneplan/>', XML),
        (b"<Faktura><Beloeb>100</Beloeb></Faktura>", XML),
        ("Kære borger,\nDu får svar.".encode(), TEXT),
        ("Kære borger,\nDu får svar.".encode("cp1252"), TEXT),
        ("\ufeffKære borger".encode("utf-16"), TEXT),
        ("navn;beløb\nÆble;12,50\n".encode(), TEXT),
    ],
)
def test_markup_and_text(data, expected):
    assert detect(data) == expected


def test_a_cut_off_multibyte_character_at_the_end_of_head_is_still_text():
    data = ("æ" * 5000).encode()[: filetypes.HEAD_SIZE - 1]
    assert detect(data) == TEXT


def test_binary_and_empty():
    assert detect(os.urandom(4096)) == OCTET_STREAM
    assert detect(b"\x01\x02\x03\x04" * 100) == OCTET_STREAM
    assert detect(b"") is EMPTY
    assert EMPTY not in filetypes.KNOWN_TYPES


# ---------------------------------------------------------------- extensions and names


def test_a_pdf_named_docx_is_a_pdf_and_its_extension_lies(tmp_path):
    path = tmp_path / "brev.docx"
    path.write_bytes(pdf_bytes())
    found = detect_file(path)
    assert found == PDF
    assert extension_matches(path.name, found) is False


@pytest.mark.parametrize(
    "filename, filetype, matches",
    [
        ("scan.PDF", PDF, True),
        ("C:\\Users\\jens\\brev.pdf", PDF, True),
        ("foto.jpeg", JPEG, True),
        ("skabelon.dotx", DOCX, True),
        ("data.csv", TEXT, True),
        ("data.xml", TEXT, True),  # text formats blur into each other
        ("mail.txt", EML, True),
        ("README", TEXT, True),  # no extension claims nothing
        ("tegning.dwg", OCTET_STREAM, True),  # nor does an extension we do not know
        ("tegning.dwg", PDF, True),
        ("brev.pdf", TEXT, False),
        ("brev.txt", PDF, False),
        ("brev.pdf", OCTET_STREAM, False),
        ("rapport.docx", ZIP, False),
        ("rapport.docx", DOCM, False),
        ("tom.pdf", EMPTY, True),
    ],
)
def test_extension_matches(filename, filetype, matches):
    assert extension_matches(filename, filetype) is matches


@pytest.mark.parametrize(
    "name, safe",
    [
        ("Rækning å ø.pdf", "Rækning å ø.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jens\\Skrivebord\\ansøgning.docx", "ansøgning.docx"),
        ("..", ""),
        ("   ", ""),
        (None, ""),
        ("a\x00b\r\nc.txt", "a b c.txt"),
        ("faktura\u202efdp.exe", "faktura fdp.exe"),  # a right-to-left override would show "exe.pdf"
        ('hvad?: "svar" <ja>|nej*.txt', "hvad__ _svar_ _ja__nej_.txt"),
        (".hidden.", "hidden"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
        ("A\u030angstrom.txt", "\u00c5ngstrom.txt"),  # decomposed letters are composed (NFC)
    ],
)
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe
