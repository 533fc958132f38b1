"""Mail merge in the browser: a sheet and a template, or a merged PDF; every problem shown by row or
page before anything is made; each letter previewed; the ready letters sent as one dispatch."""
from __future__ import annotations

import uuid

from flask import Response, current_app, redirect, render_template, request, url_for

from server.auth.rights import Right
from server.auth.services import require
from server.db import get_session
from server.errors import Invalid
from server.generation import merge as merges
from server.generation import services as generation
from server.generation import sheets, templates
from server.generation.models import MergeStatus
from server.post import identities
from server.web import preview
from server.web.blueprint import actor, an_id, blobs, bp, max_upload_bytes
from server.web.post import IN_FLIGHT, LIVE_SECONDS, local_time, reload_page

# while these last, the page asks for the rows again by itself
_MOVING = (MergeStatus.RENDERING, MergeStatus.DISPATCHED)
_IN_FLIGHT = ("pending", *IN_FLIGHT)


@bp.route("/post/merge", methods=["GET", "POST"])
def merge_new():
    session, me = get_session(), actor()
    require(me, Right.POST_SEND)
    if request.method == "GET":
        return render_template("post/merge_new.html", templates=templates.list_templates(session, for_merge=True))
    sheet, pdf = request.files.get("sheet"), request.files.get("pdf")
    if pdf is not None and pdf.filename:
        made = merges.create_from_pdf(session, me, blobs(), data=_read(pdf), filename=pdf.filename,
                                      pattern=request.form.get("pattern") or None)
    elif sheet is not None and sheet.filename:
        data = _read(sheet)
        made = merges.create_from_table(
            session, me, table=sheets.read_table(data, sheet.filename),
            template_id=an_id(request.form.get("template_id"), "template_id", required=True),
            id_column=request.form.get("id_column") or None, id_type=None, source_filename=sheet.filename,
            source_sha256=blobs().put_bytes(data).sha256)
    else:
        raise Invalid.field("sheet", "Upload a sheet (.xlsx or .csv) with a template, or a merged PDF.")
    return redirect(url_for("web.merge_page", merge_id=made.id))


def _read(upload) -> bytes:
    limit = max_upload_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise Invalid.field("file", f"The file is larger than the limit of {limit // 2**20} MB.")
    return data


@bp.get("/post/merges/<uuid:merge_id>")
def merge_page(merge_id: uuid.UUID):
    session, me = get_session(), actor()
    found = merges.get_merge(session, me, merge_id)
    shown = request.args.get("row", type=int)
    pages = preview.page_count(_letter(session, me, found, shown)) if shown is not None else 0
    return render_template("post/merge.html", merge=found, shown=shown, pages=pages,
                           identities=[i for i in identities.list_identities(session) if i.active],
                           **_rows(session, me, found))


def _letter(session, me, found, row: int) -> bytes:
    """One row's letter as a PDF: the rendered one, or filled and converted now (before rendering)."""
    return merges.preview(session, blobs(), found, row, generation.base_context(session, me))


@bp.get("/post/merges/<uuid:merge_id>/rows")
def merge_rows(merge_id: uuid.UUID):
    """The rows' table alone, swapped in every few seconds while letters are made or on their way."""
    session, me = get_session(), actor()
    found = merges.get_merge(session, me, merge_id)
    if request.args.get("status") != found.status.value:
        return reload_page()  # ready now: the page gets its send form
    return render_template("post/_merge_rows_fragment.html", merge=found, **_rows(session, me, found))


def _rows(session, me, found) -> dict:
    rows, _total = merges.row_views(session, me, found.id, offset=0, limit=1000)
    live = found.status is MergeStatus.RENDERING or (
        found.status in _MOVING and any(r["status"] in _IN_FLIGHT for r in rows))
    return {"rows": rows, "live": live, "live_seconds": LIVE_SECONDS}


@bp.get("/post/merges/<uuid:merge_id>/rows/<int:row>/pages/<int:page>.png")
def merge_row_page(merge_id: uuid.UUID, row: int, page: int):
    session, me = get_session(), actor()
    pdf = _letter(session, me, merges.get_merge(session, me, merge_id), row)
    return Response(preview.page_png(pdf, page), mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


@bp.post("/post/merges/<uuid:merge_id>/dispatch")
def merge_dispatch(merge_id: uuid.UUID):
    form = request.form
    sent = merges.dispatch(
        get_session(), actor(), blobs(), current_app.extensions["sagspost.registers"], merge_id,
        title=form.get("title", "").strip(),
        sender_identity_id=an_id(form.get("sender_identity_id"), "sender_identity_id", required=True),
        send_at=local_time(form.get("send_at"), "send_at"))
    return redirect(url_for("web.dispatch_page", dispatch_id=sent.id))
