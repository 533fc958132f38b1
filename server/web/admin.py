"""Administration: users, groups, role rights, journal plans, case templates, named lists, file types,
sender identities and sending rules, trash. Each page needs its right; the services check it again."""
from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from server.admin import services as lists
from server.admin.models import DocumentType, FieldEntity, FieldType, NoteCategory, PartyRole
from server.audit import services as audit
from server.auth import current
from server.auth import services as auth
from server.auth.rights import DESCRIPTIONS, ROLE_NAMES, Right, RoleCode
from server.cases import journal, services as cases, templates
from server.cases.models import TemplateAccess
from server.db import get_session
from server.documents import trash
from server.errors import Invalid
from server.generation import templates as doc_templates
from server.post import identities
from server.web.blueprint import (ADMIN_RIGHTS, Pager, actor, an_id, blobs, bp, has, ids, uploaded, user_or_group,
                                  users_and_groups)
from server.web.cases import leaf_keys

NAMED_LISTS = {
    "document-types": (DocumentType, _l("Dokumenttyper")),
    "party-roles": (PartyRole, _l("Partsroller")),
    "note-categories": (NoteCategory, _l("Notekategorier")),
}


def _require(*rights: Right):
    """The caller, if they hold any of `rights`; else Forbidden, naming the first."""
    me = actor()
    if not has(me, *rights):
        auth.require(me, rights[0])
    return me


@bp.get("/admin")
def admin_index():
    _require(*ADMIN_RIGHTS)
    return render_template("admin/index.html", named_lists=NAMED_LISTS)


# ---------------------------------------------------------------- users and groups


@bp.get("/admin/users")
def admin_users():
    _require(Right.USERS_MANAGE)
    session = get_session()
    pager = Pager.from_request(size=50)
    users, total = auth.list_users(session, auth.UserFilter(q=request.args.get("q") or None), offset=pager.offset,
                                   limit=pager.size)
    return render_template("admin/users.html", users=users, pager=pager.counted(total), **_user_choices(session))


def _user_choices(session) -> dict:
    return {"roles": [(code.value, ROLE_NAMES[code]) for code in RoleCode], "groups": users_and_groups(session)["groups"]}


@bp.post("/admin/users")
def admin_user_create():
    me, form = actor(), request.form
    auth.create_user(get_session(), me, current.passwords(), username=form.get("username", ""),
                     email=form.get("email") or None, full_name=form.get("full_name", ""),
                     password=form.get("password") or None, roles=form.getlist("roles"),
                     group_ids=ids(form.getlist("group_ids"), "group_ids"))
    return redirect(url_for("web.admin_users"))


@bp.route("/admin/users/<uuid:user_id>", methods=["GET", "POST"])
def admin_user(user_id: uuid.UUID):
    me = _require(Right.USERS_MANAGE)
    session = get_session()
    if request.method == "POST":
        form = request.form
        changes = {"full_name": form.get("full_name", ""), "email": form.get("email") or None,
                   "active": form.get("active") == "on", "roles": form.getlist("roles"),
                   "group_ids": ids(form.getlist("group_ids"), "group_ids")}
        if form.get("password"):
            changes["password"] = form["password"]
        auth.update_user(session, me, current.passwords(), user_id, changes)
        return redirect(url_for("web.admin_users"))
    return render_template("admin/user.html", user=auth.get_user(session, user_id), **_user_choices(session))


@bp.get("/admin/groups")
def admin_groups():
    _require(Right.USERS_MANAGE)
    groups, _total = auth.list_groups(get_session(), request.args.get("q") or None, offset=0, limit=1000)
    return render_template("admin/groups.html", groups=groups)


@bp.post("/admin/groups")
def admin_group_create():
    auth.create_group(get_session(), actor(), name=request.form.get("name", ""),
                      description=request.form.get("description", ""))
    return redirect(url_for("web.admin_groups"))


@bp.get("/admin/groups/<uuid:group_id>")
def admin_group(group_id: uuid.UUID):
    _require(Right.USERS_MANAGE)
    session = get_session()
    return render_template("admin/group.html", group=auth.get_group(session, group_id),
                           users=users_and_groups(session)["users"])


@bp.post("/admin/groups/<uuid:group_id>/members")
def admin_group_member_add(group_id: uuid.UUID):
    auth.add_group_member(get_session(), actor(), group_id, an_id(request.form.get("user_id"), "user_id", required=True))
    return redirect(url_for("web.admin_group", group_id=group_id))


@bp.post("/admin/groups/<uuid:group_id>/members/<uuid:user_id>/remove")
def admin_group_member_remove(group_id: uuid.UUID, user_id: uuid.UUID):
    auth.remove_group_member(get_session(), actor(), group_id, user_id)
    return redirect(url_for("web.admin_group", group_id=group_id))


@bp.route("/admin/rights", methods=["GET", "POST"])
def admin_rights():
    me = _require(Right.RIGHTS_MANAGE)
    session = get_session()
    if request.method == "POST":
        role = request.form.get("role", "")
        auth.set_role_rights(session, me, role, request.form.getlist("rights"))
        return redirect(url_for("web.admin_rights"))
    roles = [{"code": r.code, "name": r.name, "rights": {rr.right for rr in r.rights}} for r in auth.list_roles(session)]
    return render_template("admin/rights.html", roles=roles, rights=[(r.value, DESCRIPTIONS[r]) for r in Right])


# ---------------------------------------------------------------- journal plans and case templates


@bp.get("/admin/journal-plans")
def admin_plans():
    _require(Right.JOURNAL_PLAN_MANAGE)
    return render_template("admin/plans.html", plans=journal.list_plans(get_session()))


@bp.post("/admin/journal-plans")
def admin_plan_create():
    plan = journal.create_plan(get_session(), actor(), request.form.get("name", "").strip(),
                               request.form.get("description", ""))
    return redirect(url_for("web.admin_plan", plan_id=plan.id))


@bp.get("/admin/journal-plans/<uuid:plan_id>")
def admin_plan(plan_id: uuid.UUID):
    _require(Right.JOURNAL_PLAN_MANAGE)
    session = get_session()
    return render_template("admin/plan.html", plan=journal.get_plan(session, plan_id),
                           keys=journal.plan_keys(session, plan_id, include_inactive=True))


@bp.post("/admin/journal-plans/<uuid:plan_id>/keys")
def admin_key_create(plan_id: uuid.UUID):
    form = request.form
    journal.create_key(get_session(), actor(), plan_id, number=form.get("number", "").strip(),
                       title=form.get("title", "").strip(), parent_id=an_id(form.get("parent_id"), "parent_id"))
    return redirect(url_for("web.admin_plan", plan_id=plan_id))


@bp.post("/admin/journal-keys/<uuid:key_id>/active")
def admin_key_active(key_id: uuid.UUID):
    key = journal.update_key(get_session(), actor(), key_id, {"active": request.form.get("active") == "1"})
    return redirect(url_for("web.admin_plan", plan_id=key.plan_id))


@bp.get("/admin/case-templates")
def admin_templates():
    _require(Right.CASE_TEMPLATES_MANAGE)
    session = get_session()
    return render_template("admin/templates.html", templates=templates.list_templates(session, include_inactive=True),
                           keys=leaf_keys(session), groups=users_and_groups(session)["groups"],
                           accesses=list(TemplateAccess))


@bp.post("/admin/case-templates")
def admin_template_create():
    form = request.form
    templates.create_template(get_session(), actor(), {
        "name": form.get("name", "").strip(), "description": form.get("description", ""),
        "title_pattern": form.get("title_pattern") or "{template}",
        "journal_key_id": an_id(form.get("journal_key_id"), "journal_key_id"),
        "access": TemplateAccess(form.get("access", "group")),
        "owner_group_id": an_id(form.get("owner_group_id"), "owner_group_id"),
        "standard_folders": [line.strip() for line in form.get("standard_folders", "").splitlines() if line.strip()],
    })
    return redirect(url_for("web.admin_templates"))


@bp.post("/admin/case-templates/<uuid:template_id>/active")
def admin_template_active(template_id: uuid.UUID):
    templates.update_template(get_session(), actor(), template_id, {"active": request.form.get("active") == "1"})
    return redirect(url_for("web.admin_templates"))


# ---------------------------------------------------------------- document templates


@bp.get("/admin/document-templates")
def admin_doc_templates():
    _require(Right.DOCUMENT_TEMPLATES_MANAGE)
    session = get_session()
    return render_template("admin/doc_templates.html",
                           templates=doc_templates.list_templates(session, include_inactive=True),
                           case_templates=templates.list_templates(session),
                           document_types=lists.list_named(session, DocumentType))


@bp.post("/admin/document-templates")
def admin_doc_template_create():
    form, upload = request.form, uploaded()
    doc_templates.create_template(
        get_session(), actor(), blobs(), name=form.get("name", "").strip(), data=upload.read(),
        filename=upload.filename, description=form.get("description", ""),
        document_type_id=an_id(form.get("document_type_id"), "document_type_id"),
        case_template_ids=ids(form.getlist("case_template_ids"), "case_template_ids"), for_merge=form.get("for_merge") == "on")
    return redirect(url_for("web.admin_doc_templates"))


@bp.post("/admin/document-templates/<uuid:template_id>/versions")
def admin_doc_template_version(template_id: uuid.UUID):
    upload = uploaded()
    doc_templates.add_version(get_session(), actor(), blobs(), template_id, upload.read(), upload.filename)
    return redirect(url_for("web.admin_doc_templates"))


@bp.post("/admin/document-templates/<uuid:template_id>/active")
def admin_doc_template_active(template_id: uuid.UUID):
    doc_templates.update_template(get_session(), actor(), template_id, {"active": request.form.get("active") == "1"})
    return redirect(url_for("web.admin_doc_templates"))


# ---------------------------------------------------------------- lists and file types


def _named(kind: str):
    if kind not in NAMED_LISTS:
        abort(404)
    return NAMED_LISTS[kind]


@bp.get("/admin/lists/<kind>")
def admin_list(kind: str):
    _require(Right.LISTS_MANAGE)
    model, title = _named(kind)
    return render_template("admin/list.html", kind=kind, title=title, described=_described(model),
                           items=lists.list_named(get_session(), model, include_inactive=True))


def _described(model) -> bool:
    return "description" in model.__table__.c


@bp.post("/admin/lists/<kind>")
def admin_list_create(kind: str):
    model, _title = _named(kind)
    values = {"name": request.form.get("name", "").strip()}
    if _described(model):
        values["description"] = request.form.get("description", "")
    lists.create_named(get_session(), actor(), model, values)
    return redirect(url_for("web.admin_list", kind=kind))


@bp.post("/admin/lists/<kind>/<uuid:item_id>/active")
def admin_list_active(kind: str, item_id: uuid.UUID):
    model, _title = _named(kind)
    lists.update_named(get_session(), actor(), model, item_id, {"active": request.form.get("active") == "1"})
    return redirect(url_for("web.admin_list", kind=kind))


@bp.route("/admin/custom-fields", methods=["GET", "POST"])
def admin_custom_fields():
    """Konfigurerbare felter on cases and documents: defined here, filled in on their pages."""
    me = _require(Right.LISTS_MANAGE)
    session = get_session()
    if request.method == "POST":
        form = request.form
        choices = [c.strip() for c in form.get("choices", "").split(",") if c.strip()]
        lists.create_field(session, me, {
            "entity": FieldEntity(form.get("entity", "document")), "key": form.get("key", "").strip(),
            "label": form.get("label", "").strip(), "type": FieldType(form.get("type", "text")),
            "choices": choices or None, "required": form.get("required") == "1",
        })
        return redirect(url_for("web.admin_custom_fields"))
    fields = [f for f in lists.list_fields(session, None, include_inactive=True) if f.entity != FieldEntity.CONTACT]
    return render_template("admin/custom_fields.html", fields=fields, types=list(FieldType))


@bp.post("/admin/custom-fields/<uuid:field_id>/active")
def admin_custom_field_active(field_id: uuid.UUID):
    lists.update_field(get_session(), actor(), field_id, {"active": request.form.get("active") == "1"})
    return redirect(url_for("web.admin_custom_fields"))


@bp.route("/admin/file-types", methods=["GET", "POST"])
def admin_file_types():
    me = _require(Right.LISTS_MANAGE)
    session = get_session()
    if request.method == "POST":
        lists.set_file_rule(session, me, request.form.get("mime", "").strip(),
                            allowed=request.form.get("allowed") == "1", label=request.form.get("label", ""))
        return redirect(url_for("web.admin_file_types"))
    return render_template("admin/file_types.html", rules=lists.list_file_rules(session))


@bp.post("/admin/file-types/<uuid:rule_id>/delete")
def admin_file_type_delete(rule_id: uuid.UUID):
    lists.delete_file_rule(get_session(), actor(), rule_id)
    return redirect(url_for("web.admin_file_types"))


# ---------------------------------------------------------------- Digital Post: sender identities and rules


@bp.get("/admin/sender-identities")
def admin_identities():
    _require(Right.POST_MANAGE)
    session = get_session()
    shown = [{"identity": i, "rules": [_rule_view(session, r) for r in identities.list_rules(session, i.id)]}
             for i in identities.list_identities(session)]
    return render_template("admin/identities.html", identities=shown, **users_and_groups(session))


def _rule_view(session, rule) -> dict:
    subject = auth.display_name(session, rule.user_id) if rule.user_id else auth.get_group(session, rule.group_id).name
    return {"id": rule.id, "subject": subject, "requires_approval": rule.requires_approval}


@bp.post("/admin/sender-identities")
def admin_identity_create():
    identities.create_identity(get_session(), actor(), name=request.form.get("name", "").strip(),
                               cvr=request.form.get("cvr", "").strip())
    return redirect(url_for("web.admin_identities"))


@bp.post("/admin/sender-identities/<uuid:identity_id>/rules")
def admin_rule_create(identity_id: uuid.UUID):
    identities.add_rule(get_session(), actor(), identity_id, **user_or_group(request.form.get("subject")),
                        requires_approval=request.form.get("requires_approval") == "on")
    return redirect(url_for("web.admin_identities"))


@bp.post("/admin/sending-rules/<uuid:rule_id>/delete")
def admin_rule_delete(rule_id: uuid.UUID):
    identities.remove_rule(get_session(), actor(), rule_id)
    return redirect(url_for("web.admin_identities"))


# ---------------------------------------------------------------- settings and the audit trail


@bp.route("/admin/settings", methods=["GET", "POST"])
def admin_settings():
    me = _require(Right.LISTS_MANAGE)
    session = get_session()
    if request.method == "POST":
        key, raw = request.form.get("key", ""), request.form.get("value", "").strip()
        lists.set_setting(session, me, key, _setting_value(key, raw))
        return redirect(url_for("web.admin_settings"))
    return render_template("admin/settings.html", settings=lists.all_settings(session))


def _setting_value(key: str, raw: str):
    """The form's text as the setting's type: empty clears it, a number setting takes digits."""
    if not raw:
        return None
    if key in lists.SETTINGS and lists.SETTINGS[key][0] is int:
        if not raw.isdigit():
            raise Invalid.field("value", f"{key} takes a whole number.")
        return int(raw)
    return raw


@bp.get("/admin/audit")
def admin_audit():
    me = _require(Right.AUDIT_READ)
    session = get_session()
    pager = Pager.from_request(size=50)
    user_id = an_id(request.args.get("user_id"), "user_id")
    if request.args.get("log") == "changes":
        rows, total = audit.query_changes(session, me, entity_type=None, entity_id=None, offset=pager.offset,
                                          limit=pager.size)
        return render_template("admin/audit.html", log="changes", events=rows, pager=pager.counted(total))
    reads, total = audit.query_access_log(session, me, audit.AccessLogFilter(user_id=user_id), offset=pager.offset,
                                          limit=pager.size)
    names = {uid: auth.display_name(session, uid) for uid in {r.user_id for r in reads}}
    return render_template("admin/audit.html", log="reads", reads=reads, names=names, pager=pager.counted(total),
                           users=users_and_groups(session)["users"], user_id=user_id)


# ---------------------------------------------------------------- trash


@bp.get("/admin/trash")
def admin_trash():
    session, me = get_session(), actor()
    deleted_cases, _c = cases.list_deleted_cases(session, me, offset=0, limit=200)
    deleted_docs, _d = trash.list_trash(session, me, offset=0, limit=200)
    return render_template("admin/trash.html", cases=deleted_cases, documents=deleted_docs)


@bp.post("/admin/trash/cases/<uuid:case_id>/restore")
def admin_trash_case_restore(case_id: uuid.UUID):
    cases.restore_case(get_session(), actor(), case_id)
    return redirect(url_for("web.admin_trash"))


@bp.post("/admin/trash/documents/<uuid:document_id>/restore")
def admin_trash_document_restore(document_id: uuid.UUID):
    trash.restore_document(get_session(), actor(), document_id)
    return redirect(url_for("web.admin_trash"))
