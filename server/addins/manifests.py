"""The Office add-in manifests, rendered for the URL the add-in is served from.

Templates and icons live in manifest/office/ beside the task pane in addin/ (both at the project's
root); placeholders are {{BASE}}, {{ID}}, {{OFFICE_ID}} and {{VERSION}}.
"""
from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from server.errors import Invalid

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "manifest" / "office"
ICONS = TEMPLATES / "icons"
VERSION = "1.0.0"
# the files `sagspost manifest` writes and /manifest/<name> serves
OUTLOOK_XML = "outlook.xml"
OFFICE_XML = "office.xml"
UNIFIED_ZIP = "sagspost-unified.zip"
UNIFIED_JSON = "manifest.json"
UNIFIED_ICONS = ("outline-32.png", "icon-192.png")


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; Office loads add-ins over HTTPS only."""
    parts = urlsplit(base_url.strip())
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise Invalid.field("base_url", "The add-in's base URL must be https://host[:port][/path] (Office requires HTTPS).")
    return base_url.strip().rstrip("/")


def render(name: str, base_url: str, addin_id: str) -> bytes:
    """One rendered manifest file: outlook.xml, office.xml, manifest.json or the unified zip."""
    base = check_base_url(base_url)
    if name == UNIFIED_ZIP:
        return _unified_zip(base, addin_id)
    template = {OUTLOOK_XML: OUTLOOK_XML, OFFICE_XML: OFFICE_XML, UNIFIED_JSON: "unified.json"}.get(name)
    if template is None:
        raise KeyError(name)
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    xml = name.endswith(".xml")
    values = {
        "{{BASE}}": escape(base) if xml else base,
        "{{ID}}": addin_id,
        # Word/Excel is a second add-in (another manifest type) and needs its own id, fixed by the first
        "{{OFFICE_ID}}": str(uuid.uuid5(uuid.UUID(addin_id), "word-excel")),
        "{{VERSION}}": f"{VERSION}.0" if xml else VERSION,
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text.encode("utf-8")


def _unified_zip(base: str, addin_id: str) -> bytes:
    """The app package the Microsoft 365 admin center and Teams take: manifest.json and its two icons."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(UNIFIED_JSON, render(UNIFIED_JSON, base, addin_id))
        for icon in UNIFIED_ICONS:
            package.write(ICONS / icon, icon)
    return buffer.getvalue()


def write_all(out_dir: Path, base_url: str, addin_id: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (OUTLOOK_XML, OFFICE_XML, UNIFIED_JSON, UNIFIED_ZIP):
        path = out_dir / name
        path.write_bytes(render(name, base_url, addin_id))
        written.append(path)
    return written
