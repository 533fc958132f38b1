"""A file's type, decided by its content (magic bytes), never by its name.

A small pure-Python sniffer: libmagic is not on every fresh machine, and the few formats a case file
holds are told apart by their first bytes, by a ZIP's entry names (Office Open XML, OpenDocument) or
by an OLE2 file's stream names (old Office, Outlook .msg).
"""
from __future__ import annotations

import codecs
import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

HEAD_SIZE = 8192  # how much of a file detect() wants to see
MAX_ZIP_ENTRIES = 20_000  # more, and reading the entry names would cost the web process too much memory
_MAX_OLE_DIRECTORY_SECTORS = 256


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str  # the usual one, without the dot; "" when there is none
    label: str
    other_extensions: tuple[str, ...] = ()
    text: bool = False  # a text format: their extensions blur (an .xml that is plain text is no lie)

    @property
    def extensions(self) -> tuple[str, ...]:
        return ((self.extension,) if self.extension else ()) + self.other_extensions


EMPTY = FileType("application/x-empty", "", "Empty file")
OCTET_STREAM = FileType("application/octet-stream", "bin", "Unknown file type")
PDF = FileType("application/pdf", "pdf", "PDF document")
PNG = FileType("image/png", "png", "PNG image")
JPEG = FileType("image/jpeg", "jpg", "JPEG image", ("jpeg", "jpe", "jfif"))
GIF = FileType("image/gif", "gif", "GIF image")
TIFF = FileType("image/tiff", "tif", "TIFF image", ("tiff",))
BMP = FileType("image/bmp", "bmp", "Bitmap image", ("dib",))
WEBP = FileType("image/webp", "webp", "WebP image")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "Word document", ("dotx",)
)
DOCM = FileType("application/vnd.ms-word.document.macroEnabled.12", "docm", "Word document with macros", ("dotm",))
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "Excel workbook", ("xltx",)
)
XLSM = FileType("application/vnd.ms-excel.sheet.macroEnabled.12", "xlsm", "Excel workbook with macros", ("xltm",))
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptx",
    "PowerPoint presentation",
    ("potx", "ppsx"),
)
PPTM = FileType(
    "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    "pptm",
    "PowerPoint presentation with macros",
    ("potm", "ppsm"),
)
ODT = FileType("application/vnd.oasis.opendocument.text", "odt", "OpenDocument text")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods", "OpenDocument spreadsheet")
ODP = FileType("application/vnd.oasis.opendocument.presentation", "odp", "OpenDocument presentation")
ZIP = FileType("application/zip", "zip", "ZIP archive")
RTF = FileType("application/rtf", "rtf", "Rich Text document")
DOC = FileType("application/msword", "doc", "Word 97-2003 document", ("dot",))
XLS = FileType("application/vnd.ms-excel", "xls", "Excel 97-2003 workbook", ("xlt",))
PPT = FileType("application/vnd.ms-powerpoint", "ppt", "PowerPoint 97-2003 presentation", ("pps", "pot"))
MSG = FileType("application/vnd.ms-outlook", "msg", "Outlook message")
OLE = FileType("application/x-ole-storage", "", "Microsoft compound file of unknown kind")
EML = FileType("message/rfc822", "eml", "E-mail", text=True)
HTML = FileType("text/html", "html", "HTML document", ("htm", "xhtml"), text=True)
XML = FileType("application/xml", "xml", "XML document", ("xsd", "xsl", "svg"), text=True)
TEXT = FileType("text/plain", "txt", "Text", ("csv", "tsv", "log", "md"), text=True)

KNOWN_TYPES = (
    PDF, PNG, JPEG, GIF, TIFF, BMP, WEBP, DOCX, DOCM, XLSX, XLSM, PPTX, PPTM, ODT, ODS, ODP, ZIP, RTF,
    DOC, XLS, PPT, MSG, OLE, EML, HTML, XML, TEXT, OCTET_STREAM,
)
# Generic results claim no extension: content we cannot name contradicts no name.
_BY_EXTENSION = {ext: t for t in KNOWN_TYPES if t not in (OLE, OCTET_STREAM) for ext in t.extensions}

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"{\\rtf", RTF),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an entry, or the end record of an empty archive
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BMP_HEADER_SIZES = (12, 40, 52, 56, 64, 108, 124)
_ODF = {t.mime.encode(): t for t in (ODT, ODS, ODP)}
_OOXML = (  # main part, macro part, plain type, type with macros
    ("word/document.xml", "word/vbaProject.bin", DOCX, DOCM),
    ("xl/workbook.xml", "xl/vbaProject.bin", XLSX, XLSM),
    ("ppt/presentation.xml", "ppt/vbaProject.bin", PPTX, PPTM),
)
_OLE_STREAMS = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}
_MSG_PREFIXES = ("__substg1.0_", "__properties_version1.0", "__nameid_version1.0")
_HEADER_LINE = re.compile(r"([!-9;-~]+):")  # a field name is printable ASCII without a colon
_MAIL_HEADERS = {"from", "received", "mime-version", "message-id", "return-path", "delivered-to"}
_MARKUP_START = re.compile(r"<(\?xml|!--|!doctype|[a-z_])", re.IGNORECASE)
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body")
_CONTROLS = bytes(b for b in range(32) if b not in b"\t\n\r\f\x1b")  # rare in text, common in binary
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def detect(head: bytes, path_or_file: str | Path | BinaryIO | None = None) -> FileType:
    """The type of a file whose first bytes (HEAD_SIZE of them, or all of a smaller file) are `head`.

    ZIP and OLE2 files are told apart by their entry names, read from `path_or_file` when given (a
    seekable binary file is returned to where it was); without it only `head` is looked at.
    """
    if not head:
        return EMPTY
    if head.startswith(_ZIP_MAGIC):
        return _zip_type(head, path_or_file)
    if head.startswith(_OLE_MAGIC):
        return _ole_type(head, path_or_file)
    for magic, filetype in _SIGNATURES:
        if head.startswith(magic):
            return filetype
    if b"%PDF-" in head[:1024]:  # readers accept junk before the header, and so must we
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if _is_bmp(head):
        return BMP
    return _text_type(head)


def detect_file(path: str | Path) -> FileType:
    """The type of the file at `path`."""
    with open(path, "rb") as f:
        return detect(f.read(HEAD_SIZE), f)


def extension_matches(filename: str, filetype: FileType) -> bool:
    """False when the name's extension says another type than the content, so the caller can warn."""
    ext = PureWindowsPath(filename or "").suffix.lower().lstrip(".")  # Windows paths use either slash
    if not ext or filetype is EMPTY or ext in filetype.extensions:
        return True
    claimed = _BY_EXTENSION.get(ext)
    if claimed is None:
        return True  # an extension we do not know makes no claim to contradict
    return filetype.text and claimed.text


# ---------------------------------------------------------------- binary formats


def _is_bmp(head: bytes) -> bool:
    # "BM" alone starts too many text files; the reserved fields are zero and the DIB header size is one of few.
    if len(head) < 18 or head[:2] != b"BM" or head[6:10] != b"\0\0\0\0":
        return False
    return struct.unpack_from("<I", head, 14)[0] in _BMP_HEADER_SIZES


def _zip_type(head: bytes, path_or_file) -> FileType:
    # OpenDocument stores an uncompressed first entry "mimetype", so its content sits at a fixed offset.
    if head[30:38] == b"mimetype":
        odf = _ODF.get(head[38:120].split(b"PK", 1)[0].strip())
        if odf is not None:
            return odf
    names = _with_file(path_or_file, head, _zip_names)
    for main, macros, plain, with_macros in _OOXML:
        if names is None:  # unreadable directory: the local headers in head still name the first entries
            if main.encode() in head:
                return with_macros if macros.encode() in head else plain
        elif main in names:
            return with_macros if macros in names else plain
    return ZIP


def _zip_names(f: BinaryIO) -> set[str] | None:
    if not _zip_entry_count_is_modest(f):
        return None
    try:
        return set(zipfile.ZipFile(f).namelist())
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError):
        return None  # damaged, or a version zipfile does not read: the head decides


def _zip_entry_count_is_modest(f: BinaryIO) -> bool:
    # zipfile builds an object per entry; a hostile archive declares millions. The end record says how many.
    size = f.seek(0, io.SEEK_END)
    tail_size = min(size, 22 + 0xFFFF)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return False
    count = struct.unpack_from("<H", tail, end + 10)[0]
    return count <= MAX_ZIP_ENTRIES  # 0xFFFF means ZIP64, which no document needs


def _ole_type(head: bytes, path_or_file) -> FileType:
    for name in _with_file(path_or_file, head, _ole_stream_names):
        if name in _OLE_STREAMS:
            return _OLE_STREAMS[name]
        if name.startswith(_MSG_PREFIXES):
            return MSG
    return OLE


def _ole_stream_names(f: BinaryIO) -> list[str]:
    """The names in an OLE2 compound file's directory, read along the directory's sector chain."""
    header = _read_at(f, 0, 512)
    if len(header) < 512 or struct.unpack_from("<H", header, 0x1E)[0] not in (9, 12):
        return []
    sector_size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
    fat_sectors = _ole_fat_sectors(f, header, sector_size)
    per_fat_sector = sector_size // 4
    sector = struct.unpack_from("<I", header, 0x30)[0]
    names = []
    for _ in range(_MAX_OLE_DIRECTORY_SECTORS):  # a bound, as a hostile chain may loop
        if sector >= len(fat_sectors) * per_fat_sector:
            break  # end of chain (0xFFFFFFFE) or a sector the allocation table does not cover
        data = _read_at(f, (sector + 1) * sector_size, sector_size)
        for entry in range(0, len(data) - 127, 128):
            length = struct.unpack_from("<H", data, entry + 0x40)[0]  # in bytes, with the closing NUL
            if 2 <= length <= 64:
                names.append(data[entry : entry + length - 2].decode("utf-16-le", "replace"))
        fat = _read_at(f, (fat_sectors[sector // per_fat_sector] + 1) * sector_size, sector_size)
        entry_at = (sector % per_fat_sector) * 4
        if entry_at + 4 > len(fat):
            break
        sector = struct.unpack_from("<I", fat, entry_at)[0]
    return names


def _ole_fat_sectors(f: BinaryIO, header: bytes, sector_size: int) -> list[int]:
    # The header lists the first 109 allocation-table sectors; bigger files chain more in DIFAT sectors.
    count = struct.unpack_from("<I", header, 0x2C)[0]
    sectors = list(struct.unpack_from("<109I", header, 0x4C)[:count])
    difat = struct.unpack_from("<I", header, 0x44)[0]
    per_sector = sector_size // 4 - 1
    for _ in range(64):
        if len(sectors) >= count or difat >= 0xFFFFFFFA:
            break
        data = _read_at(f, (difat + 1) * sector_size, sector_size)
        if len(data) < sector_size:
            break
        values = struct.unpack_from(f"<{per_sector + 1}I", data)
        sectors.extend(values[:per_sector])
        difat = values[per_sector]
    return sectors[:count]


def _read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(size)


def _with_file(path_or_file, head: bytes, read):
    """`read(file)` on the given path or file, or on head alone; a file's position is put back."""
    if path_or_file is None:
        return read(io.BytesIO(head))
    if isinstance(path_or_file, (str, Path)):
        with open(path_or_file, "rb") as f:
            return read(f)
    position = path_or_file.tell()
    try:
        return read(path_or_file)
    finally:
        path_or_file.seek(position)


# ---------------------------------------------------------------- text formats


def _text_type(head: bytes) -> FileType:
    text = _as_text(head)
    if text is None:
        return OCTET_STREAM
    start = text.lstrip("\ufeff \t\r\n")
    if _looks_like_email(start):
        return EML
    if _MARKUP_START.match(start):
        opening = start[:1024].lower()
        return HTML if any(marker in opening for marker in _HTML_MARKERS) else XML
    return TEXT


def _as_text(head: bytes) -> str | None:
    """head decoded as text, or None when it looks binary. The last character may be cut off."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            try:
                return codecs.getincrementaldecoder(encoding)().decode(head[len(bom) :])
            except UnicodeDecodeError:
                return None
    if b"\0" in head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROLS))
    if controls > len(head) // 100:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return head.decode("cp1252", "replace")  # Latin-1 and its Windows superset: every byte is a letter


def _looks_like_email(text: str) -> bool:
    """A header block of at least two fields, one of them only mail has, before the first blank line."""
    lines = text.splitlines()
    if lines and lines[0].startswith("From "):
        lines = lines[1:]  # the separator line of a message saved from an mbox
    if "" in lines:
        lines = lines[: lines.index("")]
    elif not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # head may have cut the last line short
    names = []
    for line in lines:
        if line[:1] in (" ", "\t") and names:
            continue  # a folded continuation of the previous field
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        names.append(match.group(1).lower())
    return len(names) >= 2 and not _MAIL_HEADERS.isdisjoint(names)


# ---------------------------------------------------------------- names


def safe_filename(name: str | None, max_length: int = 200) -> str:
    """`name` fit to store and to offer for download: no folders, control or bidi characters, nor
    characters Windows forbids; letters of any language are kept. "" when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # category C: control, format (a right-to-left override can disguise "exe.pdf"), surrogate, unassigned
    name = "".join(" " if unicodedata.category(c).startswith("C") else c for c in name)
    name = " ".join(_WINDOWS_FORBIDDEN.sub("_", name).split())
    name = name.strip(" .")  # Windows drops trailing dots; a leading dot hides a file
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        keep = f"{dot}{ext}" if dot and len(ext) <= 16 else ""
        name = name[: max_length - len(keep)].rstrip(" .") + keep
    return name
