"""Digital Post in the browser: write or pick a letter, recipients, send now or later; the dispatch
log with live status; the to-print list with one PDF to print; statistics."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from server.auth.rights import Right
from server.auth.services import require
from server.cases import services as cases
from server.contacts import services as contacts
from server.db import get_session
from server.documents import services as documents
from server.errors import DomainError, Invalid, NotFound
from server.generation import services as generation
from server.generation import templates as doc_templates
from server.jobs import services as jobs
from server.post import checks, dispatches, identities, stats
from server.post import views as post_views
from server.post.models import DispatchStatus
from server.web import preview
from server.web.blueprint import Pager, actor, an_id, blobs, bp, ids, max_upload_bytes
from server.web.errors import form_refused

LOCAL = ZoneInfo("Europe/Copenhagen")
FINISHED = (DispatchStatus.DONE, DispatchStatus.CANCELLED)
IN_FLIGHT = ("queued", "sending", "sent")  # letters whose status will still change
LIVE_SECONDS = 2  # how often an open dispatch page asks for its letters' status
LOG_SECONDS = 5  # and the dispatch log for its dispatches


def _registers() -> dispatches.Registers:
    return current_app.extensions["sagspost.registers"]


# ---------------------------------------------------------------- the dispatch log


@bp.get("/post")
def dispatch_log():
    session, me = get_session(), actor()
    status = request.args.get("status")
    pager = Pager.from_request()
    rows, total = dispatches.list_dispatches(
        session, me, status=DispatchStatus(status) if status in {s.value for s in DispatchStatus} else None,
        offset=pager.offset, limit=pager.size)
    shown = post_views.dispatch_views(session, rows)
    # the log follows its dispatches while any on this page still has letters on their way
    live = any(d["status"] not in FINISHED or any(d["counts"].get(k) for k in IN_FLIGHT) for d in shown)
    return render_template("post/log.html", dispatches=shown, pager=pager.counted(total), status=status,
                           statuses=list(DispatchStatus), live=live, live_seconds=LOG_SECONDS)


@bp.get("/post/dispatches/<uuid:dispatch_id>")
def dispatch_page(dispatch_id: uuid.UUID):
    session, me = get_session(), actor()
    dispatch = dispatches.get_dispatch(session, me, dispatch_id)
    return render_template("post/dispatch.html", dispatch=post_views.dispatch_view(session, dispatch),
                           case_readable=_readable(session, me, dispatch.case_id), **_letters(session, me, dispatch))


def _readable(session, me, case_id) -> bool:
    """Whether to link to the case: an approver sees every dispatch, not every case."""
    if case_id is None:
        return False
    try:
        cases.require_case(session, me, case_id)
    except NotFound:
        return False
    return True


@bp.get("/post/dispatches/<uuid:dispatch_id>/letters")
def dispatch_letters(dispatch_id: uuid.UUID):
    """The letters' table alone: the dispatch page swaps it in every few seconds until all are done."""
    session, me = get_session(), actor()
    dispatch = dispatches.get_dispatch(session, me, dispatch_id)
    if request.args.get("status") != dispatch.status.value:
        return reload_page()  # approved, cancelled or done: the page's buttons change with it
    return render_template("post/_letters_fragment.html", dispatch=post_views.dispatch_view(session, dispatch),
                           **_letters(session, me, dispatch))


def reload_page() -> Response:
    """Tell htmx to load the whole page again, for changes beyond the part it polls."""
    return Response(status=204, headers={"HX-Refresh": "true"})


def _letters(session, me, dispatch) -> dict:
    letters, _total = dispatches.list_letters(session, me, dispatch.id, offset=0, limit=500)
    views = [post_views.letter_view(session, me, letter) for letter in letters]
    waiting = any(v["status"].value in IN_FLIGHT for v in views)
    return {"letters": views, "live": dispatch.status not in FINISHED or waiting, "live_seconds": LIVE_SECONDS}


@bp.post("/post/dispatches/<uuid:dispatch_id>/cancel")
def dispatch_cancel(dispatch_id: uuid.UUID):
    dispatches.cancel(get_session(), actor(), dispatch_id)
    return redirect(url_for("web.dispatch_page", dispatch_id=dispatch_id))


@bp.post("/post/dispatches/<uuid:dispatch_id>/approve")
def dispatch_approve(dispatch_id: uuid.UUID):
    dispatches.approve(get_session(), actor(), dispatch_id)
    return redirect(url_for("web.dispatch_page", dispatch_id=dispatch_id))


@bp.post("/post/poll")
def post_poll():
    """Fetch receipts now rather than at the workers' next round."""
    require(actor(), Right.POST_SEND)
    jobs.enqueue(get_session(), "post.poll", {})
    flash(_("Kvitteringer hentes fra Digital Post."), "info")
    return redirect(request.form.get("next") or url_for("web.dispatch_log"))


@bp.get("/post/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>")
def letter_page(dispatch_id: uuid.UUID, letter_id: uuid.UUID):
    """Exactly what this recipient gets: each file, PDFs page by page."""
    session, me = get_session(), actor()
    letter = dispatches.get_letter(session, me, dispatch_id, letter_id)
    files = [
        {"position": i, "file": f, "pages": preview.page_count(blobs().path(f.sha256)) if f.mime == "application/pdf" else 0}
        for i, f in enumerate(dispatches.letter_files(session, letter))
    ]
    return render_template("post/letter.html", letter=post_views.letter_view(session, me, letter), files=files,
                           dispatch_id=dispatch_id)


@bp.get("/post/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>/files/<int:position>")
def letter_file(dispatch_id: uuid.UUID, letter_id: uuid.UUID, position: int):
    f = post_views.letter_file(get_session(), actor(), dispatch_id, letter_id, position)
    response = send_file(blobs().open(f.sha256), mimetype=f.mime, as_attachment=True, download_name=f.filename)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/post/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>/files/<int:position>/pages/<int:page>.png")
def letter_page_image(dispatch_id: uuid.UUID, letter_id: uuid.UUID, position: int, page: int):
    f = post_views.letter_file(get_session(), actor(), dispatch_id, letter_id, position)
    if f.mime != "application/pdf":
        raise Invalid("Only PDFs are shown page by page.")
    return Response(preview.page_png(blobs().path(f.sha256), page), mimetype="image/png",
                    headers={"Cache-Control": "private, max-age=300"})


# ---------------------------------------------------------------- sending


@bp.route("/post/send", methods=["GET", "POST"])
def post_send():
    session, me = get_session(), actor()
    require(me, Right.POST_SEND)
    if request.method == "GET":
        return _send_form(session, me, request.args)
    try:
        if request.form.get("action") == "preview":
            return _preview(session, me, request.form)
        dispatch = _send(session, me, request.form)
    except DomainError as exc:
        return form_refused(exc, lambda error: _send_form(session, me, request.form, error))
    flash(_("Brevet er sendt afsted."), "info")
    return redirect(url_for("web.dispatch_page", dispatch_id=dispatch.id))


def _send_form(session, me, values, error: str | None = None) -> str:
    """The send form, filled with `values` (what was typed, when it is shown again with an error)."""
    case_id = an_id(values.get("case_id"), "case_id")
    case = cases.require_case(session, me, case_id) if case_id else None
    scope = documents.DocumentFilter(scope="case", case_id=case_id) if case else documents.DocumentFilter(scope="mine")
    docs, _total = documents.list_documents(session, me, scope, offset=0, limit=200)
    offered = doc_templates.list_templates(session, case_template_id=case.template_id, for_merge=False) if case else []
    return render_template(
        "post/send.html", case=case, documents=docs, letter_templates=offered, values=values, error=error,
        parties=cases.list_parties(session, me, case_id) if case else [],
        identities=[i for i in identities.list_identities(session) if i.active],
        my_cases=cases.list_cases(session, me, cases.CaseFilter(scope="mine"), offset=0, limit=200)[0],
    )


def _send(session, me, form):
    main_id, attachment_ids = _letter_documents(session, me, form)
    return dispatches.create_dispatch(
        session, me, blobs(), _registers(), title=form.get("title", "").strip(),
        sender_identity_id=an_id(form.get("sender_identity_id"), "sender_identity_id", required=True),
        recipients=_recipients(form), main_document_id=main_id, attachment_document_ids=attachment_ids,
        case_id=an_id(form.get("case_id"), "case_id"), send_at=local_time(form.get("send_at"), "send_at"),
    )


def _letter_documents(session, me, form) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The letter's and the attachments' documents: those chosen, and those uploaded (kept as documents)."""
    case_id = an_id(form.get("case_id"), "case_id")
    main_id = an_id(form.get("main_document_id"), "main_document_id")
    upload = request.files.get("letter")
    template_id = an_id(form.get("letter_template_id"), "letter_template_id")
    if upload is not None and upload.filename:
        main_id = _upload_as_document(session, me, upload, case_id)
    elif template_id is not None and case_id is not None:
        # written from a template with the case's fields; kept on the case as the draft it was sent from
        main_id = generation.generate_on_case(session, me, blobs(), case_id, template_id, title=form.get("title") or None).id
    if main_id is None:
        raise Invalid.field("main_document_id", "Choose the letter, or upload it.")
    attachment_ids = ids(form.getlist("attachment_document_ids"), "attachment_document_ids")
    attachment_ids += [_upload_as_document(session, me, f, case_id) for f in request.files.getlist("attachments") if f.filename]
    return main_id, attachment_ids


def _preview(session, me, form):
    """Before sending: each recipient as the registers and Digital Post know them, and the letter as it will look."""
    main_id, attachment_ids = _letter_documents(session, me, form)
    provider = current_app.extensions["sagspost.post_provider"]
    wanted = _recipients(form)

    def check(kind: str, number: str, role: str) -> dict:
        return {**checks.check_recipient(session, me, _registers(), provider, kind, number), "role": role}

    recipients = [check(*((r.type, r.number) if r.contact_id is None else _contact_number(session, me, r.contact_id)),
                        "recipient") for r in wanted]
    recipients += [check("cpr", number, "copy") for number in wanted[0].copies]  # every recipient's copies are alike
    pdf, _name = generation.document_pdf(session, me, blobs(), main_id)
    fields = [(k, v) for k, values in form.lists() if k not in ("csrf_token", "action", "main_document_id",
                                                                  "attachment_document_ids") for v in values]
    fields += [("main_document_id", str(main_id))] + [("attachment_document_ids", str(a)) for a in attachment_ids]
    return render_template("post/send_preview.html", recipients=recipients, images=preview.data_urls(pdf),
                           fields=fields, title=form.get("title", ""), attachments=len(attachment_ids))


def _contact_number(session, me, contact_id: uuid.UUID) -> tuple[str, str]:
    id_type, number = contacts.post_number(contacts.get_contact(session, me, contact_id))
    return id_type.lower(), number


def _upload_as_document(session, me, upload, case_id) -> uuid.UUID:
    stored = documents.store_upload(session, blobs(), documents.Upload(upload.stream, upload.filename), max_upload_bytes())
    return documents.create_document(session, me, blobs(), title=None, main=stored, case_id=case_id).id


def _recipients(form) -> list[dispatches.RecipientInput]:
    """The parties ticked, and one number per line: a CPR or CVR number, or 'P' and a P-number."""
    copies = [line.strip() for line in form.get("copies", "").splitlines() if line.strip()]
    guardians = form.get("include_guardians") == "on"
    found = [dispatches.RecipientInput(type="contact", contact_id=cid, copies=copies, include_guardians=guardians)
             for cid in ids(form.getlist("party_contact_ids"), "party_contact_ids")]
    for line in form.get("numbers", "").splitlines():
        if line.strip():
            kind, number = _number_type(line.strip())
            found.append(dispatches.RecipientInput(type=kind, number=number, copies=copies, include_guardians=guardians))
    if not found:
        raise Invalid.field("recipients", "Choose a party or write at least one CPR, CVR or P-number.")
    return found


def _number_type(line: str) -> tuple[str, str]:
    if line[:1] in "pP":
        return "p_number", line[1:].strip(" :-")
    digits = "".join(c for c in line if c.isdigit())
    return ("cvr" if len(digits) == 8 else "cpr"), line


def local_time(value: str | None, field: str) -> datetime | None:
    """A date, or a date and time, from the form in Danish time, as UTC."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=LOCAL).astimezone(ZoneInfo("UTC"))
    except ValueError:
        raise Invalid.field(field, "Write the time as YYYY-MM-DD or YYYY-MM-DD HH:MM.") from None


# ---------------------------------------------------------------- print and statistics


@bp.get("/post/to-print")
def to_print():
    session, me = get_session(), actor()
    pager = Pager.from_request(size=100)
    rows, total = post_views.to_print(session, me, offset=pager.offset, limit=pager.size)
    letters = [{"letter": post_views.letter_view(session, me, letter), "dispatch_id": letter.dispatch_id} for letter in rows]
    return render_template("post/to_print.html", letters=letters, pager=pager.counted(total))


@bp.get("/post/to-print.pdf")
def to_print_pdf():
    pdf = post_views.combined_print_pdf(get_session(), actor(), blobs())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "attachment; filename=til-print.pdf"})


@bp.get("/post/statistics")
def statistics():
    by = request.args.get("by", "month")
    if by not in ("month", "sender", "group"):
        by = "month"
    since = local_time(request.args.get("since"), "since")
    until = local_time(request.args.get("until"), "until")
    rows = stats.statistics(get_session(), actor(), by=by, since=since, until=until)
    return render_template("post/statistics.html", rows=rows, by=by, since=request.args.get("since", ""),
                           until=request.args.get("until", ""), peak=max([r["total"] for r in rows] or [1]))

