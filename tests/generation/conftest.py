"""Word templates made in the tests with python-docx, including real MERGEFIELD fields."""
from __future__ import annotations

import io
import shutil

import docx
import pypdf
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from tests.documents.conftest import upload

if shutil.which("soffice") is None:
    pytest.skip("LibreOffice (soffice) is not installed; `make test` installs it", allow_module_level=True)

def add_mergefield(paragraph, name: str, *, simple: bool = False) -> None:
    """A MERGEFIELD as Word writes it: a simple field, or the begin/instr/separate/result/end runs."""
    if simple:
        paragraph._p.append(parse_xml(
            f'<w:fldSimple {nsdecls("w")} w:instr=" MERGEFIELD {name} \\* MERGEFORMAT ">'
            f'<w:r><w:t>«{name}»</w:t></w:r></w:fldSimple>'))
        return
    for xml in (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin"/></w:r>',
                f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> MERGEFIELD </w:instrText></w:r>',
                f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve">{name} \\* MERGEFORMAT </w:instrText></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>',
                f'<w:r {nsdecls("w")}><w:rPr><w:b/></w:rPr><w:t>«{name}»</w:t></w:r>',
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>'):
        paragraph._p.append(parse_xml(xml))


def add_page_numbers(paragraph) -> None:
    """"Side X af Y" with PAGE and NUMPAGES fields, as Word's footer gallery makes it."""
    paragraph.add_run("Side ")
    for name in ("PAGE", None, "NUMPAGES"):
        if name is None:
            paragraph.add_run(" af ")
            continue
        paragraph._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" {name} "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))


def word_template(*paragraphs: str, header: str | None = None, footer_page_numbers: bool = False,
                  party_table: bool = False, mergefields: tuple[str, ...] = ()) -> bytes:
    document = docx.Document()
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer_page_numbers:
        add_page_numbers(section.footer.paragraphs[0])
    for text in paragraphs:
        document.add_paragraph(text)
    for index, name in enumerate(mergefields):
        paragraph = document.add_paragraph(f"{name}: ")
        add_mergefield(paragraph, name, simple=index % 2 == 1)
    if party_table:
        table = document.add_table(rows=4, cols=2)  # docxtpl's row loop: the tags in rows of their own
        table.cell(0, 0).text, table.cell(0, 1).text = "Navn", "Rolle"
        table.cell(1, 0).text = "{%tr for p in parter %}"
        table.cell(2, 0).text, table.cell(2, 1).text = "{{ p.navn }}", "{{ p.rolle }}"
        table.cell(3, 0).text = "{%tr endfor %}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-"), pdf[:40]
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for section in document.sections for p in section.header.paragraphs]
    return "\n".join(parts)


def upload_template(caller, name: str, data: bytes, filename: str = "skabelon.docx", **form):
    return upload(caller, "/api/document-templates", files=[("file", filename, data)], name=name, **form)


from tests.cases.conftest import new_case, plan, template  # noqa: E402,F401


@pytest.fixture
def settings_organisation(admin):
    for key, value in {"organisation.name": "Testrup Kommune", "organisation.address": "Rådhuspladsen 1",
                       "organisation.postal_code": "9999", "organisation.city": "Testrup"}.items():
        assert admin.put(f"/api/settings/{key}", json={"value": value}).status_code == 200
