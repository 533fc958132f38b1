"""Cutting PDFs into letters with PDFium: at a batch's bookmarks, or where a recipient's number is printed.

PDFium (pypdfium2) reads text and copies pages in C: a 4,000-page merged PDF is read and cut in
seconds, where pure-Python PDF libraries take minutes.
"""
from __future__ import annotations

import ctypes
import io
import re
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from server.contacts import numbers
from server.errors import Invalid

# A CPR number (DDMMYY-SSSS, the dash optional) or a CVR number after the word CVR.
DEFAULT_PATTERN = r"(?<!\d)(?P<cpr>\d{6}-?\d{4})(?!\d)|CVR(?:-?nr\.?|-nummer)?[:.\s]*(?P<cvr>\d{8})(?!\d)"


class PdfProblem(Invalid):
    pass


def _open(data: bytes, what: str = "The PDF") -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise PdfProblem(f"{what} is password-protected (encrypted); remove the protection and upload it again.") from None
        raise PdfProblem(f"{what} cannot be read ({error}).") from None


def _copy(source: pdfium.PdfDocument, indices: list[int]) -> bytes:
    target = pdfium.PdfDocument.new()
    try:
        target.import_pages(source, indices)
        out = io.BytesIO()
        target.save(out)
        return out.getvalue()
    finally:
        target.close()


# ---------------------------------------------------------------- a rendered batch


def _named_destinations(document: pdfium.PdfDocument) -> dict[str, int]:
    found = {}
    for index in range(pdfium_c.FPDF_CountNamedDests(document.raw)):
        length = ctypes.c_long(0)
        pdfium_c.FPDF_GetNamedDest(document.raw, index, None, ctypes.byref(length))
        buffer = ctypes.create_string_buffer(length.value)
        destination = pdfium_c.FPDF_GetNamedDest(document.raw, index, buffer, ctypes.byref(length))
        if destination:
            name = buffer.raw[: max(length.value - 2, 0)].decode("utf-16-le", "replace")
            found[name] = pdfium_c.FPDFDest_GetDestPageIndex(document.raw, destination)
    return found


def split_at_bookmarks(pdf: bytes, count: int, prefix: str) -> list[bytes]:
    """The PDFs of `count` letters whose first pages carry the named destinations <prefix>0 … <prefix>{count-1}."""
    document = _open(pdf)
    try:
        starts: dict[int, int] = {}
        marker = re.compile(re.escape(prefix) + r"(\d+)$")
        for name, page in _named_destinations(document).items():
            found = marker.search(name)
            if found:
                starts[int(found.group(1))] = page
        if sorted(starts) != list(range(count)):
            raise Invalid(f"The converted batch lost its letter marks ({len(starts)} of {count} found).")
        bounds = [starts[i] for i in range(count)] + [len(document)]
        return [_copy(document, list(range(bounds[i], bounds[i + 1]))) for i in range(count)]
    finally:
        document.close()


# ---------------------------------------------------------------- a merged PDF from elsewhere


@dataclass
class Letter:
    id_type: str
    number: str
    pages: list[int]  # 1-based


@dataclass
class SplitResult:
    letters: list[Letter] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # {row: page, column: None, message}
    continuation_pages: list[int] = field(default_factory=list)  # pages with no number, kept with the letter before
    page_count: int = 0


def find_letters(pdf: bytes, *, pattern: str | None = None, region: tuple[float, float, float, float] | None = None,
                 every_page: bool = False) -> SplitResult:
    """Where each letter starts: a page whose text (or `region` of it) shows a recipient number.

    `region` is (left, top, right, bottom) as fractions of the page, top-left origin (e.g. the
    address window). `every_page`: the number is printed on each page of a letter (a hidden line),
    so a page without it is a problem, and consecutive pages with the same number are one letter.
    """
    matcher = _compiled(pattern)
    document = _open(pdf)
    result = SplitResult(page_count=len(document))
    try:
        texts_found = 0
        current: Letter | None = None
        for index in range(len(document)):
            text = _page_text(document, index, region)
            texts_found += bool(text.strip())
            found = _numbers_in(text, matcher)
            page = index + 1
            if len(found) > 1:
                result.problems.append({"row": page, "column": None,
                                        "message": f"Page {page} shows {len(found)} different recipient numbers; "
                                                   "it cannot be told whose letter it is."})
                current = None
                continue
            if not found:
                if current is None or every_page:
                    result.problems.append({"row": page, "column": None,
                                            "message": f"No recipient number was found on page {page}."})
                    current = None
                else:
                    current.pages.append(page)
                    result.continuation_pages.append(page)
                continue
            id_type, number = found[0]
            if every_page and current is not None and (current.id_type, current.number) == (id_type, number):
                current.pages.append(page)
                continue
            current = Letter(id_type, number, [page])
            result.letters.append(current)
        if result.page_count and not texts_found:
            raise PdfProblem("The PDF has no text layer (it is scanned images); recipient numbers cannot be read. "
                             "Run OCR on it first (e.g. with OCRmyPDF), or export the letters from the program that made them.")
    finally:
        document.close()
    return result


def _compiled(pattern: str | None) -> re.Pattern:
    try:
        return re.compile(pattern or DEFAULT_PATTERN)
    except re.error as error:
        raise Invalid.field("pattern", f"The pattern is not a valid regular expression: {error}.") from None


def _page_text(document: pdfium.PdfDocument, index: int, region) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            if region is None:
                return textpage.get_text_range()
            width, height = page.get_size()
            left, top, right, bottom = region
            return textpage.get_text_bounded(left * width, height * (1 - bottom), right * width, height * (1 - top))
        finally:
            textpage.close()
    finally:
        page.close()


def _numbers_in(text: str, matcher: re.Pattern) -> list[tuple[str, str]]:
    """The distinct valid (type, number) pairs in a page's text; look-alikes that are no CPR are skipped."""
    found: list[tuple[str, str]] = []
    for match in matcher.finditer(text):
        groups = match.groupdict()
        try:
            if groups.get("cvr"):
                value = ("cvr", numbers.normalise_cvr(groups["cvr"]))
            elif groups.get("p_number"):
                value = ("p_number", numbers.normalise_p_number(groups["p_number"]))
            else:
                value = ("cpr", numbers.normalise_cpr(groups.get("cpr") or match.group(0)))
        except numbers.NumberError:
            continue
        if value not in found:
            found.append(value)
    return found


def cut(pdf: bytes, letters: list[Letter]) -> list[bytes]:
    document = _open(pdf)
    try:
        return [_copy(document, [p - 1 for p in letter.pages]) for letter in letters]
    finally:
        document.close()
