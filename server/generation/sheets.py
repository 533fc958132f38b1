"""Reading a mail merge's rows from an Excel sheet (.xlsx) or a CSV file, with row-precise problems.

Rows keep the sheet's own row numbers, so a message says "row 17" about the row the user sees as 17.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl
from openpyxl.utils import get_column_letter

from server.errors import Invalid

MAX_ROWS = 100_000
_HEADER_SCAN_ROWS = 20  # the header is the first non-empty row within these
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted .xlsx is an OLE container, as is an old .xls


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list]]  # (sheet row number, cells)
    problems: list[dict] = field(default_factory=list)  # {row, column, message}
    notes: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    name = (filename or "").lower()
    if data.startswith(_OLE):
        if name.endswith(".xls"):
            raise Invalid.field("sheet", "Old Excel files (.xls) are not read: save the sheet as .xlsx and upload it again.")
        raise Invalid.field("sheet", "The workbook is password-protected: remove the password in Excel "
                                     "(File > Info > Protect Workbook) and upload it again.")
    if data.startswith(b"PK"):
        return _read_xlsx(data, max_rows)
    if name.endswith((".xlsx", ".xlsm")):
        raise Invalid.field("sheet", f'"{filename}" is not a readable Excel workbook (.xlsx).')
    return _read_csv(data, max_rows)


def from_values(header: list, rows: list[list], first_row: int = 2, *, max_rows: int = MAX_ROWS) -> Table:
    """A table sent as values (the Excel and Sheets add-ins read the sheet themselves)."""
    if len(rows) > max_rows:
        raise Invalid.field("rows", f"The sheet has {len(rows):,} rows; at most {max_rows:,} can be merged at once.")
    table = Table(_header_names([_cell_value(c) for c in header]), [])
    table.problems += _duplicate_headers(table.header, first_row - 1)
    for offset, cells in enumerate(rows):
        cells = [_cell_value(c) for c in cells]
        if any(c != "" for c in cells):
            table.rows.append((first_row + offset, cells))
    return table


# ---------------------------------------------------------------- Excel


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise Invalid.field("sheet", f"The workbook cannot be read ({str(error)[:120]}).") from None
    try:
        sheet = workbook.worksheets[0]
        merged = _merged_ranges(data, sheet)
        formulas = _formula_cells_without_value(data) if _has_formulas(data) else set()
        table = _table_from_rows(sheet.iter_rows(values_only=True), max_rows)
    finally:
        workbook.close()
    if len(workbook.worksheets) > 1:
        table.notes.append(f"The workbook has {len(workbook.worksheets)} sheets; the first, \"{sheet.title}\", is used.")
    for cell_range in merged:
        table.problems.append({"row": cell_range[1], "column": None,
                               "message": f"Cells {cell_range[0]} are merged; unmerge them so each row has its own values."})
    for row, column in sorted(formulas):
        table.problems.append({"row": row, "column": _column_name(table, column),
                               "message": "The cell holds a formula without a calculated value; open the sheet in "
                                          "Excel, save it, and upload it again."})
    return table


def _table_from_rows(rows, max_rows: int) -> Table:
    rows = iter(rows)
    head = []
    for number, cells in enumerate(rows, start=1):
        head.append((number, [_cell_value(c) for c in (cells or ())]))
        if _filled(head[-1][1]) >= 2 or number >= _HEADER_SCAN_ROWS:
            break
    # the header: the first row naming two or more columns (a title line above it names one)
    header_at = next((i for i, (_, v) in enumerate(head) if _filled(v) >= 2), None)
    if header_at is None:
        header_at = next((i for i, (_, v) in enumerate(head) if _filled(v)), None)
    if header_at is None:
        raise Invalid.field("sheet", "The sheet is empty: the first row should name the columns (CPR, Navn, …).")
    header_row, values = head[header_at]
    found = [(n, v) for n, v in head[header_at + 1 :] if _filled(v)]
    for number, cells in enumerate(rows, start=len(head) + 1):
        values_ = [_cell_value(c) for c in (cells or ())]
        if _filled(values_):
            if len(found) >= max_rows:
                raise Invalid.field("sheet", f"The sheet has more than {max_rows:,} rows; at most {max_rows:,} "
                                             "can be merged at once. Split it into several sheets.")
            found.append((number, values_))
    header = _header_names(values)
    table = Table(header, found)
    table.problems += _duplicate_headers(header, header_row)
    return table


def _filled(values: list) -> int:
    return sum(v != "" for v in values)


def _merged_ranges(data: bytes, sheet) -> list[tuple[str, int]]:
    """Merged cell ranges, read from the sheet's XML: openpyxl's fast read-only mode does not report them."""
    part = _first_sheet_part(data)
    if part is None:
        return []
    found = []
    for match in re.finditer(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', part):
        found.append((f"{match.group(1).decode()}{match.group(2).decode()}:{match.group(3).decode()}"
                      f"{match.group(4).decode()}", int(match.group(2))))
    return found


def _first_sheet_part(data: bytes) -> bytes | None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
        return archive.read(names[0]) if names else None


def _has_formulas(data: bytes) -> bool:
    part = _first_sheet_part(data)
    return part is not None and re.search(rb"<(?:\w+:)?f[ >]", part) is not None


def _formula_cells_without_value(data: bytes) -> set[tuple[int, int]]:
    """(row, column) of formula cells with no cached value: a file written by a program that never computed it."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        found = set()
        pairs = zip(workbook.worksheets[0].iter_rows(), values.worksheets[0].iter_rows())
        for number, (formula_row, value_row) in enumerate(pairs, start=1):
            for index, (formula, value) in enumerate(zip(formula_row, value_row)):
                if isinstance(formula.value, str) and formula.value.startswith("=") and value.value is None:
                    found.add((number, index))
        return found
    finally:
        workbook.close()
        values.close()


def _column_name(table: Table, index: int) -> str:
    return table.header[index] if index < len(table.header) else get_column_letter(index + 1)


# ---------------------------------------------------------------- CSV


def _read_csv(data: bytes, max_rows: int) -> Table:
    text = _decoded(data)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return _table_from_rows(reader, max_rows)
    except csv.Error as error:
        raise Invalid.field("sheet", f"The CSV file cannot be read at line {reader.line_num}: {error}.") from None


def _decoded(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")  # Danish Excel's "CSV (semikolonsepareret)"


# ---------------------------------------------------------------- cells


def _cell_value(value):
    """A cell as the letter shows it: text stripped, whole numbers without ".0", dates the Danish way."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == time() else value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def _header_names(values: list) -> list[str]:
    return [v if v != "" else get_column_letter(i + 1) for i, v in enumerate(values)]


def _duplicate_headers(header: list[str], row: int) -> list[dict]:
    seen, problems = set(), []
    for name in header:
        if name.lower() in seen:
            problems.append({"row": row, "column": name,
                             "message": f'Two columns are named "{name}"; give each column its own name.'})
        seen.add(name.lower())
    return problems
