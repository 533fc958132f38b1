"""Mail merge: validate every row, render every letter in batches, split, and hand the PDFs to Digital Post.

Nothing is generated until every row is valid. Letters are then filled into batches of
`BATCH_SIZE`, each batch converted by one LibreOffice call (several LibreOffices in parallel),
and the batch's PDF cut at the bookmark each letter starts with (see wordfill.batch_docx).
"""
from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.principal import Principal
from server.auth.rights import Right
from server.contacts import numbers
from server.documents.blobs import BlobStore
from server.errors import Conflict, Invalid, NotFound
from server.generation import convert, fields, pdfs, templates, wordfill
from server.generation.models import Merge, MergeKind, MergeRow, MergeStatus
from server.generation.sheets import Table
from server.jobs import services as jobs
from server.post import dispatches as post
from server.post.models import LetterKind

BATCH_SIZE = 50
ID_TYPES = ("cpr", "cvr", "p_number")
_ID_HEADERS = {
    "cpr": {"cpr", "cprnr", "cprnummer", "personnummer", "personnr", "cprno", "personnumber", "civilregistrationnumber",
            "ssn"},
    "cvr": {"cvr", "cvrnr", "cvrnummer", "virksomhedsnummer", "companynumber", "companyregistrationnumber", "cvrno"},
    "p_number": {"pnummer", "pnr", "pno", "produktionsenhed", "productionunit", "productionunitnumber"},
    None: {"id", "modtager", "modtagerid", "recipient", "recipientid", "nummer", "number"},
}
_ATTACHMENT_HEADERS = {"bilag", "vedhæftning", "vedhæftninger", "vedhaeftning", "attachment", "attachments"}
_NAME_HEADERS = {"navn", "name", "fuldtnavn", "fullname", "modtagernavn"}
_ADDRESS_HEADERS = {"adresse": "adresse", "address": "adresse", "vej": "adresse", "postnr": "postnr",
                    "postnummer": "postnr", "postalcode": "postnr", "zip": "postnr", "by": "by", "city": "by",
                    "co": "co"}


@dataclass
class UploadedFile:
    filename: str
    sha256: str
    size: int
    mime: str


def _key(header: str) -> str:
    return re.sub(r"[^0-9a-zæøå]", "", header.lower())


# ---------------------------------------------------------------- validating


def create_from_table(
    session: Session, actor: Principal, *, table: Table, template_id: uuid.UUID, id_column: str | None,
    id_type: str | None, source_filename: str = "", source_sha256: str | None = None,
    attachments: list[UploadedFile] = (),
) -> Merge:
    template = templates.require_template(session, template_id, for_use=True)
    uses = templates.version_fields(template)
    merge = Merge(kind=MergeKind.SHEET, status=MergeStatus.INVALID, created_by_id=actor.user_id,
                  template_id=template.id, template_version=template.version, source_filename=source_filename,
                  source_sha256=source_sha256, columns=table.header, problems=list(table.problems),
                  notes=list(table.notes), row_count=len(table.rows))
    column, column_type = _id_column(table.header, id_column, id_type, merge.problems)
    merge.id_column = table.header[column] if column is not None else None
    rows = _checked_rows(table, column, column_type, uses, attachments, merge.problems)
    if not table.rows:
        merge.problems.append({"row": None, "column": None, "message": "The sheet has no rows below its header."})
    session.add(merge)
    session.flush()
    _insert_rows(session, merge, rows)
    if not merge.problems:
        _start_rendering(session, merge)
    audit.record_change(session, actor, "merge.created", "merge", merge.id,
                        summary=f"Indlæste flettefilen \"{source_filename or 'tabel'}\" med {len(rows)} rækker",
                        after={"rows": len(rows), "problems": len(merge.problems), "template": template.name})
    return merge


def _id_column(header: list[str], chosen: str | None, id_type: str | None, problems: list) -> tuple[int | None, str | None]:
    if id_type is not None and id_type not in ID_TYPES:
        raise Invalid.field("id_type", "The recipient number type is cpr, cvr or p_number.")
    if chosen:
        for index, name in enumerate(header):
            if name.strip().lower() == chosen.strip().lower():
                return index, id_type or _type_of_header(name)
        problems.append({"row": None, "column": chosen, "message": f'The sheet has no column "{chosen}".'})
        return None, None
    for kind in ("cpr", "cvr", "p_number", None):
        for index, name in enumerate(header):
            if _key(name) in _ID_HEADERS[kind]:
                return index, id_type or kind
    problems.append({"row": None, "column": None, "message": "No column with the recipients' CPR, CVR or P-numbers "
                     "was found; name it CPR, CVR or P-nummer, or choose the column."})
    return None, None


def _type_of_header(name: str) -> str | None:
    return next((kind for kind, names in _ID_HEADERS.items() if _key(name) in names), None)


def _number_in(text: str, kind: str | None) -> tuple[str, str]:
    """(type, normalised number) of a recipient cell; NumberError says what is wrong, never echoing it."""
    if kind is None:
        digits = re.sub(r"[\s-]", "", text)
        kind = "cvr" if len(digits) == 8 else "cpr"  # 10 digits: a person; a P-number needs its column named
    if kind == "cpr":
        return kind, numbers.normalise_cpr(text)
    if kind == "cvr":
        return kind, numbers.normalise_cvr(text)
    return kind, numbers.normalise_p_number(text)


def _checked_rows(table: Table, column, column_type, uses, attachments, problems: list) -> list[dict]:
    columns = {name.lower(): index for index, name in enumerate(table.header)}
    needed = _column_fields(uses, columns, problems)
    attachment_column = next((i for i, n in enumerate(table.header) if _key(n) in _ATTACHMENT_HEADERS), None)
    files = {f.filename.lower(): f for f in attachments}
    seen: dict[tuple, int] = {}
    rows = []
    for number, cells in table.rows:
        cells = cells + [""] * (len(table.header) - len(cells))
        row = {"row": number, "values": dict(zip(table.header, cells)), "id_type": None, "number": None,
               "attachments": [], "problem": None}
        found = []
        if column is not None:
            found += _recipient(cells[column], column_type, table.header[column], row, seen, number)
        for name, index in needed:
            if cells[index] == "":
                found.append((name, f'"{name}" is empty; the template uses it.'))
        if attachment_column is not None:
            found += _row_attachments(cells[attachment_column], files, table.header[attachment_column], row)
        for column_name, message in found:
            problems.append({"row": number, "column": column_name, "message": message})
        row["problem"] = " ".join(message for _, message in found) or None
        rows.append(row)
    return rows


def _recipient(cell: str, kind, header: str, row: dict, seen: dict, number: int) -> list[tuple[str, str]]:
    if cell == "":
        return [(header, "No recipient number.")]
    try:
        row["id_type"], row["number"] = _number_in(cell, kind)
    except numbers.NumberError as error:
        return [(header, str(error))]
    key = (row["id_type"], row["number"])
    if key in seen:
        return [(header, f"The same recipient as in row {seen[key]}; each recipient gets one letter.")]
    seen[key] = number
    return []


def _column_fields(uses, columns: dict[str, int], problems: list) -> list[tuple[str, int]]:
    """The template's fields that are sheet columns, with their index; a missing column is a problem."""
    needed = []
    for use in uses:
        name = use.path[1] if use.path[0] == "felt" else use.path[0]
        if use.path[0] == "række":
            name = use.path[1] if len(use.path) > 1 else None
        elif use.path[0] in fields.CATALOGUE and use.path[0] != "felt":
            continue
        elif use.path[0] == "felt" and name.lower() not in columns and fields.ALIASES.get(name.lower()):
            continue  # a MERGEFIELD like "Navn" is filled from the recipient when there is no such column
        if name is None:
            continue
        if name.lower() in columns:
            needed.append((name, columns[name.lower()]))
        else:
            problems.append({"row": None, "column": name,
                             "message": f'The template uses the field "{name}", but the sheet has no such column.'})
    return needed


def _row_attachments(cell: str, files: dict[str, UploadedFile], header: str, row: dict) -> list[tuple[str, str]]:
    missing = []
    for name in filter(None, (part.strip() for part in re.split(r"[;,\n]", cell))):
        found = files.get(name.lower())
        if found is None:
            missing.append((header, f'The attachment "{name}" was not uploaded with the sheet.'))
        else:
            row["attachments"].append(found.__dict__)
    return missing


def _insert_rows(session: Session, merge: Merge, rows: list[dict]) -> None:
    if rows:
        session.execute(MergeRow.__table__.insert(), [
            {"id": uuid.uuid4(), "merge_id": merge.id, "pages": [], "pdf_sha256": None, "pdf_size": None,
             "letter_id": None, **row} for row in rows])


def _start_rendering(session: Session, merge: Merge) -> None:
    merge.status = MergeStatus.RENDERING
    session.flush()
    jobs.enqueue(session, "generation.render_merge", {"merge_id": str(merge.id)}, max_attempts=3)


# ---------------------------------------------------------------- rendering


def render(session: Session, store: BlobStore, merge_id: uuid.UUID, *, context_base: dict, parallel: int) -> None:
    """Fill, convert and split every letter of a validated merge; the merge ends READY or FAILED."""
    merge = session.get(Merge, merge_id)
    if merge is None or merge.status is not MergeStatus.RENDERING:
        return
    template = templates.compiled(session, store, merge.template_id, merge.template_version)
    rows = session.execute(select(MergeRow.id, MergeRow.values).where(MergeRow.merge_id == merge.id)
                           .order_by(MergeRow.row)).all()
    batches = [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
    converters = convert.converters(max(1, min(parallel, len(batches))))

    def render_batch(index: int) -> list[bytes]:
        contexts = [row_context(context_base, values) for _, values in batches[index]]
        document = wordfill.batch_docx(template, contexts)
        pdf = converters[index % len(converters)].to_pdf(document, "fletning.docx", pdfa=True, bookmarks=True)
        return pdfs.split_at_bookmarks(pdf, len(contexts), wordfill.BOOKMARK_PREFIX)

    try:
        with ThreadPoolExecutor(len(converters)) as pool:
            for batch, letters in zip(batches, pool.map(render_batch, range(len(batches)))):
                _store_letters(session, store, batch, letters)
    except (convert.ConversionFailed, convert.ConverterUnavailable, Invalid) as error:
        merge.status, merge.error = MergeStatus.FAILED, str(error)
        return
    merge.rendered_count = len(rows)
    merge.status = MergeStatus.READY


def _store_letters(session: Session, store: BlobStore, batch, letters: list[bytes]) -> None:
    changes = []
    for (row_id, _), pdf in zip(batch, letters):
        blob = store.put_bytes(pdf)
        changes.append({"id": row_id, "pdf_sha256": blob.sha256, "pdf_size": blob.size})
    session.execute(update(MergeRow), changes)


def row_context(base: dict, values: dict) -> dict:
    """A merge row's fields: the columns (by header, and as names where the header is one), and the recipient."""
    by_key = {_key(header): value for header, value in values.items()}
    recipient = {"navn": next((by_key[k] for k in _NAME_HEADERS if by_key.get(k)), "")}
    for header_key, field_name in _ADDRESS_HEADERS.items():
        if by_key.get(header_key):
            recipient.setdefault(field_name, by_key[header_key])
    identifiers = {header: value for header, value in values.items() if header.isidentifier()}
    context = {**base, **identifiers, "række": values, "modtager": fields.address_values(recipient)}
    return fields.with_lookup(context)


# ---------------------------------------------------------------- reading


def get_merge(session: Session, actor: Principal, merge_id: uuid.UUID) -> Merge:
    merge = session.get(Merge, merge_id)
    if merge is None or merge.created_by_id != actor.user_id:
        raise NotFound("No such merge.")
    return merge


def rows(session: Session, merge: Merge, *, offset: int = 0, limit: int | None = None) -> list[MergeRow]:
    query = select(MergeRow).where(MergeRow.merge_id == merge.id).order_by(MergeRow.row).offset(offset)
    return list(session.scalars(query.limit(limit) if limit else query))


def get_row(session: Session, merge: Merge, row: int) -> MergeRow:
    found = session.scalar(select(MergeRow).where(MergeRow.merge_id == merge.id, MergeRow.row == row))
    if found is None:
        raise NotFound(f"The merge has no row {row}.")
    return found


def preview(session: Session, store: BlobStore, merge: Merge, row: int, context_base: dict) -> bytes:
    """The PDF of one row's letter: the rendered one, or (before rendering) filled and converted now."""
    found = get_row(session, merge, row)
    if found.pdf_sha256:
        with store.open(found.pdf_sha256) as stream:
            return stream.read()
    if merge.kind is not MergeKind.SHEET:
        raise Conflict("This letter has no PDF yet.")
    template = templates.compiled(session, store, merge.template_id, merge.template_version)
    return convert.to_pdf(wordfill.fill_docx(template, row_context(context_base, found.values)), "brev.docx")


# ---------------------------------------------------------------- sending


@dataclass
class LetterPlan:
    """What Digital Post needs for one merge row: the recipient and the letter's own files."""

    row_id: uuid.UUID
    id_type: str
    number: str
    files: list[dict]  # {role, filename, mime, sha256, size}


def letters_to_send(session: Session, merge: Merge, title: str) -> list[LetterPlan]:
    if merge.status is MergeStatus.DISPATCHED:
        raise Conflict("This merge has been sent already.")
    if merge.status is not MergeStatus.READY:
        raise Conflict(f"The merge is {merge.status.value}; only a merge whose letters are ready can be sent.")
    stem = re.sub(r"[^\wæøåÆØÅ .-]", "", title).strip() or "Brev"
    plans = []
    for row in rows(session, merge):
        main = {"role": "main", "filename": f"{stem}.pdf", "mime": "application/pdf", "sha256": row.pdf_sha256,
                "size": row.pdf_size}
        extra = [{"role": "attachment", **a} for a in row.attachments]
        plans.append(LetterPlan(row.id, row.id_type, row.number, [main] + extra))
    return plans


def mark_dispatched(session: Session, actor: Principal, merge: Merge, dispatch_id: uuid.UUID,
                    letter_ids: list[uuid.UUID], plans: list[LetterPlan]) -> None:
    session.execute(update(MergeRow), [{"id": p.row_id, "letter_id": letter_id}
                                       for p, letter_id in zip(plans, letter_ids)])
    merge.status, merge.dispatch_id = MergeStatus.DISPATCHED, dispatch_id
    audit.record_change(session, actor, "merge.dispatched", "merge", merge.id,
                        summary=f"Sendte {len(plans)} flettede breve", after={"dispatch_id": str(dispatch_id)})


def row_status(row: MergeRow, letter_statuses: dict) -> str:
    if row.problem:
        return "invalid"
    if row.letter_id is not None and row.letter_id in letter_statuses:
        return letter_statuses[row.letter_id]
    return "ready" if row.pdf_sha256 else "pending"


def dispatch(session: Session, actor: Principal, store: BlobStore, registers, merge_id: uuid.UUID, *, title: str,
             sender_identity_id: uuid.UUID, case_id: uuid.UUID | None = None, send_at=None):
    """Send a ready merge's letters as one Digital Post dispatch; each row remembers its letter."""
    merge = get_merge(session, actor, merge_id)
    plans = letters_to_send(session, merge, title)
    recipients = [post.RecipientInput(type=p.id_type, number=p.number, files=p.files) for p in plans]
    sent = post.create_dispatch(session, actor, store, registers, title=title, sender_identity_id=sender_identity_id,
                                recipients=recipients, case_id=case_id, send_at=send_at)
    letter_ids = [letter.id for letter in sent.letters if letter.kind is LetterKind.RECIPIENT]
    mark_dispatched(session, actor, merge, sent.id, letter_ids, plans)
    return sent


def row_views(session: Session, actor: Principal, merge_id: uuid.UUID, *, offset: int, limit: int):
    """The rows with their live status: invalid, pending, ready, then the letter's status once sent."""
    merge = get_merge(session, actor, merge_id)
    found = rows(session, merge, offset=offset, limit=limit)
    statuses = post.letter_statuses(session, [r.letter_id for r in found if r.letter_id])
    return [{"row": r.row, "recipient": _shown_number(actor, r), "status": row_status(r, statuses),
             "problem": r.problem, "letter_id": r.letter_id, "pages": r.pages} for r in found], merge.row_count


def _shown_number(actor: Principal, row: MergeRow) -> str | None:
    if row.number is None:
        return None
    if row.id_type == "cpr" and not actor.has(Right.CONTACTS_VIEW_CPR):
        return numbers.mask_cpr(row.number)
    return row.number


def create_from_pdf(session: Session, actor: Principal, store: BlobStore, *, data: bytes, filename: str,
                    pattern: str | None = None, region=None, every_page: bool = False) -> Merge:
    """A merged PDF cut into one letter per recipient number found; nothing is cut while a page is in doubt."""
    source = store.put_bytes(data)
    found = pdfs.find_letters(data, pattern=pattern, region=region, every_page=every_page)
    problems = list(found.problems)
    seen: dict[tuple, int] = {}
    rows = []
    for index, letter in enumerate(found.letters, start=1):
        key = (letter.id_type, letter.number)
        problem = None
        if key in seen:
            problem = (f"Letter {index} (page {letter.pages[0]}) is to the same recipient as letter {seen[key]}; "
                       "each recipient gets one letter.")
            problems.append({"row": letter.pages[0], "column": None, "message": problem})
        seen.setdefault(key, index)
        rows.append({"row": index, "id_type": letter.id_type, "number": letter.number, "values": {},
                     "attachments": [], "pages": letter.pages, "problem": problem})
    if not found.letters:
        problems.append({"row": None, "column": None, "message": "No recipient numbers were found in the PDF."})
    notes = [f"{len(found.continuation_pages)} page(s) without a number belong to the letter before them: "
             f"{_page_list(found.continuation_pages)}."] if found.continuation_pages else []
    merge = Merge(kind=MergeKind.PDF, status=MergeStatus.INVALID, created_by_id=actor.user_id,
                  source_filename=filename, source_sha256=source.sha256, problems=problems, notes=notes,
                  row_count=len(rows))
    session.add(merge)
    session.flush()
    if not problems:
        for row, pdf in zip(rows, pdfs.cut(data, found.letters)):
            blob = store.put_bytes(pdf)
            row.update(pdf_sha256=blob.sha256, pdf_size=blob.size)
        merge.status, merge.rendered_count = MergeStatus.READY, len(rows)
    _insert_rows(session, merge, rows)
    audit.record_change(session, actor, "merge.created", "merge", merge.id,
                        summary=f"Opdelte \"{filename}\" ({found.page_count} sider) i {len(rows)} breve",
                        after={"letters": len(rows), "problems": len(problems)})
    return merge


def _page_list(pages: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(p) for p in pages[:limit])
    return shown + (f" and {len(pages) - limit} more" if len(pages) > limit else "")
