"""Document generation: a 2,000-row mail merge to single-letter PDFs, and a 4,000-page merged PDF split by CPR.

    make bench BENCH_ARGS=generation
    .venv/bin/python bench/run.py generation [--rows 2000] [--baseline-letters 10] [--pages 4000]

Merge. A Word template (header with the recipient's name, 6 paragraphs, "Side X af Y" footer) and
an .xlsx of --rows rows (CPR, Navn, Adresse, Beløb) made here. Timed from the sheet's bytes to
every letter's PDF in the blob store: read and validate every row (server.generation.sheets and
merge.create_from_table, rows written to a SQLite database), then merge.render: letters filled
into batches of 50, each batch converted by one call to a long-lived LibreOffice (--parallel of
them, default 2 = the cores), cut per letter at its bookmark, each PDF stored. LibreOffice's start
is printed apart (it happens once per worker process, not per merge). Checked afterwards: one
PDF per row, the sampled letters each one page showing their own name.
Baseline, in the same run: python-docx fill (placeholders replaced in every run of the body and
header) and one `soffice --headless --convert-to pdf` per letter, on --baseline-letters letters
(a warm-up conversion first, so LibreOffice's profile exists). Target: at least 100 letters/s on 2
cores, and at least 8x the baseline.

Split. A --pages page PDF of letters of two pages each, the recipient's CPR on each letter's first
page (made with tests/files.text_pdf). Timed: server.generation.pdfs.find_letters (text of every
page through PDFium, numbers found and checked) and cut (one PDF per letter). Baseline in the same
run: pypdf's extract_text over every page. Target: at least 1,000 pages/s.
"""
from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
import openpyxl  # noqa: E402
import pypdf  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from server import create_app  # noqa: E402
from server.auth import services as auth  # noqa: E402
from server.config import Settings  # noqa: E402
from server.generation import convert, merge, pdfs, services, sheets, templates  # noqa: E402
from server.generation.models import MergeRow, MergeStatus  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from tests.files import text_pdf  # noqa: E402

TARGET_LETTERS_PER_S, TARGET_RATIO, TARGET_PAGES_PER_S = 100.0, 8.0, 1000.0
BODY = ("Vi har modtaget din ansøgning om tilskud og skal hermed meddele, at du får {{ Beløb }} kr. udbetalt. "
        "Beløbet overføres til din NemKonto inden for 5 bankdage. Har du spørgsmål, kan du kontakte os.")


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("generation")
    group.add_argument("--rows", type=int, default=2000, help="mail merge rows (2,000)")
    group.add_argument("--baseline-letters", type=int, default=10, help="letters for the per-letter soffice baseline")
    group.add_argument("--pages", type=int, default=4000, help="pages of the merged PDF to split (4,000)")
    group.add_argument("--parallel", type=int, default=2, help="LibreOffices converting at once (2)")


def cpr(index: int) -> str:
    """Distinct valid CPR numbers (born 1950-1999: seventh digit 1-3 is read as 1900-1999)."""
    day, month, year = 1 + index % 28, 1 + (index // 28) % 12, 50 + (index // 336) % 50
    return f"{day:02d}{month:02d}{year:02d}-{1000 + index % 9000:04d}"


def template_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Testrup Kommune – brev til {{ Navn }}"
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = "Side 1"
    document.add_paragraph("{{ Navn }}\n{{ Adresse }}")
    document.add_paragraph("Testrup, {{ dato }}")
    document.add_paragraph("Kære {{ Navn }}")
    for _ in range(6):
        document.add_paragraph(BODY)
    document.add_paragraph("Med venlig hilsen\n{{ afsender.navn }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def sheet(rows: int) -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.append(["CPR", "Navn", "Adresse", "Beløb"])
    for i in range(rows):
        ws.append([cpr(i), f"Borger nummer {i}", f"Skolevej {i % 200 + 1}, 9999 Testrup", 100 + i])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- merge


def run_merge(rows: int, parallel: int) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="sagspost-bench-generation-"))
    try:
        settings = Settings.from_env({}, data_dir=data_dir, secret_key="bench", log_level="WARNING",
                                     argon2_time_cost=1, argon2_memory_cost_kib=1024)
        app = create_app(settings)
        upgrade(app.extensions["sagspost.engine"])
        store = app.extensions["sagspost.blobs"]
        with app.app_context():
            session = app.extensions["sagspost.sessionmaker"]()
            auth.ensure_roles(session)
            user = auth.create_user(session, None, app.extensions["sagspost.passwords"], username="bench",
                                    full_name="Bente Bench", password="bench-password-123", roles=["caseworker"])
            actor = auth.principal_for(user)
            template = templates.create_template(session, None, store, name="Udbetaling", data=template_docx(),
                                                 filename="udbetaling.docx", for_merge=True)
            session.commit()
            xlsx = sheet(rows)
            started = time.perf_counter()
            converters = convert.converters(parallel)
            for converter in converters:
                converter.start()
            start_s = time.perf_counter() - started

            started = time.perf_counter()
            table = sheets.read_table(xlsx, "modtagere.xlsx")
            created = merge.create_from_table(session, actor, table=table, template_id=template.id,
                                              id_column=None, id_type=None, source_filename="modtagere.xlsx")
            validated_s = time.perf_counter() - started
            assert not created.problems, created.problems[:3]
            merge.render(session, store, created.id, context_base=services.base_context(session, actor),
                         parallel=parallel)
            session.commit()
            total_s = time.perf_counter() - started

            assert created.status is MergeStatus.READY, created.error
            made = session.scalar(select(func.count()).where(MergeRow.merge_id == created.id,
                                                             MergeRow.pdf_sha256.is_not(None)))
            assert made == rows, f"{made} of {rows} letters made"
            for row in (2, rows // 2 + 2, rows + 1):
                pdf = merge.preview(session, store, created, row, {})
                pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
                assert len(pages) == 1 and f"Borger nummer {row - 2}" in pages[0].extract_text(), row
            session.close()
        return {"rows": rows, "validate_s": validated_s, "total_s": total_s, "start_s": start_s,
                "letters_per_s": rows / total_s}
    finally:
        for converter in convert.converters(parallel):
            converter.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _fill_with_python_docx(template: bytes, values: dict) -> bytes:
    document = docx.Document(io.BytesIO(template))
    paragraphs = list(document.paragraphs) + list(document.sections[0].header.paragraphs)
    for paragraph in paragraphs:
        for run in paragraph.runs:
            for key, value in values.items():
                run.text = run.text.replace("{{ " + key + " }}", str(value))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def run_baseline(letters: int) -> dict:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    work = Path(tempfile.mkdtemp(prefix="sagspost-bench-soffice-"))
    template = template_docx()
    profile = f"-env:UserInstallation={(work / 'profile').as_uri()}"

    def one(index: int) -> None:
        source = work / f"brev{index}.docx"
        source.write_bytes(_fill_with_python_docx(template, {
            "Navn": f"Borger nummer {index}", "Adresse": "Skolevej 1", "Beløb": 100 + index,
            "dato": "25. november 2026", "afsender.navn": "Bente Bench"}))
        subprocess.run([soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", str(work), str(source)],
                       check=True, capture_output=True, timeout=120)
        assert (work / f"brev{index}.pdf").stat().st_size > 0

    try:
        one(-1)  # LibreOffice makes its profile on the first start: not counted
        started = time.perf_counter()
        for index in range(letters):
            one(index)
        elapsed = time.perf_counter() - started
        return {"letters": letters, "total_s": elapsed, "letters_per_s": letters / elapsed}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- split


def run_split(pages: int) -> dict:
    letter_pages = []
    for i in range(pages // 2):
        letter_pages.append(f"Borger nummer {i}\nSkolevej {i % 200 + 1}\nCPR {cpr(i)}\n{BODY[:90]}")
        letter_pages.append(f"Side 2 af brevet til borger {i}\n{BODY[:90]}")
    pdf = text_pdf(*letter_pages)

    started = time.perf_counter()
    found = pdfs.find_letters(pdf)
    letters = pdfs.cut(pdf, found.letters)
    elapsed = time.perf_counter() - started
    assert not found.problems and len(letters) == pages // 2, (found.problems[:3], len(letters))

    started = time.perf_counter()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = [page.extract_text() for page in reader.pages]
    baseline = time.perf_counter() - started
    assert len(text) == len(letter_pages)
    return {"pages": len(letter_pages), "letters": len(letters), "total_s": elapsed,
            "pages_per_s": len(letter_pages) / elapsed, "baseline_s": baseline,
            "baseline_pages_per_s": len(letter_pages) / baseline}


# ---------------------------------------------------------------- report


def main(argv=None, args=None) -> int:
    if args is None:
        parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        add_options(parser)
        args = parser.parse_args(argv)
    print(f"Document generation benchmark: {args.rows:,}-row mail merge, {args.pages:,}-page split", flush=True)
    merged = run_merge(args.rows, args.parallel)
    baseline = run_baseline(args.baseline_letters)
    split = run_split(args.pages)
    ratio = merged["letters_per_s"] / baseline["letters_per_s"]
    ok_merge = merged["letters_per_s"] >= TARGET_LETTERS_PER_S and ratio >= TARGET_RATIO
    ok_split = split["pages_per_s"] >= TARGET_PAGES_PER_S
    print()
    print(f"Mail merge, {merged['rows']:,} rows from .xlsx to single-letter PDFs ({args.parallel} LibreOffices, "
          f"started once in {merged['start_s']:.1f} s, not counted)")
    print(f"  Sagspost:  {merged['total_s']:7.1f} s  = {merged['letters_per_s']:7.1f} letters/s "
          f"(reading and validating {merged['validate_s']:.2f} s)")
    print(f"  baseline:  {baseline['total_s']:7.1f} s for {baseline['letters']} = {baseline['letters_per_s']:7.2f} "
          "letters/s (python-docx fill + one soffice --convert-to pdf per letter)")
    print(f"  speed-up {ratio:.0f}x; target >= {TARGET_LETTERS_PER_S:.0f} letters/s and >= {TARGET_RATIO:.0f}x: "
          f"{'met' if ok_merge else 'MISSED'}")
    print(f"Split of a {split['pages']:,}-page merged PDF into {split['letters']:,} letters by CPR")
    print(f"  Sagspost:  {split['total_s']:7.2f} s  = {split['pages_per_s']:7.0f} pages/s (find numbers + cut)")
    print(f"  baseline:  {split['baseline_s']:7.2f} s  = {split['baseline_pages_per_s']:7.0f} pages/s "
          "(pypdf extract_text, text only)")
    print(f"  target >= {TARGET_PAGES_PER_S:.0f} pages/s: {'met' if ok_split else 'MISSED'}")
    return 0 if ok_merge and ok_split else 1


if __name__ == "__main__":
    sys.exit(main())
