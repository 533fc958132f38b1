"""Cases: lists with filters, creation from a case template, and the case page with its tabs."""
from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.admin import services as lists
from server.admin.models import DocumentType, NoteCategory, PartyRole
from server.auth import services as auth
from server.cases import journal, services as cases, templates, views
from server.cases.access import Level
from server.cases.models import AccessLevel, CaseAccess, CaseStatus
from server.contacts import services as contacts
from server.contacts.models import ContactKind
from server.db import get_session
from server.documents import services as documents
from server.errors import DomainError
from server.generation import services as generation
from server.generation import templates as doc_templates
from server.web.blueprint import (Pager, actor, an_id, blobs, bp, max_upload_bytes, uploaded, user_or_group,
                                  users_and_groups)
from server.web.errors import form_refused

# ---------------------------------------------------------------- lists


@bp.get("/cases")
def case_list():
    session, me = get_session(), actor()
    args = request.args
    status = args.get("status") or None
    flt = cases.CaseFilter(
        scope=args.get("scope", "mine"),
        status=CaseStatus(status) if status in {s.value for s in CaseStatus} else None,
        template_id=an_id(args.get("template_id"), "template_id"),
        journal_key_id=an_id(args.get("journal_key_id"), "journal_key_id"),
        q=args.get("q") or None,
    )
    pager = Pager.from_request()
    sort = args.get("sort") or "-updated_at"
    rows, total = cases.list_cases(session, me, flt, sort=sort, offset=pager.offset, limit=pager.size)
    return render_template("cases/list.html", cases=rows, pager=pager.counted(total), flt=flt, sort=sort,
                           templates=templates.list_templates(session), statuses=list(CaseStatus), keys=leaf_keys(session))


def leaf_keys(session) -> list[dict]:
    """Every active leaf key of every journal plan, labelled with its plan: where a case can be filed."""
    found = []

    def walk(plan, nodes):
        for node in nodes:
            if node["is_leaf"]:
                found.append({"id": node["id"], "label": f"{node['number']} {node['title']}", "plan": plan.name})
            walk(plan, node["children"])

    for plan in journal.list_plans(session):
        if plan.active:
            walk(plan, journal.plan_keys(session, plan.id))
    return found


@bp.route("/cases/new", methods=["GET", "POST"])
def case_new():
    session, me = get_session(), actor()
    if request.method == "GET":
        return _new_case_form(session, request.args)
    form = request.form
    try:
        case = cases.create_case(
            session, me, template_id=an_id(form.get("template_id"), "template_id", required=True),
            title=form.get("title"), description=form.get("description", ""),
            journal_key_id=an_id(form.get("journal_key_id"), "journal_key_id"),
            owner_group_id=an_id(form.get("owner_group_id"), "owner_group_id"),
            unassigned=form.get("unassigned") == "on",
        )
    except DomainError as exc:
        return form_refused(exc, lambda error: _new_case_form(session, form, error))
    flash(_("Sagen %(number)s er oprettet.", number=case.number), "info")
    return redirect(url_for("web.case_page", case_id=case.id))


def _new_case_form(session, values, error: str | None = None) -> str:
    return render_template("cases/new.html", templates=templates.list_templates(session), keys=leaf_keys(session),
                           groups=users_and_groups(session)["groups"], values=values, error=error)


# ---------------------------------------------------------------- the case page


def _case_context(session, me, case_id: uuid.UUID, tab: str) -> dict:
    case = cases.require_case(session, me, case_id)
    detail = views.case_detail(session, me, case)
    return {"case": detail, "tab": tab, "may_write": cases.my_level(session, me, case) >= Level.WRITE,
            "accesses": list(CaseAccess)}


@bp.get("/cases/<uuid:case_id>")
def case_page(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "documents")
    folder_id = an_id(request.args.get("folder"), "folder")
    pager = Pager.from_request(size=50)
    docs, total = documents.list_documents(
        session, me, documents.DocumentFilter(scope="case", case_id=case_id, folder_id=folder_id),
        offset=pager.offset, limit=pager.size)
    offered = doc_templates.list_templates(session, case_template_id=ctx["case"]["template_id"], for_merge=False)
    return render_template("cases/documents.html", **ctx, documents=docs, pager=pager.counted(total),
                           folder_id=folder_id, document_types=lists.list_named(session, DocumentType),
                           doc_templates=offered if ctx["may_write"] else [])


@bp.post("/cases/<uuid:case_id>/generate")
def case_generate(case_id: uuid.UUID):
    """A draft on the case from a document template, its fields filled from the case."""
    doc = generation.generate_on_case(
        get_session(), actor(), blobs(), case_id, an_id(request.form.get("template_id"), "template_id", required=True),
        title=request.form.get("title") or None, folder_id=an_id(request.form.get("folder_id"), "folder_id"))
    return redirect(url_for("web.document_page", document_id=doc.id))


@bp.post("/cases/<uuid:case_id>/documents")
def case_upload(case_id: uuid.UUID):
    """One draft document per file dropped or chosen, titled by its file name."""
    session, me = get_session(), actor()
    uploads = uploaded("files", many=True)
    folder_id = an_id(request.form.get("folder_id"), "folder_id")
    type_id = an_id(request.form.get("document_type_id"), "document_type_id")
    for upload in uploads:
        stored = documents.store_upload(session, blobs(), documents.Upload(upload.stream, upload.filename), max_upload_bytes())
        documents.create_document(session, me, blobs(), title=None, main=stored, case_id=case_id, folder_id=folder_id,
                                  document_type_id=type_id)
    flash(_("%(n)d dokument(er) er lagt på sagen.", n=len(uploads)), "info")
    return redirect(url_for("web.case_page", case_id=case_id, folder=folder_id or None))


@bp.post("/cases/<uuid:case_id>/edit")
def case_edit(case_id: uuid.UUID):
    form = request.form
    changes = {"title": form.get("title", ""), "description": form.get("description", ""),
               "tags": [t for t in form.get("tags", "").split(",") if t.strip()]}
    if "access" in form:  # only shown to the owner
        changes["access"] = CaseAccess(form["access"])
    cases.update_case(get_session(), actor(), case_id, changes)
    return redirect(url_for("web.case_page", case_id=case_id))


@bp.post("/cases/<uuid:case_id>/status")
def case_status(case_id: uuid.UUID):
    cases.change_status(get_session(), actor(), case_id, CaseStatus(request.form.get("status", "")))
    return redirect(url_for("web.case_page", case_id=case_id))


@bp.post("/cases/<uuid:case_id>/delete")
def case_delete(case_id: uuid.UUID):
    case = cases.delete_case(get_session(), actor(), case_id)
    flash(_("Sagen %(number)s er lagt i papirkurven.", number=case.number), "info")
    return redirect(url_for("web.case_list"))


@bp.post("/cases/<uuid:case_id>/take")
def case_take(case_id: uuid.UUID):
    me = actor()
    cases.assign_case(get_session(), me, case_id, user_id=me.user_id)
    return redirect(url_for("web.case_page", case_id=case_id))


# ---------------------------------------------------------------- parties


@bp.get("/cases/<uuid:case_id>/parties")
def case_parties(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "parties")
    return render_template("cases/parties.html", **ctx, parties=cases.list_parties(session, me, case_id),
                           roles=lists.list_named(session, PartyRole))


@bp.post("/cases/<uuid:case_id>/parties")
def case_party_add(case_id: uuid.UUID):
    session, me = get_session(), actor()
    form = request.form
    contact = _contact_from_form(session, me, form)
    cases.add_party(session, me, case_id, contact_id=contact.id, role_id=an_id(form.get("role_id"), "role_id"),
                    is_primary=form.get("is_primary") == "on", note=form.get("note", ""))
    return redirect(url_for("web.case_parties", case_id=case_id))


def _contact_from_form(session, me, form):
    """The contact chosen, else the one with the CPR or CVR number given, else a new one with the name given."""
    chosen = an_id(form.get("contact_id"), "contact_id")
    if chosen is not None:
        return contacts.get_contact(session, me, chosen)
    kind = ContactKind(form.get("kind", "person"))
    number = (form.get("number") or "").strip()
    field = "cpr" if kind is ContactKind.PERSON else "cvr"
    if number:
        found, _total = contacts.list_contacts(session, me, contacts.ContactFilter(kind=kind, **{field: number}),
                                               offset=0, limit=1)
        if found:
            return found[0]
    return contacts.create_contact(session, me, kind, {"name": form.get("name", ""), **({field: number} if number else {})})


@bp.post("/cases/<uuid:case_id>/parties/<uuid:party_id>/remove")
def case_party_remove(case_id: uuid.UUID, party_id: uuid.UUID):
    cases.remove_party(get_session(), actor(), case_id, party_id)
    return redirect(url_for("web.case_parties", case_id=case_id))


# ---------------------------------------------------------------- members


@bp.get("/cases/<uuid:case_id>/members")
def case_members(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "members")
    members = [
        {"id": m.id, "access": m.access.value,
         "name": auth.display_name(session, m.user_id) if m.user_id else auth.get_group(session, m.group_id).name,
         "is_group": m.group_id is not None}
        for m in cases.list_members(session, me, case_id)
    ]
    return render_template("cases/members.html", **ctx, members=members, **users_and_groups(session),
                           levels=list(AccessLevel))


@bp.post("/cases/<uuid:case_id>/members")
def case_member_add(case_id: uuid.UUID):
    cases.add_member(get_session(), actor(), case_id, **user_or_group(request.form.get("subject")),
                     access_level=AccessLevel(request.form.get("access", "write")))
    return redirect(url_for("web.case_members", case_id=case_id))


@bp.post("/cases/<uuid:case_id>/members/<uuid:member_id>/remove")
def case_member_remove(case_id: uuid.UUID, member_id: uuid.UUID):
    cases.remove_member(get_session(), actor(), case_id, member_id)
    return redirect(url_for("web.case_members", case_id=case_id))


# ---------------------------------------------------------------- notes and history


@bp.get("/cases/<uuid:case_id>/notes")
def case_notes(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "notes")
    categories = lists.list_named(session, NoteCategory, include_inactive=True)
    names = {c.id: c.name for c in categories}
    notes = [{"note": n, "author": auth.display_name(session, n.author_id) if n.author_id else "",
              "category": names.get(n.category_id, "")} for n in cases.list_notes(session, me, case_id)]
    return render_template("cases/notes.html", **ctx, notes=notes, categories=[c for c in categories if c.active])


@bp.post("/cases/<uuid:case_id>/notes")
def case_note_add(case_id: uuid.UUID):
    cases.add_note(get_session(), actor(), case_id, text=request.form.get("text", ""),
                   category_id=an_id(request.form.get("category_id"), "category_id"))
    return redirect(url_for("web.case_notes", case_id=case_id))


@bp.get("/cases/<uuid:case_id>/history")
def case_history(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "history")
    pager = Pager.from_request(size=50)
    events, total = cases.history(session, me, case_id, offset=pager.offset, limit=pager.size)
    return render_template("cases/history.html", **ctx, events=events, pager=pager.counted(total))
