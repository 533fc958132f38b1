import uuid

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from server.api import blueprint, page_window, paged
from server.audit.schemas import AuditEventSchema
from server.auth import current
from server.cases import journal, kle, services, templates, views
from server.cases import schemas as s
from server.db import get_session

blp = blueprint("cases", "", "Journal plans, case templates and cases with members, parties, notes and history")


# ---------------------------------------------------------------- journal plans


@blp.route("/journal-plans")
class JournalPlans(MethodView):
    @blp.response(200, s.JournalPlanSchema(many=True))
    def get(self):
        """Journal plans"""
        current.actor()
        return journal.list_plans(get_session())

    @blp.arguments(s.JournalPlanSchema)
    @blp.response(201, s.JournalPlanSchema)
    def post(self, body):
        """Create a journal plan (journal_plan.manage)"""
        return journal.create_plan(get_session(), current.actor(), **body)


@blp.route("/journal-plans/<uuid:plan_id>")
class JournalPlanById(MethodView):
    @blp.response(200, s.JournalPlanSchema)
    def get(self, plan_id: uuid.UUID):
        """One journal plan"""
        current.actor()
        return journal.get_plan(get_session(), plan_id)

    @blp.arguments(s.JournalPlanUpdateSchema)
    @blp.response(200, s.JournalPlanSchema)
    def patch(self, body, plan_id: uuid.UUID):
        """Change a journal plan (journal_plan.manage)"""
        return journal.update_plan(get_session(), current.actor(), plan_id, body)


@blp.route("/journal-plans/<uuid:plan_id>/keys")
class JournalPlanKeys(MethodView):
    @blp.arguments(s.KeyTreeQuerySchema, location="query")
    @blp.response(200, s.JournalTreeNodeSchema(many=True))
    def get(self, query, plan_id: uuid.UUID):
        """The plan's keys as a tree; cases can be filed on leaves"""
        current.actor()
        return journal.plan_keys(get_session(), plan_id, query["include_inactive"])

    @blp.arguments(s.JournalKeySchema)
    @blp.response(201, s.JournalKeySchema)
    def post(self, body, plan_id: uuid.UUID):
        """Add a key to the plan (journal_plan.manage)"""
        return journal.create_key(get_session(), current.actor(), plan_id, **body)


class KleUploadSchema(Schema):
    file = Upload(required=True)


@blp.route("/journal-plans/import-kle")
class KleImport(MethodView):
    @blp.arguments(s.KleImportSchema, location="query")
    @blp.arguments(KleUploadSchema, location="files")
    @blp.response(200, s.KleReportSchema)
    def post(self, query, files):
        """Import a KLE emneplan XML file as a journal plan (journal_plan.manage)"""
        report = kle.import_kle(get_session(), current.actor(), files["file"].read(), query["plan_name"])
        return report


@blp.route("/journal-keys/<uuid:key_id>")
class JournalKeyById(MethodView):
    @blp.response(200, s.JournalKeySchema)
    def get(self, key_id: uuid.UUID):
        """One journal key"""
        current.actor()
        return journal.get_key(get_session(), key_id)

    @blp.arguments(s.JournalKeyUpdateSchema)
    @blp.response(200, s.JournalKeySchema)
    def patch(self, body, key_id: uuid.UUID):
        """Change or deactivate a journal key (journal_plan.manage)"""
        return journal.update_key(get_session(), current.actor(), key_id, body)


# ---------------------------------------------------------------- case templates


@blp.route("/case-templates")
class CaseTemplates(MethodView):
    @blp.arguments(s.TemplateQuerySchema, location="query")
    @blp.response(200, s.CaseTemplateSchema(many=True))
    def get(self, query):
        """Case templates"""
        current.actor()
        return templates.list_templates(get_session(), query["include_inactive"])

    @blp.arguments(s.CaseTemplateSchema)
    @blp.response(201, s.CaseTemplateSchema)
    def post(self, body):
        """Create a case template (case_templates.manage)"""
        return templates.create_template(get_session(), current.actor(), body)


@blp.route("/case-templates/<uuid:template_id>")
class CaseTemplateById(MethodView):
    @blp.response(200, s.CaseTemplateSchema)
    def get(self, template_id: uuid.UUID):
        """One case template"""
        current.actor()
        return templates.get_template(get_session(), template_id)

    @blp.arguments(s.CaseTemplateUpdateSchema)
    @blp.response(200, s.CaseTemplateSchema)
    def patch(self, body, template_id: uuid.UUID):
        """Change a case template (case_templates.manage)"""
        return templates.update_template(get_session(), current.actor(), template_id, body)


# ---------------------------------------------------------------- cases


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(s.CaseQuerySchema, location="query")
    @blp.response(200, s.CaseListItemSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """Cases the caller may see: all, mine, or unassigned in my groups; filtered, sorted, paginated"""
        sort = query.pop("sort")
        query["fields"] = query.pop("field", [])
        offset, limit = page_window(pagination_parameters)
        result = services.list_cases(
            get_session(), current.actor(), services.CaseFilter(**query), sort=sort, offset=offset, limit=limit
        )
        return paged(pagination_parameters, result)

    @blp.arguments(s.CaseCreateSchema)
    @blp.response(201, s.CaseSchema)
    def post(self, body):
        """Create a case from a case template"""
        session, actor = get_session(), current.actor()
        case = services.create_case(session, actor, **body)
        return views.case_detail(session, actor, case)


@blp.route("/cases/<uuid:case_id>")
class CaseById(MethodView):
    @blp.response(200, s.CaseSchema)
    def get(self, case_id: uuid.UUID):
        """One case (the read is written to the access log)"""
        session, actor = get_session(), current.actor()
        return views.case_detail(session, actor, services.read_case(session, actor, case_id))

    @blp.arguments(s.CaseUpdateSchema)
    @blp.response(200, s.CaseSchema)
    def patch(self, body, case_id: uuid.UUID):
        """Change a case's title, description, journal key, access, tags or custom fields"""
        session, actor = get_session(), current.actor()
        return views.case_detail(session, actor, services.update_case(session, actor, case_id, body))


@blp.route("/cases/<uuid:case_id>/status")
class CaseStatusChange(MethodView):
    @blp.arguments(s.StatusSchema)
    @blp.response(200, s.CaseSchema)
    def put(self, body, case_id: uuid.UUID):
        """Close, reopen or archive a case"""
        session, actor = get_session(), current.actor()
        return views.case_detail(session, actor, services.change_status(session, actor, case_id, body["status"]))


@blp.route("/cases/<uuid:case_id>/assign")
class CaseAssign(MethodView):
    @blp.arguments(s.AssignSchema)
    @blp.response(200, s.CaseSchema)
    def post(self, body, case_id: uuid.UUID):
        """Tildel til: assign the case to a user (or take it), or leave it unassigned in a group"""
        session, actor = get_session(), current.actor()
        return views.case_detail(session, actor, services.assign_case(session, actor, case_id, **body))


@blp.route("/cases/<uuid:case_id>/members")
class CaseMembers(MethodView):
    @blp.response(200, s.CaseMemberSchema(many=True))
    def get(self, case_id: uuid.UUID):
        """Users and groups with access to the case"""
        return services.list_members(get_session(), current.actor(), case_id)

    @blp.arguments(s.CaseMemberInputSchema)
    @blp.response(201, s.CaseMemberSchema)
    def post(self, body, case_id: uuid.UUID):
        """Give a user or group access to the case"""
        return services.add_member(
            get_session(), current.actor(), case_id, user_id=body["user_id"], group_id=body["group_id"],
            access_level=body["access"],
        )


@blp.route("/cases/<uuid:case_id>/members/<uuid:member_id>")
class CaseMemberById(MethodView):
    @blp.response(204)
    def delete(self, case_id: uuid.UUID, member_id: uuid.UUID):
        """Take a member's access away"""
        services.remove_member(get_session(), current.actor(), case_id, member_id)


@blp.route("/cases/<uuid:case_id>/parties")
class CaseParties(MethodView):
    @blp.response(200, s.PartySchema(many=True))
    def get(self, case_id: uuid.UUID):
        """The case's parties with their roles"""
        return services.list_parties(get_session(), current.actor(), case_id)

    @blp.arguments(s.PartyInputSchema)
    @blp.response(201, s.PartySchema)
    def post(self, body, case_id: uuid.UUID):
        """Add a contact as a party in a role"""
        session, actor = get_session(), current.actor()
        return services.party_view(session, actor, services.add_party(session, actor, case_id, **body))


@blp.route("/cases/<uuid:case_id>/parties/<uuid:party_id>")
class CasePartyById(MethodView):
    @blp.arguments(s.PartyUpdateSchema)
    @blp.response(200, s.PartySchema)
    def patch(self, body, case_id: uuid.UUID, party_id: uuid.UUID):
        """Change a party's role, primary flag or note"""
        session, actor = get_session(), current.actor()
        return services.party_view(session, actor, services.update_party(session, actor, case_id, party_id, body))

    @blp.response(204)
    def delete(self, case_id: uuid.UUID, party_id: uuid.UUID):
        """Remove a party from the case"""
        services.remove_party(get_session(), current.actor(), case_id, party_id)


@blp.route("/cases/<uuid:case_id>/notes")
class CaseNotes(MethodView):
    @blp.response(200, s.NoteSchema(many=True))
    def get(self, case_id: uuid.UUID):
        """The case's notes, newest first"""
        return services.list_notes(get_session(), current.actor(), case_id)

    @blp.arguments(s.NoteSchema)
    @blp.response(201, s.NoteSchema)
    def post(self, body, case_id: uuid.UUID):
        """Add a note"""
        return services.add_note(get_session(), current.actor(), case_id, **body)


@blp.route("/cases/<uuid:case_id>/notes/<uuid:note_id>")
class CaseNoteById(MethodView):
    @blp.arguments(s.NoteUpdateSchema)
    @blp.response(200, s.NoteSchema)
    def patch(self, body, case_id: uuid.UUID, note_id: uuid.UUID):
        """Change a note (its author or the case owner)"""
        return services.update_note(get_session(), current.actor(), case_id, note_id, body)


@blp.route("/cases/<uuid:case_id>/history")
class CaseHistory(MethodView):
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, case_id: uuid.UUID, pagination_parameters):
        """Every change to the case and its parts: who, when, what, before and after"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, services.history(get_session(), current.actor(), case_id, offset=offset, limit=limit))
