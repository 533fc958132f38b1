"""Office documents to PDF (and PDF/A-2b) with one long-lived headless LibreOffice per process.

LibreOffice's Python bridge (`uno`, Debian's python3-uno) exists only for Debian's own
/usr/bin/python3, not for the project's virtualenv. So this file is two programs:

* in the calling process (the app, a Celery worker), `Converter` starts
  `/usr/bin/python3 -I convert.py <soffice> <profile>` (the worker) in a process group of its own
  and speaks JSON lines with it over a pipe: one document per request, files in a private folder;
* the worker (the end of this file, standard library and `uno` only) starts `soffice --headless`
  listening on a private named pipe, connects to it over UNO, and converts each document it is
  sent over that one connection: LibreOffice starts once, not once per file.

The caller waits at most `timeout_s` for a document. When LibreOffice overruns it, hangs, or dies,
the caller kills the whole process group (worker, oosplash, soffice.bin) and the next conversion
starts a fresh one. The same happens after `recycle_after` documents, as LibreOffice grows.
One LibreOffice serves one conversion at a time; the threads of a process queue on a lock.

This is what unoserver does (a UNO connection to a listening soffice), without its XML-RPC server:
a pipe to a child process needs no port, cannot be reached by other users of the machine, and
needs no package installed into Debian's Python.
"""
from __future__ import annotations

import atexit
import codecs
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

if __name__ == "__main__":
    # Run by Debian's python3 as the worker (see _serve): it has `uno`, but not Flask or this project.
    DomainError = Exception
else:
    from server.childpipe import read_line
    from server.errors import DomainError

UNO_PYTHON = "/usr/bin/python3"
DEFAULT_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0
RECYCLE_AFTER = 500  # documents converted before LibreOffice is restarted to give back what it grew
MEMORY_MB = 4096  # LibreOffice's address-space limit (it uses ~650 MB at rest): a decompression bomb
# makes it fail, not the machine swap
_STOP_GRACE_S = 5.0
_MIB = 1024 * 1024
_PIPE_FOLDERS = ("/tmp", "/var/tmp")  # where LibreOffice puts a named pipe's socket (not TMPDIR)
_WORKER_ENVIRONMENT = {"PATH", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE"}
_WORKER_ENDED = "the LibreOffice worker ended"
_NOT_INSTALLED = "LibreOffice is not installed: run make run / make test, which install it"


class ConversionFailed(DomainError):
    """This file could not be converted; str(error) is a reason fit to show the user."""

    status = 422

    def __init__(self, reason: str, *, filename: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.filename = filename


class ConverterUnavailable(DomainError):
    """LibreOffice (or its Python bridge) is missing or does not start; no file can be converted."""

    status = 503

    def __init__(self, reason: str = _NOT_INSTALLED):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- in the calling process


@dataclass(frozen=True)
class _Input:
    """How LibreOffice is to read one kind of file: the extension we give it, and its import filter."""

    extension: str
    filter: str
    label: str  # for reasons: "the file is not a readable {label}"
    options: str = ""


_WORD = "Word document"
_EXCEL = "Excel workbook"
# Content decides the type (server.documents.filetypes); the import filter is then named, never left
# to LibreOffice's guessing, which reads any bytes it does not recognise as plain text.
_INPUTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _Input(
        "docx", "MS Word 2007 XML", _WORD
    ),
    "application/vnd.ms-word.document.macroEnabled.12": _Input("docm", "MS Word 2007 XML VBA", _WORD),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _Input(
        "xlsx", "Calc MS Excel 2007 XML", _EXCEL
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.12": _Input("xlsm", "Calc MS Excel 2007 VBA XML", _EXCEL),
    "application/vnd.oasis.opendocument.text": _Input("odt", "writer8", "OpenDocument text"),
    "application/vnd.oasis.opendocument.spreadsheet": _Input("ods", "calc8", "OpenDocument spreadsheet"),
    "application/rtf": _Input("rtf", "Rich Text Format", "RTF document"),
    "application/msword": _Input("doc", "MS Word 97", "Word 97-2003 document"),
    "application/vnd.ms-excel": _Input("xls", "MS Excel 97", "Excel 97-2003 workbook"),
    # sent as UTF-8 whatever it came in (see _prepare)
    "text/plain": _Input("txt", "Text (encoded)", "text file", "UTF8,LF,,da-DK"),
}
_BY_EXTENSION = {i.extension: i for i in _INPUTS.values()} | {
    "dotx": _INPUTS["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    "xltx": _INPUTS["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
    "dot": _INPUTS["application/msword"],
    "xlt": _INPUTS["application/vnd.ms-excel"],
}
SUPPORTED_EXTENSIONS = frozenset(_BY_EXTENSION)


def is_supported(filename: str, mime: str | None = None) -> bool:
    """Whether to_pdf takes a file of this content type (or, without one, with this name's extension)."""
    if mime is not None:
        return mime.split(";", 1)[0].strip().lower() in {m.lower() for m in _INPUTS}
    return _extension(filename) in SUPPORTED_EXTENSIONS


class Converter:
    """One LibreOffice, started on first use and shared by the threads of this process."""

    def __init__(
        self,
        *,
        soffice: str | None = None,
        uno_python: str = UNO_PYTHON,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        start_timeout_s: float = START_TIMEOUT_S,
        recycle_after: int = RECYCLE_AFTER,
        memory_mb: int = MEMORY_MB,
    ):
        self.soffice = soffice  # None: `soffice` on PATH, looked up at start
        self.uno_python = uno_python
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.recycle_after = recycle_after
        self.memory_mb = memory_mb  # 0: no limit
        self.starts = 0  # LibreOffice starts so far, restarts included
        self._office: _Office | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()
        _converters.add(self)

    @classmethod
    def from_settings(cls, settings) -> "Converter":
        return cls(
            soffice=settings.convert_soffice or None,
            uno_python=settings.convert_uno_python,
            timeout_s=settings.convert_timeout_s,
            start_timeout_s=settings.convert_start_timeout_s,
            recycle_after=settings.convert_recycle_after,
            memory_mb=settings.convert_memory_mb,
        )

    def sibling(self) -> "Converter":
        """Another LibreOffice with this one's settings, to convert in parallel with it."""
        return Converter(soffice=self.soffice, uno_python=self.uno_python, timeout_s=self.timeout_s,
                         start_timeout_s=self.start_timeout_s, recycle_after=self.recycle_after, memory_mb=self.memory_mb)

    @property
    def pid(self) -> int | None:
        """The running soffice.bin's process id; None when none is running."""
        office = self._office
        return office.office_pid if office is not None and office.alive() else None

    def start(self) -> None:
        """Start LibreOffice now rather than on the first conversion (a worker warming up)."""
        with self._locked():
            self._running()

    def to_pdf(
        self, data: bytes, filename: str, *, pdfa: bool = False, bookmarks: bool = False, timeout_s: float | None = None
    ) -> bytes:
        """The PDF of the DOCX, XLSX, ODT, ODS, RTF, DOC, XLS or TXT file `data` named `filename`.

        `pdfa`: PDF/A-2b, for archiving. `bookmarks`: Word bookmarks become the PDF's named destinations
        (a merged batch of letters is split by them). Raises ConversionFailed (with a reason for the user) for a file
        that cannot be converted or takes over `timeout_s`; ConverterUnavailable without LibreOffice.
        """
        return self.to_pdf_many([(data, filename)], pdfa=pdfa, bookmarks=bookmarks, timeout_s=timeout_s)[0]

    def to_pdf_many(
        self,
        items: list[tuple[bytes, str]],
        *,
        pdfa: bool = False,
        bookmarks: bool = False,
        timeout_s: float | None = None,
    ) -> list[bytes]:
        """The PDFs of (data, filename) pairs, in order, converted one after another by one LibreOffice.

        `timeout_s` applies to each document. The first file that fails raises ConversionFailed, whose
        `filename` names it; the documents before it are converted, those after it are not.
        """
        jobs = [_prepare(data, filename) for data, filename in items]  # refuse a bad batch before starting
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        with self._locked():
            export = {"pdfa": pdfa, "bookmarks": bookmarks}
            return [self._convert(job, filename, export, timeout_s) for job, (_, filename) in zip(jobs, items)]

    def stop(self) -> None:
        """Stop LibreOffice (a later conversion starts it again)."""
        with self._locked():
            if self._office is not None:
                self._office.stop()
                self._office = None

    def _locked(self):
        if self._pid != os.getpid():
            # A forked child (a Celery pool process) shares the parent's pipes: that LibreOffice is not ours.
            self._lock, self._office, self._pid = threading.Lock(), None, os.getpid()
        return self._lock

    def _running(self) -> "_Office":
        office = self._office
        if office is not None and (not office.alive() or office.converted >= self.recycle_after):
            office.stop()
            office = self._office = None
        if office is None:
            soffice = self.soffice or shutil.which("soffice") or shutil.which("libreoffice")
            if not soffice or not os.access(soffice, os.X_OK):
                raise ConverterUnavailable()
            office = self._office = _Office(soffice, self.uno_python, self.start_timeout_s, self.memory_mb)
            self.starts += 1
        return office

    def _convert(self, job: "_Job", filename: str, export: dict, timeout_s: float) -> bytes:
        for attempt in (1, 2):
            office = self._running()
            try:
                return office.convert(job, export, timeout_s)
            except _Refused as error:
                raise ConversionFailed(
                    f'"{_shown(filename)}" could not be converted to PDF: {error}.', filename=filename
                ) from None
            except TimeoutError:
                self._drop(office)
                raise ConversionFailed(
                    f'Converting "{_shown(filename)}" to PDF took longer than {timeout_s:g} s and was stopped. '
                    "The document may be very large or damaged.",
                    filename=filename,
                ) from None
            except _Crashed:
                # LibreOffice died: on this document, or before it (killed while idle). One more try on a
                # fresh one tells the two apart.
                self._drop(office)
                if attempt == 2:
                    raise ConversionFailed(
                        f'LibreOffice stopped while converting "{_shown(filename)}"; the document may be damaged.',
                        filename=filename,
                    ) from None
            except BaseException:  # interrupted while LibreOffice is busy: its state is unknown
                self._drop(office)
                raise
        raise AssertionError("unreachable")

    def _drop(self, office: "_Office") -> None:
        office.kill()
        if self._office is office:
            self._office = None


class _Crashed(Exception):
    """LibreOffice or the worker died, or the UNO connection between them broke."""


class _Refused(Exception):
    """LibreOffice could not read or convert the document; str(error) says why, for the user."""


_converters: "weakref.WeakSet[Converter]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """Kill the LibreOffices this process started (not those of a parent this process was forked from)."""
    for converter in list(_converters):
        office = converter._office
        if office is not None and converter._pid == os.getpid():
            office.kill()


@dataclass(frozen=True)
class _Job:
    data: bytes
    input: _Input


def _prepare(data: bytes, filename: str) -> _Job:
    """What to send LibreOffice for this file, or ConversionFailed saying why it will not be converted."""
    from server.documents import filetypes

    shown = _shown(filename)
    claimed = _BY_EXTENSION.get(_extension(filename))
    found = filetypes.detect(data[: filetypes.HEAD_SIZE], io.BytesIO(data))  # BytesIO shares, not copies, data
    if found is filetypes.EMPTY:
        raise ConversionFailed(f'"{shown}" is empty; there is nothing to convert.', filename=filename)
    if found.mime == "application/pdf":
        raise ConversionFailed(f'"{shown}" is a PDF already.', filename=filename)
    chosen = _INPUTS.get(found.mime)
    if chosen is not None and chosen.extension == "txt" and claimed is not None and claimed.extension != "txt":
        chosen = None  # text in a file named .docx is a damaged or mislabelled file, not a letter
    if chosen is None and found is filetypes.OLE and claimed is not None and claimed.filter.startswith("MS "):
        chosen = claimed  # an old Office file whose directory our sniffer could not read: LibreOffice may
    if chosen is None:
        if claimed is not None:
            hint = " (it may be password-protected)" if found is filetypes.OLE else ""
            raise ConversionFailed(
                f'"{shown}" is named as a {claimed.label} but is not a readable one{hint}; '
                f"its content is: {found.label}.",
                filename=filename,
            )
        raise ConversionFailed(
            f'"{shown}" ({found.label}) cannot be converted to PDF; Word, Excel, OpenDocument, RTF and text files can.',
            filename=filename,
        )
    if chosen.extension == "txt":
        data = _decode(data).encode("utf-8")
    return _Job(data, chosen)


def _extension(filename: str) -> str:
    return PureWindowsPath(filename or "").suffix.lower().lstrip(".")


def _shown(filename: str) -> str:
    name = PureWindowsPath(filename or "").name or "the file"
    return "".join(c if c.isprintable() else "?" for c in name)[:200]


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _decode(data: bytes) -> str:
    """Text from bytes: a byte order mark decides, then UTF-8, then Windows-1252 (Danish files of old)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


class _Office:
    """One worker process and the LibreOffice it runs, in a process group of their own."""

    def __init__(self, soffice: str, uno_python: str, start_timeout_s: float, memory_mb: int):
        if not os.access(uno_python, os.X_OK):
            raise ConverterUnavailable(
                f"LibreOffice's Python ({uno_python}) is missing: run make run / make test, which install it"
            )
        self.folder = Path(tempfile.mkdtemp(prefix="sagspost-office-"))
        self.pipe = f"sagspost-office-{os.getpid()}-{os.urandom(6).hex()}"  # LibreOffice listens on it
        self.converted = 0
        self._count = 0
        self._received = bytearray()
        # The worker reads documents from outside, so it gets none of our secrets (database URL, keys).
        env = {name: value for name, value in os.environ.items() if name in _WORKER_ENVIRONMENT}
        env["HOME"] = str(self.folder)  # whatever LibreOffice keeps in HOME goes away with it
        try:
            worker = [uno_python, "-I", str(Path(__file__).resolve()), soffice, str(self.folder / "profile")]
            self.process = subprocess.Popen(
                [*worker, self.pipe, str(memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                cwd=self.folder,
                start_new_session=True,  # its own process group, so one kill also reaches soffice.bin
            )
        except OSError as error:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise ConverterUnavailable(f"LibreOffice's Python ({uno_python}) does not run: {error}") from None
        self.started = time.monotonic()
        try:
            ready = json.loads(read_line(self.process.stdout, self._received, time.monotonic() + start_timeout_s, _WORKER_ENDED))
        except TimeoutError:
            self.kill()
            raise ConverterUnavailable(f"LibreOffice did not start within {start_timeout_s:g} s") from None
        except (ChildProcessError, OSError, ValueError):
            code = self.kill()
            raise ConverterUnavailable(f"LibreOffice did not start (the worker ended with exit code {code})") from None
        except BaseException:
            self.kill()
            raise
        if "error" in ready:
            self.kill()
            raise ConverterUnavailable(ready["error"])
        self.office_pid: int = ready["pid"]
        self.start_seconds = time.monotonic() - self.started

    def alive(self) -> bool:
        return self.process.poll() is None

    def convert(self, job: _Job, export: dict, timeout_s: float) -> bytes:
        """The PDF; raises _Refused, TimeoutError, or _Crashed when LibreOffice died."""
        self._count += 1
        source = self.folder / f"{self._count}.{job.input.extension}"
        target = self.folder / f"{self._count}.pdf"
        source.write_bytes(job.data)
        try:
            request = {
                "input": str(source),
                "output": str(target),
                "filter": job.input.filter,
                "options": job.input.options,
                **export,
                "unreadable": f"is not a readable {job.input.label}",
            }
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
                answer = json.loads(read_line(self.process.stdout, self._received, time.monotonic() + timeout_s, _WORKER_ENDED))
            except TimeoutError:
                raise  # an OSError too, but LibreOffice may be alive: the caller decides
            except (ChildProcessError, OSError) as error:
                raise _Crashed(str(error)) from None
            self.converted += 1
            if answer.get("restart"):
                raise _Crashed(answer["error"])
            if "error" in answer:
                raise _Refused(answer["error"])
            return target.read_bytes()
        finally:
            source.unlink(missing_ok=True)
            target.unlink(missing_ok=True)

    def stop(self) -> int | None:
        """End the worker, letting it close LibreOffice first; its exit code."""
        if self.process.poll() is None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()  # the worker closes LibreOffice and ends
                self.process.wait(_STOP_GRACE_S)
            except (OSError, subprocess.TimeoutExpired):
                pass
        return self.kill()

    def kill(self) -> int | None:
        """Kill the worker, LibreOffice and anything else in their process group; the worker's exit code."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # a hung soffice.bin, or one the worker left behind
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
        returncode = self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        # A killed LibreOffice leaves its pipes' socket files behind: ours, and the one it listens on for
        # other soffice starts with the same profile, named by the MD5 of the profile's URL in UTF-16.
        digest = hashlib.md5((self.folder / "profile").as_uri().encode("utf-16-le")).digest()
        single_instance = "SingleOfficeIPC_" + "".join(format(byte, "x") for byte in digest)  # sic: unpadded
        for folder in _PIPE_FOLDERS:
            for name in (self.pipe, single_instance):
                Path(folder, f"OSL_PIPE_{os.getuid()}_{name}").unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        return returncode



_default: Converter | None = None
_default_lock = threading.Lock()


def default_converter(settings=None) -> Converter:
    """This process's converter, made on first call from `settings` (or the current app's, or defaults)."""
    global _default
    with _default_lock:
        if _default is None:
            settings = settings or _app_settings()
            _default = Converter.from_settings(settings) if settings is not None else Converter()
        return _default


def _app_settings():
    try:
        from flask import current_app, has_app_context
    except ImportError:
        return None
    return current_app.config["SAGSPOST"] if has_app_context() else None


def to_pdf(data: bytes, filename: str, *, pdfa: bool = False, timeout_s: float | None = None) -> bytes:
    """default_converter().to_pdf(...)"""
    return default_converter().to_pdf(data, filename, pdfa=pdfa, timeout_s=timeout_s)


def to_pdf_many(items: list[tuple[bytes, str]], *, pdfa: bool = False, timeout_s: float | None = None) -> list[bytes]:
    """default_converter().to_pdf_many(...)"""
    return default_converter().to_pdf_many(items, pdfa=pdfa, timeout_s=timeout_s)


# ---------------------------------------------------------------- in the worker (Debian's python3 with uno)

# The user profile LibreOffice starts with: macros never run, and documents default to Danish.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
%s
</oor:items>
""" % "\n".join(
    f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
    for path, name, value in (
        ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
        ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
        ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
        ("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", "da-DK"),
    )
)
_EXPORT_FILTERS = (  # most specific first: a web document is a text document too
    ("com.sun.star.text.WebDocument", "writer_web_pdf_Export"),
    ("com.sun.star.text.GlobalDocument", "writer_globaldocument_pdf_Export"),
    ("com.sun.star.text.TextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
)
_PDFA_2B = 2  # the PDF export's SelectPdfVersion: 0 plain PDF, 1 PDF/A-1b, 2 PDF/A-2b, 3 PDF/A-3b
_NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
_NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE: linked content is not fetched


class _Unreadable(Exception):
    """A document LibreOffice refused; str(error) is the reason shown to users."""


def _serve(soffice: str, profile: str, pipe: str, memory_mb: int) -> None:
    """The worker: start LibreOffice, say "ready", then convert one JSON request per line on stdin."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what LibreOffice or a library prints goes to the log, never into the answers
    try:
        import uno  # noqa: F401
    except ImportError as error:
        _answer(answers, {"error": f"LibreOffice's Python bridge is missing ({error}): install python3-uno"})
        return
    threading.Thread(target=_die_with_parent, args=(os.getppid(),), daemon=True).start()
    profile_dir = Path(profile)
    (profile_dir / "user").mkdir(parents=True, exist_ok=True)
    (profile_dir / "user" / "registrymodifications.xcu").write_text(_PROFILE)
    if memory_mb > 0:  # for this process and, inherited, for LibreOffice (each on its own)
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_mb * _MIB if hard == resource.RLIM_INFINITY else min(memory_mb * _MIB, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    office = subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={profile_dir.as_uri()}",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdin=subprocess.DEVNULL,
    )
    threading.Thread(target=_die_with_office, args=(office,), daemon=True).start()
    desktop = _connect(office, pipe)
    if desktop is None:
        _answer(answers, {"error": f"LibreOffice ended at start (exit code {office.poll()})"})
        return
    _answer(answers, {"ready": True, "pid": _office_pid(office.pid)})
    try:
        for line in sys.stdin.buffer:
            answer = _convert_request(desktop, json.loads(line))
            _answer(answers, answer)
            if answer.get("restart"):
                return
        try:
            desktop.terminate()
            office.wait(_STOP_GRACE_S)
        except Exception:
            pass  # it is killed with the process group anyway
    finally:
        if office.poll() is None:
            office.kill()


def _answer(answers, answer: dict) -> None:
    answers.write(json.dumps(answer).encode() + b"\n")
    answers.flush()


def _die_with_parent(parent: int) -> None:
    """The caller died without stopping us: take LibreOffice down too, rather than leave it running."""
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(0, signal.SIGKILL)


def _die_with_office(office) -> None:
    """LibreOffice ended (a crash, the kernel's OOM killer): end too, so the caller sees it and starts anew."""
    office.wait()
    time.sleep(0.2)  # at a polite stop, the main thread is about to end anyway
    os.killpg(0, signal.SIGKILL)


def _connect(office, pipe: str):
    """LibreOffice's Desktop over UNO once it listens on the pipe; None if it ended first."""
    import uno
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    while office.poll() is None:  # the caller gives up after its start timeout and kills us
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            time.sleep(0.05)
            continue
        return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    return None


def _office_pid(launched: int) -> int:
    """soffice.bin's pid: `soffice` is a script that runs oosplash, which starts soffice.bin."""
    group = os.getpgrp()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.partition("(")[2].rpartition(")")
        if name == "soffice.bin" and int(rest.split()[2]) == group:
            return int(entry)
    return launched


def _convert_request(desktop, request: dict) -> dict:
    from com.sun.star.uno import RuntimeException

    try:
        _convert(desktop, request)
    except _Unreadable as error:
        return {"error": str(error)}
    except RuntimeException as error:  # the connection broke, or LibreOffice is in a bad state
        return {"error": f"LibreOffice failed ({error.Message[:200]})", "restart": True}
    return {"ok": True}


def _convert(desktop, request: dict) -> None:
    import uno
    from com.sun.star.io import IOException
    from com.sun.star.lang import IllegalArgumentException
    from com.sun.star.task import ErrorCodeIOException

    load = [
        _property("Hidden", True),
        _property("ReadOnly", True),
        _property("MacroExecutionMode", _NEVER_EXECUTE),
        _property("UpdateDocMode", _NO_UPDATE),
        _property("FilterName", request["filter"]),
    ]
    if request["options"]:
        load.append(_property("FilterOptions", request["options"]))
    try:
        document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(request["input"]), "_blank", 0, tuple(load))
    except (IllegalArgumentException, IOException, ErrorCodeIOException):
        document = None
    if document is None:
        raise _Unreadable(f"the file is damaged or {request['unreadable']}")
    try:
        export = next((name for service, name in _EXPORT_FILTERS if document.supportsService(service)), None)
        if export is None:
            raise _Unreadable("LibreOffice opened it but makes no PDF of this kind of document")
        settings = uno.Any(
            "[]com.sun.star.beans.PropertyValue",
            (
                _property("SelectPdfVersion", _PDFA_2B if request["pdfa"] else 0),
                _property("UseTaggedPDF", True),  # structure for screen readers (public authorities' duty)
                _property("ExportBookmarksToPDFDestination", bool(request.get("bookmarks"))),
                # LibreOffice adds a blank page where a section restarts numbering on an odd page: not in letters
                _property("IsSkipEmptyPages", True),
            ),
        )
        store = (_property("FilterName", export), _property("FilterData", settings), _property("Overwrite", True))
        try:
            uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(request["output"]), tuple(store)))
        except (IOException, ErrorCodeIOException, IllegalArgumentException) as error:
            raise _Unreadable(f"LibreOffice could not write the PDF ({error.Message[:200]})") from None
    finally:
        try:
            document.close(True)
        except Exception:
            document.dispose()


def _property(name: str, value):
    from com.sun.star.beans import PropertyValue

    return PropertyValue(Name=name, Value=value)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))



_pool: list[Converter] = []


def converters(count: int) -> list[Converter]:
    """`count` LibreOffices of this process for work converted in parallel (the default one first)."""
    first = default_converter()
    with _default_lock:
        if not _pool:
            _pool.append(first)
        while len(_pool) < count:
            _pool.append(first.sibling())
        return _pool[:count]
