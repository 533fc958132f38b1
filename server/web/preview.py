"""Pages of a PDF as PNG images, so a preview shows in the page in any browser (no PDF plug-in,
no script from the document), rendered with PDFium, which the text extraction already uses."""
from __future__ import annotations

import base64
import struct
import zlib

import pypdfium2 as pdfium

from server.errors import Invalid, NotFound

PREVIEW_WIDTH = 900  # pixels: readable in the page, small enough to send quickly
MAX_PREVIEW_PAGES = 20
# Shown in the page as they are: raster images only (an SVG or a page could run script in our origin).
SHOWN_AS_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def page_count(source) -> int:
    """Pages to show of a PDF given as a file path or as bytes."""
    pdf = _open(source)
    try:
        return min(len(pdf), MAX_PREVIEW_PAGES)
    finally:
        pdf.close()


def page_png(source, index: int) -> bytes:
    pdf = _open(source)
    try:
        if not 0 <= index < min(len(pdf), MAX_PREVIEW_PAGES):
            raise NotFound("The document has no such page to preview.")
        page = pdf[index]
        width, _height = page.get_size()
        bitmap = page.render(scale=PREVIEW_WIDTH / max(width, 1), rev_byteorder=True)
        try:
            return _png(bitmap.width, bitmap.height, bitmap.stride, bitmap.n_channels, bytes(bitmap.buffer))
        finally:
            bitmap.close()
            page.close()
    finally:
        pdf.close()


def data_urls(source) -> list[str]:
    """Every page (up to the limit) as a data: URL, for a preview made once and shown whole (a converted
    Word file is not converted again for each page)."""
    return [f"data:image/png;base64,{base64.b64encode(page_png(source, i)).decode()}" for i in range(page_count(source))]


def _open(source):
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError:
        raise Invalid("The PDF cannot be opened for a preview; download it instead.") from None


def _png(width: int, height: int, stride: int, channels: int, raw: bytes) -> bytes:
    """A minimal PNG (8-bit RGB or RGBA, no filtering) from PDFium's pixel rows."""
    color_type = 6 if channels == 4 else 2
    row = width * channels
    lines = b"".join(b"\x00" + raw[y * stride:y * stride + row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(lines, 6)) + chunk(b"IEND", b"")
