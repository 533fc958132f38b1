"""Writes the shipped Danish letter templates (templates/*.docx). Run: .venv/bin/python templates/make_templates.py

The .docx files are committed; this script is how they were made, so a change is made here and re-run.
"""
from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt, RGBColor

HERE = Path(__file__).parent
ACCENT = RGBColor(0x1F, 0x4E, 0x79)


def _field(paragraph, name: str) -> None:
    paragraph._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" {name} "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))


def _letter(title: str, subject: str, body: list[str], *, closing: str = "Med venlig hilsen") -> docx.Document:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Carlito", Pt(11)
    style.paragraph_format.space_after = Pt(6)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(3.2), Cm(2.5)

    header = section.header.paragraphs[0]
    run = header.add_run("{{ organisation.navn }}")
    run.bold, run.font.size, run.font.color.rgb = True, Pt(14), ACCENT
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    line = section.header.add_paragraph("{{ organisation.adresse }}, {{ organisation.postnr }} {{ organisation.by }}")
    line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    line.runs[0].font.size = Pt(9)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("{{ organisation.navn }} · {{ organisation.telefon }} · {{ organisation.email }} · Side ").font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(" af ").font.size = Pt(8)
    _field(footer, "NUMPAGES")

    address = document.add_paragraph("{{ modtager.navn }}\n{% if modtager.co %}c/o {{ modtager.co }}\n{% endif %}"
                                     "{{ modtager.adresse }}\n{{ modtager.postnr }} {{ modtager.by }}")
    address.paragraph_format.space_after = Pt(24)
    meta = document.add_paragraph("{{ organisation.by }}, {{ dato }}\nSag: {{ sag.nummer }}")
    meta.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    meta.paragraph_format.space_after = Pt(18)

    heading = document.add_paragraph()
    run = heading.add_run(subject)
    run.bold, run.font.size, run.font.color.rgb = True, Pt(13), ACCENT
    document.add_paragraph("Kære {{ modtager.navn }}")
    for text in body:
        document.add_paragraph(text)
    signature = document.add_paragraph(f"{closing}\n\n{{{{ afsender.navn }}}}\n{{{{ organisation.navn }}}}")
    signature.paragraph_format.space_before = Pt(18)
    document.core_properties.title = title
    document.core_properties.author = "Sagspost"
    return document


TEMPLATES = {
    "standardbrev.docx": ("Standardbrev", "{{ sag.titel }}", [
        "Vi skriver til dig vedrørende din sag {{ sag.nummer }}.",
        "[Skriv brevets tekst her.]",
        "Har du spørgsmål, er du velkommen til at kontakte os på {{ organisation.telefon }} eller "
        "{{ organisation.email }}. Oplys venligst sagsnummeret {{ sag.nummer }}.",
    ]),
    "partshoering.docx": ("Partshøring", "Partshøring – {{ sag.titel }}", [
        "Inden vi træffer afgørelse i din sag, vil vi give dig mulighed for at udtale dig om de oplysninger, "
        "vi har lagt vægt på (forvaltningslovens § 19).",
        "[Beskriv de oplysninger, der høres over.]",
        "Du kan sende dine bemærkninger til os inden 14 dage fra datoen på dette brev. Hører vi ikke fra dig, "
        "træffer vi afgørelse på det foreliggende grundlag.",
    ]),
    "afgoerelse.docx": ("Afgørelse", "Afgørelse – {{ sag.titel }}", [
        "Vi har nu behandlet din sag {{ sag.nummer }}.",
        "Afgørelse: [Skriv afgørelsen her.]",
        "Begrundelse: [Skriv begrundelsen, herunder de retsregler afgørelsen bygger på.]",
        "Klagevejledning: Du kan klage over afgørelsen inden 4 uger. Send klagen til {{ organisation.navn }}, "
        "som genvurderer sagen, inden den sendes videre til klageinstansen.",
    ]),
    "kvittering.docx": ("Kvittering for modtagelse", "Kvittering for modtagelse", [
        "Vi bekræfter hermed, at vi den {{ dato }} har modtaget din henvendelse om {{ sag.titel }}.",
        "Din henvendelse er registreret under sagsnummer {{ sag.nummer }}. Vi forventer at behandle den inden "
        "for 4 uger. Hvis behandlingen tager længere tid, hører du fra os.",
    ]),
}


def main() -> None:
    for filename, (title, subject, body) in TEMPLATES.items():
        _letter(title, subject, body).save(HERE / filename)
        print("wrote", HERE / filename)


if __name__ == "__main__":
    main()
