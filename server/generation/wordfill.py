"""Filling Word (.docx) templates: Jinja placeholders (docxtpl's syntax) and Word MERGEFIELD fields.

A template is compiled once: its XML parts are cleaned into Jinja source by docxtpl's `patch_xml`
(placeholders split over runs, `{%tr %}` row loops, …) after each MERGEFIELD has been turned into a
placeholder, and each dynamic part becomes one compiled Jinja template. Filling a letter is then a
render of those templates and a zip of the parts: no python-docx object tree per letter, which is
what makes a mail merge of thousands of letters fast.

`batch_docx` puts many filled letters into one document, each in a section of its own (its own
headers, page numbers restarting at 1) and starting with a bookmark `SagspostBrev<n>`, so one LibreOffice
call converts them all and the PDF's named destinations tell on which page each letter starts.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import jinja2
from docxtpl import DocxTemplate
from jinja2 import meta, nodes
from lxml import etree
from markupsafe import Markup

from server.errors import Invalid

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"
DOCUMENT = "word/document.xml"
_CONTENT_TYPES = "[Content_Types].xml"
_DOCUMENT_RELS = "word/_rels/document.xml.rels"
_HEADER_FOOTER = re.compile(r"^word/(header|footer)\d*\.xml$")
_MACRO_MARKERS = ("word/vbaProject.bin", "word/vbaData.xml")
_MACRO_CONTENT_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"
_TEMPLATE_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_DOCUMENT_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_MERGEFIELD = re.compile(r'^\s*MERGEFIELD\s+(?:"([^"]+)"|(\S+))', re.IGNORECASE)
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
BOOKMARK_PREFIX = "SagspostBrev"  # letters and digits only: PDF names escape other characters
MAX_PART_BYTES = 64 * 2**20


class TemplateProblem(Invalid):
    """A template that cannot be used; `problems` lists each reason, fit for the user."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems), errors={"file": problems})
        self.problems = problems


@dataclass
class CompiledTemplate:
    entries: dict[str, bytes]  # every part of the .docx, as uploaded (MERGEFIELDs already converted)
    dynamic: dict[str, jinja2.Template]  # parts with placeholders: document, headers, footers
    ast: list[nodes.Template] = field(repr=False, default_factory=list)

    @property
    def has_dynamic_headers(self) -> bool:
        return any(name != DOCUMENT for name in self.dynamic)


# ---------------------------------------------------------------- compiling


def compile_template(data: bytes, filename: str = "skabelon.docx") -> CompiledTemplate:
    entries = _read_package(data, filename)
    environment = _environment()
    dynamic: dict[str, jinja2.Template] = {}
    trees: list[nodes.Template] = []
    problems: list[str] = []
    for name in [DOCUMENT] + sorted(n for n in entries if _HEADER_FOOTER.match(n)):
        xml = _with_mergefields_as_placeholders(entries[name], name, problems)
        source = DocxTemplate.patch_xml(None, xml)
        if "{{" not in source and "{%" not in source:
            entries[name] = xml.encode("utf-8")
            continue
        try:
            tree = environment.parse(source)
            dynamic[name] = environment.from_string(tree)
        except jinja2.TemplateSyntaxError as error:
            problems.append(f"{_part_label(name)}: {_plain_text_of(error.message)} (near "
                            f"\"{_context_text(source, error.lineno)}\").")
            continue
        trees.append(tree)
        entries[name] = xml.encode("utf-8")
    if problems:
        raise TemplateProblem(problems)
    return CompiledTemplate(entries, dynamic, trees)


def _read_package(data: bytes, filename: str) -> dict[str, bytes]:
    shown = filename or "the template"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TemplateProblem([f'"{shown}" is not a Word document (.docx).']) from None
    with archive:
        names = set(archive.namelist())
        if DOCUMENT not in names or _CONTENT_TYPES not in names:
            raise TemplateProblem([f'"{shown}" is not a Word document (.docx): it has no word/document.xml.'])
        content_types = archive.read(_CONTENT_TYPES)
        if any(marker in names for marker in _MACRO_MARKERS) or _MACRO_CONTENT_TYPE.encode() in content_types:
            raise TemplateProblem([f'"{shown}" contains macros (.docm). Templates must be macro-free: '
                                   "save it as \"Word Document (*.docx)\"."])
        entries = {}
        for info in archive.infolist():
            if info.file_size > MAX_PART_BYTES and not info.filename.startswith("word/media/"):
                raise TemplateProblem([f'"{shown}": the part {info.filename} is too large to be a template.'])
            entries[info.filename] = archive.read(info)
    # a Word template (.dotx) fills like a document; what we produce is a document
    entries[_CONTENT_TYPES] = entries[_CONTENT_TYPES].replace(_TEMPLATE_CONTENT_TYPE.encode(),
                                                              _DOCUMENT_CONTENT_TYPE.encode())
    return entries


def _parse(xml: bytes, name: str, problems: list[str]):
    try:
        return etree.fromstring(xml, _SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        problems.append(f"{_part_label(name)} is damaged XML ({error.msg}, line {error.lineno}).")
        return None


def _with_mergefields_as_placeholders(xml: bytes, name: str, problems: list[str]) -> str:
    """The part's XML with each Word MERGEFIELD (simple or complex) replaced by a run `{{ felt("Name") }}`."""
    root = _parse(xml, name, problems)
    if root is None:
        return ""
    for simple in list(root.iter(f"{_W}fldSimple")):
        found = _MERGEFIELD.match(simple.get(f"{_W}instr", ""))
        if found:
            run = _placeholder_run(found.group(1) or found.group(2), simple.find(f".//{_W}rPr"))
            simple.getparent().replace(simple, run)
    for paragraph in list(root.iter(f"{_W}p")):
        _replace_complex_mergefields(paragraph)
    return etree.tostring(root, encoding="unicode")


def _replace_complex_mergefields(paragraph) -> None:
    runs = [child for child in paragraph if child.tag == f"{_W}r"]
    index = 0
    while index < len(runs):
        if _fld_char(runs[index]) != "begin":
            index += 1
            continue
        depth, instruction, end, result_props = 0, [], None, None
        seen_separate = False
        for position in range(index, len(runs)):
            kind = _fld_char(runs[position])
            depth += kind == "begin"
            depth -= kind == "end"
            if depth == 1:
                instruction += [t.text or "" for t in runs[position].iter(f"{_W}instrText")] if not seen_separate else []
                if kind == "separate":
                    seen_separate = True
                elif seen_separate and result_props is None and runs[position].find(f"{_W}t") is not None:
                    result_props = runs[position].find(f"{_W}rPr")
            if depth == 0:
                end = position
                break
        if end is None:
            return  # a field that does not end in this paragraph: left as Word wrote it
        found = _MERGEFIELD.match("".join(instruction))
        if not found:
            index = end + 1
            continue
        props = result_props if result_props is not None else runs[index].find(f"{_W}rPr")
        placeholder = _placeholder_run(found.group(1) or found.group(2), props)
        # runs of the field may sit inside other elements (hyperlinks, smart tags): remove each where it is
        first = runs[index]
        first.getparent().replace(first, placeholder)
        for run in runs[index + 1 : end + 1]:
            run.getparent().remove(run)
        runs[index : end + 1] = [placeholder]
        index += 1


def _fld_char(run) -> str | None:
    char = run.find(f"{_W}fldChar")
    return char.get(f"{_W}fldCharType") if char is not None else None


def _placeholder_run(field_name: str, props):
    run = etree.Element(f"{_W}r", nsmap={"w": W})
    if props is not None:
        run.append(etree.fromstring(etree.tostring(props)))
    text = etree.SubElement(run, f"{_W}t")
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    text.text = '{{ felt("%s") }}' % field_name.replace('"', "").replace("\\", "")
    return run


def _part_label(name: str) -> str:
    if name == DOCUMENT:
        return "The document body"
    kind, number = _HEADER_FOOTER.match(name).group(1), re.sub(r"\D", "", name)
    return f"{'Header' if kind == 'header' else 'Footer'} {number}".strip()


def _plain_text_of(message: str | None) -> str:
    return (message or "syntax error").replace("'", '"')


def _context_text(source: str, lineno: int | None) -> str:
    """The visible text around a Jinja error's line (the XML stripped), so the author finds the spot."""
    lines = source.splitlines()
    around = " ".join(lines[max((lineno or 1) - 2, 0) : (lineno or 1) + 1])
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", around)).strip()[:120]


# ---------------------------------------------------------------- which fields a template uses


@dataclass(frozen=True)
class FieldUse:
    path: tuple[str, ...]  # ("sag", "nummer"); a loop variable's item is ("parter", "[]", "navn")

    @property
    def name(self) -> str:
        if self.path[0] == "felt":  # a MERGEFIELD is named as Word names it
            return self.path[1]
        return ".".join(p for p in self.path if p != "[]")


def used_fields(template: CompiledTemplate) -> list[FieldUse]:
    """Every field a template reads: dotted paths from Jinja expressions and felt("…") / MERGEFIELD names."""
    found: dict[tuple[str, ...], None] = {}
    for tree in template.ast:
        top_level = meta.find_undeclared_variables(tree)
        loops: dict[str, tuple[str, ...]] = {}
        for loop in tree.find_all(nodes.For):
            source = _path_of(loop.iter, loops)
            if source and isinstance(loop.target, nodes.Name):
                loops[loop.target.name] = source + ("[]",)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Call)):
            if isinstance(node, nodes.Call):
                name = _felt_argument(node)
                if name is not None:
                    found[("felt", name)] = None
                continue
            path = _path_of(node, loops)
            if path and (path[0] in top_level or path[0] in {p[0] for p in loops.values()}):
                found[path] = None
    return [FieldUse(path) for path in _longest_only(found)]


def _path_of(node, loops: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    if isinstance(node, nodes.Name):
        return loops.get(node.name, (node.name,))
    if isinstance(node, nodes.Getattr):
        base = _path_of(node.node, loops)
        return base + (node.attr,) if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        base = _path_of(node.node, loops)
        return base + (node.arg.value,) if base else None
    return None


def _felt_argument(call: nodes.Call) -> str | None:
    if isinstance(call.node, nodes.Name) and call.node.name == "felt" and call.args:
        argument = call.args[0]
        if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
            return argument.value
    return None


def _longest_only(paths: dict[tuple[str, ...], None]) -> list[tuple[str, ...]]:
    """("sag",) is dropped when ("sag", "nummer") is there: the longer path says what is read."""
    ordered = sorted(paths)
    return [p for i, p in enumerate(ordered)
            if p != ("felt",) and not (i + 1 < len(ordered) and ordered[i + 1][: len(p)] == p)]


# ---------------------------------------------------------------- filling


def _finalize(value):
    """Every value is XML-escaped; a line break in it becomes a line break in Word."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    text = escape(str(value)).replace("\r\n", "\n")
    return Markup(text.replace("\n", '</w:t><w:br/><w:t xml:space="preserve">'))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        finalize=_finalize, undefined=jinja2.ChainableUndefined, autoescape=False, keep_trailing_newline=True,
    )


def _rendered(template: CompiledTemplate, name: str, context: dict) -> str:
    try:
        return template.dynamic[name].render(context)
    except jinja2.TemplateError as error:
        raise Invalid(f"{_part_label(name)} could not be filled: {_plain_text_of(str(error))}.") from None


def fill_docx(template: CompiledTemplate, context: dict) -> bytes:
    """One filled .docx."""
    parts = dict(template.entries)
    for name in template.dynamic:
        parts[name] = _rendered(template, name, context).encode("utf-8")
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    # level 1: the XML still shrinks ~5x, at a fraction of the default level's time
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


_BODY = re.compile(r"<w:body>(.*)</w:body>", re.DOTALL)
_SECTION = re.compile(r"<w:sectPr\b(?:(?!<w:sectPr\b).)*</w:sectPr>\s*$", re.DOTALL)
_FIRST_PARAGRAPH = re.compile(r"<w:p(?:\s[^>]*)?>(?:\s*<w:pPr>.*?</w:pPr>)?", re.DOTALL)
_NUMPAGES = re.compile(rb"\bNUMPAGES\b")
_REFERENCE = re.compile(r'(<w:(?:header|footer)Reference\b[^>]*\br:id=")([^"]+)(")')


def batch_docx(template: CompiledTemplate, contexts: list[dict]) -> bytes:
    """All letters in one .docx: a section per letter, each starting with the bookmark BOOKMARK_PREFIX<index>."""
    parts = dict(template.entries)
    relationships = _relationship_targets(parts[_DOCUMENT_RELS])
    dynamic_ids = {rid: target for rid, target in relationships.items() if f"word/{target}" in template.dynamic}
    new_relationships, new_overrides = [], []
    bodies = []
    head = tail = None
    for index, context in enumerate(contexts):
        document = _rendered(template, DOCUMENT, context)
        found = _BODY.search(document)
        if found is None:
            raise Invalid("The template's document body could not be read.")
        if head is None:
            head, tail = document[: found.start(1)], document[found.end(1) :]
        body = found.group(1)
        section = _SECTION.search(body)
        if section is None:
            raise Invalid("The template has no page setup (section properties).")
        content, section_xml = body[: section.start()], section.group(0)
        renamed = {}
        for rid, target in dynamic_ids.items():
            new_rid, new_target = f"rIdSp{index}x{rid}", target.replace(".xml", f"_sp{index}.xml")
            parts[f"word/{new_target}"] = _rendered(template, f"word/{target}", context).encode("utf-8")
            kind = "header" if "header" in target else "footer"
            new_relationships.append(
                f'<Relationship Id="{new_rid}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships/{kind}" Target="{new_target}"/>')
            new_overrides.append(
                f'<Override PartName="/word/{new_target}" ContentType="application/vnd.openxmlformats-'
                f'officedocument.wordprocessingml.{kind}+xml"/>')
            renamed[rid] = new_rid
        section_xml = _restarting_section(_REFERENCE.sub(lambda m: m.group(1) + renamed.get(m.group(2), m.group(2))
                                                         + m.group(3), section_xml))
        content = _with_bookmark(content, index)
        last = index == len(contexts) - 1
        bodies.append(content + (section_xml if last else f"<w:p><w:pPr>{section_xml}</w:pPr></w:p>"))
    parts[DOCUMENT] = (head + "".join(bodies) + tail).encode("utf-8")
    for name in parts:  # "page X of Y": Y is the letter's own page count, not the batch's
        if name == DOCUMENT or _HEADER_FOOTER.match(name.replace(".xml", "").split("_sp")[0] + ".xml"):
            parts[name] = _NUMPAGES.sub(b"SECTIONPAGES", parts[name])
    if new_relationships:
        parts[_DOCUMENT_RELS] = parts[_DOCUMENT_RELS].replace(
            b"</Relationships>", "".join(new_relationships).encode() + b"</Relationships>")
        parts[_CONTENT_TYPES] = parts[_CONTENT_TYPES].replace(
            b"</Types>", "".join(new_overrides).encode() + b"</Types>")
    return _zip(parts)


def _relationship_targets(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml, _SAFE_PARSER)
    return {rel.get("Id"): rel.get("Target").lstrip("/").removeprefix("word/") for rel in root}


def _restarting_section(section_xml: str) -> str:
    """Each letter starts on a new page and counts its pages from 1 (NUMPAGES is the letter's own)."""
    section_xml = re.sub(r"<w:type\b[^>]*/>", "", section_xml)
    section_xml = re.sub(r"<w:pgNumType\b[^>]*/>", "", section_xml)
    opening = re.match(r"<w:sectPr\b[^>]*>", section_xml)
    start = opening.end() if opening else len("<w:sectPr>")
    # the schema's order: header/footer references first, then type … pgNumType come after pgMar
    references = list(re.finditer(r"<w:(?:header|footer)Reference\b[^>]*/>", section_xml))
    after_refs = references[-1].end() if references else start
    section_xml = section_xml[:after_refs] + '<w:type w:val="nextPage"/>' + section_xml[after_refs:]
    margins = re.search(r"<w:pgMar\b[^>]*/>", section_xml)
    if margins:
        section_xml = section_xml[: margins.end()] + '<w:pgNumType w:start="1"/>' + section_xml[margins.end() :]
    return section_xml


def _with_bookmark(content: str, index: int) -> str:
    bookmark = (f'<w:bookmarkStart w:id="{900000 + index}" w:name="{BOOKMARK_PREFIX}{index}"/>'
                f'<w:bookmarkEnd w:id="{900000 + index}"/>')
    found = _FIRST_PARAGRAPH.search(content)
    if found is None:
        return f"<w:p>{bookmark}</w:p>" + content
    return content[: found.end()] + bookmark + content[found.end() :]
