"""Text for search, pulled out of stored files in a child process with time and memory limits.

Parsers of PDF and Office files meet hostile input (zip bombs, XML entity tricks, files that make a
parser loop), so parsing never runs in the calling process. A worker process
(`python -m server.documents.extraction`) takes one file at a time over a pipe, under an
address-space limit set per file; the caller waits at most `timeout_s` and kills the worker's whole
process group (OCR runs as its grandchild) when it does not answer. A worker is reused until it
times out, crashes or runs out of memory, so its start (~0.2 s) is paid rarely, not per file.
"""
from __future__ import annotations

import codecs
import enum
import functools
import itertools
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces

from server.childpipe import read_line

MAX_TEXT_CHARS = 5_000_000
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 10_000
MAX_COMPRESSION_RATIO = 100  # real Office parts compress 5-20:1; only entries over 1 MiB are judged
MAX_OCR_PAGES = 50
OCR_DPI = 300
MAX_OCR_PIXELS = 40_000_000  # a poster-sized page is rendered at less than OCR_DPI
MIN_LETTERS_PER_PAGE = 5  # fewer than this on average: a scan, whose text layer is at most a stamp
_START_TIMEOUT_S = 60
_WORKER_ENVIRONMENT = {
    "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "PYTHONPATH", "TESSDATA_PREFIX",
}
_MIB = 1024 * 1024
_WORKER_ENDED = "the extraction process ended"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WORD_PARTS = re.compile(r"word/(header|footer)\d*\.xml|word/(footnotes|endnotes)\.xml")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_LETTER = re.compile(r"[^\W_]")  # what str.isalnum counts
_HTML_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""")


class ExtractionStatus(str, enum.Enum):
    OK = "ok"
    EMPTY = "empty"  # read fine, but there is no text (a scan without OCR, an empty page)
    FAILED = "failed"  # the file could not be read; `reason` says why
    UNSUPPORTED = "unsupported"  # no extraction for this type


@dataclass(frozen=True)
class ExtractionResult:
    status: ExtractionStatus
    text: str = ""
    reason: str | None = None  # why it failed or is empty, or a note such as "the text was cut"
    pages: int | None = None
    ocr_used: bool = False


class _Unreadable(Exception):
    """A file the worker refuses or cannot parse; str(error) is the reason shown to users."""


# ---------------------------------------------------------------- in the calling process


def is_supported(mime: str) -> bool:
    """Whether extract_text reads this type, so no job need be queued for one it does not."""
    return _base_mime(mime) in _HANDLERS


def extract_text(
    path: Path, mime: str, *, timeout_s: float = 60, memory_mb: int = 512, ocr: bool = True
) -> ExtractionResult:
    """The searchable text of the file at `path`, whose content type is `mime` (from filetypes.detect).

    Runs in a worker process limited to `memory_mb` MB more than it uses at rest and to `timeout_s`
    seconds; never raises for a bad file. OCR (Tesseract with Danish) is used for PDFs without a
    text layer when `ocr` is true and `tesseract` is on PATH.
    """
    return next(extract_texts([(path, mime)], timeout_s=timeout_s, memory_mb=memory_mb, ocr=ocr))


def extract_texts(
    files: Iterable[tuple[Path | None, str]], *, timeout_s: float = 60, memory_mb: int = 512, ocr: bool = True
) -> Iterator[ExtractionResult]:
    """extract_text of each (path, mime), in order, as they are asked for; the limits hold per file,
    and a file that fails, times out or crashes its worker is that file's result alone. A path of
    None is a file that is missing."""
    tesseract = shutil.which("tesseract") if ocr else None
    for path, mime in files:
        yield _failed("the file is missing") if path is None else _extract_in_worker(
            path, _base_mime(mime), timeout_s, memory_mb, ocr, tesseract)


def _extract_in_worker(path: Path, mime: str, timeout_s: float, memory_mb: int, ocr: bool, tesseract: str | None):
    if mime not in _HANDLERS:
        return ExtractionResult(ExtractionStatus.UNSUPPORTED, reason=f"no text extraction for {mime}")
    job = {"path": str(path), "mime": mime, "memory_mb": memory_mb, "ocr": ocr, "tesseract": tesseract}
    worker = _pool.take()
    try:
        answer = worker.ask(job, timeout_s)
    except TimeoutError:
        worker.stop()
        return _failed(f"extraction timed out after {timeout_s:g} s")
    except (ChildProcessError, OSError):
        return _failed(_crash_reason(worker.stop()))
    except BaseException:  # interrupted while the worker is busy: its state is unknown
        worker.stop()
        raise
    if answer.pop("restart"):
        worker.stop()
    else:
        _pool.give_back(worker)
    return ExtractionResult(**{**answer, "status": ExtractionStatus(answer["status"])})


def _crash_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        return f"the extraction process crashed ({name}); it most likely ran out of memory"
    return f"the extraction process stopped unexpectedly (exit code {returncode})"


def _base_mime(mime: str) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


class _Worker:
    """One worker process, spoken to in JSON lines: a job goes in on stdin, its answer comes out on stdout."""

    def __init__(self):
        # The worker parses hostile files, so it gets no secrets (database URL, keys) from our environment.
        env = {name: value for name, value in os.environ.items() if name in _WORKER_ENVIRONMENT}
        # It must run the same code as this process, wherever the package was imported from.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.documents.extraction"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so a kill also reaches a running tesseract
        )
        self._received = bytearray()
        try:
            read_line(self.process.stdout, self._received, time.monotonic() + _START_TIMEOUT_S, _WORKER_ENDED)
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, job: dict, timeout_s: float) -> dict:
        """The worker's answer; raises TimeoutError, or ChildProcessError/OSError when it died."""
        self.process.stdin.write(json.dumps(job).encode() + b"\n")
        self.process.stdin.flush()
        return json.loads(read_line(self.process.stdout, self._received, time.monotonic() + timeout_s, _WORKER_ENDED))

    def stop(self) -> int | None:
        """Kill the worker and everything it started; its exit code (negative: the signal)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # gone already
        returncode = self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        return returncode



class _Pool:
    """Idle workers, shared by the threads of this process; a worker serves one caller at a time."""

    def __init__(self):
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> _Worker:
        with self._lock:
            if self._pid != os.getpid():
                # A forked process (a Celery pool) shares the parent's pipes; those workers are not ours.
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.stop()
        return _Worker()

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)


_pool = _Pool()


# ---------------------------------------------------------------- in the worker process


def _serve() -> None:
    """The worker's loop: one JSON job per line on stdin, one JSON answer per line on stdout."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what a library prints goes to the log, never into the answers
    warnings.simplefilter("ignore")  # parsers warn about every oddity of a file; the result says enough
    _preload()
    at_rest = _address_space()
    answers.write(b"ready\n")
    answers.flush()
    for line in sys.stdin.buffer:
        job = json.loads(line)
        result, restart = _run_limited(job, at_rest)
        answers.write(json.dumps({**asdict(result), "restart": restart}).encode() + b"\n")
        answers.flush()
        if restart:
            return


def _preload() -> None:
    # Imported once at start, so their code counts in the worker's size at rest, not against a file's limit.
    import defusedxml.expatreader  # noqa: F401
    import openpyxl  # noqa: F401
    import pypdfium2  # noqa: F401

    import server.documents.mail  # noqa: F401


def _run_limited(job: dict, at_rest: int | None) -> tuple[ExtractionResult, bool]:
    """The job's result, and whether the worker must be replaced (after running out of memory).

    The limit is counted from the worker's size at start, so memory an earlier file left behind
    shrinks the room rather than growing the limit. A tesseract started for OCR inherits it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if at_rest is not None:
        limit = at_rest + job["memory_mb"] * _MIB
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        return _extract(Path(job["path"]), job["mime"], job["ocr"], job["tesseract"]), False
    except MemoryError:
        pass  # handled below, once the limit is lifted and the failed parse's memory is free
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return _failed("extraction ran out of memory"), True


def _address_space() -> int | None:
    """This process's virtual size in bytes (what RLIMIT_AS limits); None off Linux."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None


def _extract(path: Path, mime: str, ocr: bool, tesseract: str | None) -> ExtractionResult:
    from defusedxml import DefusedXmlException

    try:
        found = _HANDLERS[mime](path, ocr, tesseract)
    except _Unreadable as error:
        return _failed(str(error))
    except DefusedXmlException:
        return _failed("the document declares XML entities or a DTD, which are refused for safety")
    except SAXParseException as error:
        return _failed(f"the document's XML is malformed ({error.getMessage()})")
    except zipfile.BadZipFile:
        return _failed("the file is damaged: it is not a readable ZIP-based document")
    except FileNotFoundError:
        return _failed("the file is missing")
    except MemoryError:
        raise
    except Exception as error:  # any parser's own error: a damaged file is an answer, not a crash
        return _failed(f"the file could not be read ({type(error).__name__}: {error})"[:500])
    return _finish(found)


@dataclass
class _Found:
    text: str
    pages: int | None = None
    ocr_used: bool = False
    reason: str | None = None


def _finish(found: _Found) -> ExtractionResult:
    # PostgreSQL text takes neither NUL nor lone surrogates (which some PDFs' text layers contain).
    text = found.text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    reason = found.reason
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        reason = reason or f"the text was cut at {MAX_TEXT_CHARS:,} characters"
    if not text.strip():
        reason = reason or "the file contains no text"
        return ExtractionResult(ExtractionStatus.EMPTY, "", reason, found.pages, found.ocr_used)
    return ExtractionResult(ExtractionStatus.OK, text, reason, found.pages, found.ocr_used)


def _failed(reason: str) -> ExtractionResult:
    return ExtractionResult(ExtractionStatus.FAILED, reason=reason)


# ---------------------------------------------------------------- PDF and OCR


def _pdf(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
            raise _Unreadable("the PDF is encrypted") from None
        raise _Unreadable(f"the PDF is damaged or not a PDF ({error})") from None
    try:
        texts, size = [], 0
        for index in range(len(pdf)):
            texts.append(_pdf_page_text(pdf[index]))
            size += len(texts[-1])
            if size > MAX_TEXT_CHARS:
                break
        text = "\f".join(texts)  # a form feed between pages, as pdftotext does
        if _has_letters(text, MIN_LETTERS_PER_PAGE * len(pdf)):
            return _Found(text, len(pdf))
        return _ocr_pdf(pdf, text, ocr, tesseract)
    finally:
        pdf.close()


def _pdf_page_text(page) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_bounded().replace("\r\n", "\n")
    finally:
        textpage.close()
        page.close()


def _has_letters(text: str, needed: int) -> bool:
    """Whether the text has `needed` letters or digits; counting stops there (a text page has thousands)."""
    return sum(1 for _ in itertools.islice(_LETTER.finditer(text), needed)) >= needed


def _ocr_pdf(pdf, text_layer: str, ocr: bool, tesseract: str | None) -> _Found:
    pages = len(pdf)
    if not ocr:
        return _Found(text_layer, pages, reason="no text layer; OCR was not requested")
    if tesseract is None:
        return _Found(text_layer, pages, reason="no text layer; OCR not installed")
    if "dan" not in _tesseract_languages(tesseract):
        return _Found(text_layer, pages, reason="no text layer; OCR for Danish (tesseract-ocr-dan) not installed")
    texts = [_ocr_page(pdf[index], tesseract) for index in range(min(pages, MAX_OCR_PAGES))]
    reason = f"OCR covered the first {MAX_OCR_PAGES} of {pages} pages" if pages > MAX_OCR_PAGES else None
    return _Found("\f".join(texts), pages, ocr_used=True, reason=reason)


@functools.cache
def _tesseract_languages(tesseract: str) -> frozenset[str]:
    run = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, check=False)
    # the first line is a heading ("List of available languages in ...")
    return frozenset(line.strip() for line in (run.stdout + run.stderr).splitlines()[1:])


def _ocr_page(page, tesseract: str) -> str:
    width, height = page.get_size()
    scale = min(OCR_DPI / 72, math.sqrt(MAX_OCR_PIXELS / max(width * height, 1)))
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = _pgm(bitmap)
    finally:
        bitmap.close()
        page.close()
    run = subprocess.run(
        [tesseract, "-", "-", "-l", "dan"],
        input=image,
        capture_output=True,
        env=dict(os.environ, OMP_THREAD_LIMIT="1"),  # one core per page; the caller runs jobs side by side
        check=False,
    )
    if run.returncode != 0:
        raise _Unreadable(f"OCR failed: {run.stderr.decode(errors='replace').strip()[-300:]}")
    return run.stdout.decode("utf-8", "replace")


def _pgm(bitmap) -> bytes:
    """A grayscale bitmap as a PGM image, a format Tesseract reads from stdin without any imaging library."""
    rows = memoryview(bitmap.buffer).cast("B")
    pixels = b"".join(rows[y * bitmap.stride : y * bitmap.stride + bitmap.width] for y in range(bitmap.height))
    return b"P5\n%d %d\n255\n" % (bitmap.width, bitmap.height) + pixels


# ---------------------------------------------------------------- Office Open XML


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The archive, once its directory shows no zip bomb and no entry that could escape a folder.

    The sizes checked are those the directory declares; zipfile never unpacks more than an entry
    declares, so a lying archive fails its checksum instead of filling memory.
    """
    archive = zipfile.ZipFile(path)
    try:
        _check_archive(archive.infolist())
    except BaseException:
        archive.close()
        raise
    return archive


def _check_archive(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise _Unreadable(f"the archive has more than {MAX_ARCHIVE_ENTRIES:,} entries")
    if any(_unsafe_entry_name(entry.filename) for entry in entries):
        raise _Unreadable("the archive has unsafe entry names")
    if sum(entry.file_size for entry in entries) > MAX_ARCHIVE_BYTES:
        raise _Unreadable(f"the archive would unpack to more than {MAX_ARCHIVE_BYTES // _MIB} MB")
    for entry in entries:
        if entry.file_size > _MIB and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise _Unreadable(f"an archive entry is compressed more than {MAX_COMPRESSION_RATIO}:1, as in a zip bomb")


def _unsafe_entry_name(name: str) -> bool:
    name = name.replace("\\", "/")
    return name.startswith("/") or re.match(r"[A-Za-z]:", name) is not None or ".." in name.split("/")


def _docx(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    with _open_zip(path) as archive:
        names = archive.namelist()
        if "word/document.xml" not in names:
            raise _Unreadable("the file is not a Word document: it has no word/document.xml")
        parts = ["word/document.xml", *sorted(n for n in names if _WORD_PARTS.fullmatch(n))]
        texts, size = [], 0
        for part in parts:
            with archive.open(part) as xml:
                texts.append(_word_text(xml, MAX_TEXT_CHARS - size))
            size += len(texts[-1])
        return _Found("\n".join(texts))


class _TextFull(Exception):
    """Enough text: stop parsing."""


class _WordText(ContentHandler):
    """The text of a WordprocessingML part: runs' text, tabs and breaks; paragraphs and table cells apart."""

    def __init__(self, limit: int):
        super().__init__()
        self.parts: list[str] = []
        self._size = 0
        self._limit = limit
        self._in_text = False
        self._in_run = 0

    def startElementNS(self, name, qname, attrs):
        if name[0] != _W:
            return
        tag = name[1]
        if tag == "r":
            self._in_run += 1
        elif tag == "t":
            self._in_text = True
        elif self._in_run and tag == "tab":  # outside a run, <w:tab> is a tab stop setting, not a character
            self._add("\t")
        elif self._in_run and tag in ("br", "cr"):
            self._add("\n")

    def endElementNS(self, name, qname):
        if name[0] != _W:
            return
        tag = name[1]
        if tag == "r":
            self._in_run -= 1
        elif tag == "t":
            self._in_text = False
        elif tag == "p":
            self._add("\n")
        elif tag in ("tc", "tr"):  # a cell's last paragraph break becomes a tab, a row's last tab a line break
            if self.parts and self.parts[-1] in "\t\n":
                self.parts.pop()
                self._size -= 1
            self._add("\t" if tag == "tc" else "\n")

    def characters(self, content):
        if self._in_text:
            self._add(content)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self._size += len(text)
        if self._size > self._limit:
            raise _TextFull


def _word_text(xml, limit: int) -> str:
    handler = _WordText(limit)
    _sax_parse(xml, handler)
    return "".join(handler.parts)


def _sax_parse(xml, handler: ContentHandler) -> None:
    """Parse with defusedxml: no DTD, no entities, nothing fetched from outside (no XXE, no billion laughs)."""
    from defusedxml.expatreader import DefusedExpatParser

    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        parser.parse(xml)
    except _TextFull:
        pass


def _xlsx(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    # openpyxl parses with defusedxml's iterparse when defusedxml is installed, and with an
    # entity-less lxml parser otherwise; the archive is checked here first.
    import openpyxl

    _open_zip(path).close()
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        lines, size = [], 0
        for sheet in workbook.worksheets:
            lines.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(value) for value in row if value is not None]
                if cells:
                    lines.append("\t".join(cells))
                    size += len(lines[-1])
                if size > MAX_TEXT_CHARS:
                    return _Found("\n".join(lines))
        return _Found("\n".join(lines))
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if isinstance(value, datetime) and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    return str(value)


# ---------------------------------------------------------------- mail, HTML, XML and text


def _eml(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    from server.documents.mail import NotAnEmail, parse_email

    try:
        mail = parse_email(path.read_bytes())
    except NotAnEmail as error:
        raise _Unreadable(str(error)) from None
    people = [("From", [mail.sender] if mail.sender else []), ("To", mail.to), ("Cc", mail.cc)]
    lines = [f"{label}: {', '.join(_mailbox(m) for m in boxes)}" for label, boxes in people if boxes]
    lines.append(f"Subject: {mail.subject}")
    body = mail.body_text or _html_text(mail.body_html)
    return _Found("\n".join(lines) + "\n\n" + body)


def _mailbox(mailbox) -> str:
    return f"{mailbox.name} <{mailbox.address}>" if mailbox.name else mailbox.address


def _html(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    data = _read_capped(path)
    match = _HTML_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    return _Found(_html_text(_decode(data, declared)))


class _HtmlText(HTMLParser):
    _HIDDEN = {"script", "style", "template", "noscript", "title"}
    _BLOCKS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _XmlText(ContentHandler):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._size = 0

    def characters(self, content):
        self.parts.append(content)
        self._size += len(content)
        if self._size > MAX_TEXT_CHARS:
            raise _TextFull

    def endElementNS(self, name, qname):
        self.parts.append("\n")


def _xml(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    handler = _XmlText()
    with open(path, "rb") as xml:
        _sax_parse(xml, handler)
    lines = (" ".join(line.split()) for line in "".join(handler.parts).splitlines())
    return _Found("\n".join(line for line in lines if line))


def _text(path: Path, ocr: bool, tesseract: str | None) -> _Found:
    return _Found(_decode(_read_capped(path)))


def _read_capped(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(2 * MAX_TEXT_CHARS)  # enough for MAX_TEXT_CHARS of UTF-8 Danish or UTF-16


def _decode(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: a byte order mark decides, then the declared charset, then UTF-8, then Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_cut(data[len(bom) :], encoding)
    if declared:
        try:
            return _decode_cut(data, declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return _decode_cut(data, "utf-8", errors="strict")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _decode_cut(data: bytes, encoding: str, errors: str = "replace") -> str:
    # final=False: a character cut in two by the size cap is dropped, not an error
    return codecs.getincrementaldecoder(encoding)(errors).decode(data, final=False)


_HANDLERS = {
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/vnd.ms-word.document.macroenabled.12": _docx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _xlsx,
    "application/vnd.ms-excel.sheet.macroenabled.12": _xlsx,
    "message/rfc822": _eml,
    "text/html": _html,
    "application/xml": _xml,
    "text/xml": _xml,
    "text/plain": _text,
    "text/csv": _text,
}


if __name__ == "__main__":
    _serve()
