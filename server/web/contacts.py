"""Kontakter: find persons and businesses, and see the cases (you may read) they are parties of."""
from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for

from server.cases import services as cases
from server.contacts import services as contacts
from server.contacts.models import ContactKind
from server.db import get_session
from server.web.blueprint import Pager, actor, bp

# what a person can change about a contact on its page (the CPR or CVR number is not retyped there)
DETAILS = ("name", "co", "street", "postal_code", "city", "email", "phone")


@bp.get("/contacts")
def contact_list():
    session, me = get_session(), actor()
    kind = request.args.get("kind")
    flt = contacts.ContactFilter(kind=ContactKind(kind) if kind in {k.value for k in ContactKind} else None,
                                 q=request.args.get("q") or None, cvr=request.args.get("cvr") or None)
    pager = Pager.from_request()
    rows, total = contacts.list_contacts(session, me, flt, offset=pager.offset, limit=pager.size)
    return render_template("contacts/list.html", contacts=[contacts.contact_summary(c, me) for c in rows],
                           pager=pager.counted(total), kinds=list(ContactKind), details=DETAILS)


@bp.get("/contacts/suggest")
def contact_suggest():
    """Contacts matching what is typed, as choices for a form (swapped in by htmx)."""
    session, me = get_session(), actor()
    q = (request.args.get("q") or "").strip()
    rows = contacts.list_contacts(session, me, contacts.ContactFilter(q=q), offset=0, limit=8)[0] if len(q) >= 2 else []
    return render_template("contacts/_choices.html", contacts=[contacts.contact_summary(c, me) for c in rows], q=q)


@bp.get("/contacts/<uuid:contact_id>")
def contact_page(contact_id: uuid.UUID):
    session, me = get_session(), actor()
    contact = contacts.get_contact(session, me, contact_id)
    return render_template("contacts/page.html", contact=contacts.contact_details(contact, me),
                           cases=cases.cases_of_contact(session, me, contact_id), details=DETAILS)


@bp.post("/contacts")
def contact_create():
    form = request.form
    kind = ContactKind(form.get("kind", "person"))
    number = (form.get("number") or "").strip()
    values = {f: form.get(f, "").strip() for f in DETAILS if form.get(f, "").strip()}
    if number:
        values["cpr" if kind is ContactKind.PERSON else "cvr"] = number
    made = contacts.create_contact(get_session(), actor(), kind, values)
    return redirect(url_for("web.contact_page", contact_id=made.id))


@bp.post("/contacts/<uuid:contact_id>/edit")
def contact_edit(contact_id: uuid.UUID):
    changes = {f: request.form.get(f, "").strip() or None for f in DETAILS}
    contacts.update_contact(get_session(), actor(), contact_id, changes)
    return redirect(url_for("web.contact_page", contact_id=contact_id))
