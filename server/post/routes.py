import uuid

from flask import Response, current_app, send_file
from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.auth import current
from server.auth.rights import Right
from server.auth.services import require
from server.db import get_session
from server.jobs import services as jobs
from server.post import checks, dispatches, identities, stats, views
from server.post import schemas as s

blp = blueprint("post", "", "Digital Post: sender identities, dispatches, letters, recipients, statistics")


def _store():
    return current_app.extensions["sagspost.blobs"]


def _registers() -> dispatches.Registers:
    return current_app.extensions["sagspost.registers"]


@blp.route("/post/sender-identities")
class SenderIdentities(MethodView):
    @blp.response(200, s.SenderIdentitySchema(many=True))
    def get(self):
        """Sender identities (the authority's CVR and name on letters)"""
        current.actor()
        return identities.list_identities(get_session())

    @blp.arguments(s.SenderIdentitySchema)
    @blp.response(201, s.SenderIdentitySchema)
    def post(self, body):
        """Create a sender identity (post.manage)"""
        return identities.create_identity(get_session(), current.actor(), **body)


@blp.route("/post/sender-identities/<uuid:identity_id>")
class SenderIdentityById(MethodView):
    @blp.arguments(s.SenderIdentityUpdateSchema)
    @blp.response(200, s.SenderIdentitySchema)
    def patch(self, body, identity_id: uuid.UUID):
        """Rename or retire a sender identity (post.manage)"""
        return identities.update_identity(get_session(), current.actor(), identity_id, body)


@blp.route("/post/sender-identities/<uuid:identity_id>/rules")
class SendingRules(MethodView):
    @blp.response(200, s.SendingRuleSchema(many=True))
    def get(self, identity_id: uuid.UUID):
        """Who may send as this identity, and whether they need approval"""
        current.actor()
        return identities.list_rules(get_session(), identity_id)

    @blp.arguments(s.SendingRuleSchema)
    @blp.response(201, s.SendingRuleSchema)
    def post(self, body, identity_id: uuid.UUID):
        """Let a user or group send as this identity (post.manage)"""
        return identities.add_rule(get_session(), current.actor(), identity_id, **body)


@blp.route("/post/sending-rules/<uuid:rule_id>")
class SendingRuleById(MethodView):
    @blp.response(204)
    def delete(self, rule_id: uuid.UUID):
        """Remove a sending rule (post.manage)"""
        identities.remove_rule(get_session(), current.actor(), rule_id)


@blp.route("/post/recipient-check")
class RecipientCheck(MethodView):
    @blp.arguments(s.RecipientCheckSchema)
    @blp.response(200, s.RecipientCheckResultSchema)
    def post(self, body):
        """Before sending: the recipient's name and address, whether they get Digital Post, and the
        custody holders of a child under 15 (numbers in the body, never in a URL)"""
        return checks.check_recipient(get_session(), current.actor(), _registers(),
                                      current_app.extensions["sagspost.post_provider"], body["type"], body["number"])


@blp.route("/dispatches")
class Dispatches(MethodView):
    @blp.arguments(s.DispatchQuerySchema, location="query")
    @blp.response(200, s.DispatchSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """The dispatch log: mine and my groups' (all with post.approve or post.manage)"""
        session = get_session()
        offset, limit = page_window(pagination_parameters)
        items, total = dispatches.list_dispatches(session, current.actor(), status=query.get("status"), offset=offset, limit=limit)
        pagination_parameters.item_count = total
        return views.dispatch_views(session, items)

    @blp.arguments(s.DispatchCreateSchema)
    @blp.response(201, s.DispatchSchema)
    def post(self, body):
        """Send a letter to one or many recipients, now or later; every letter is checked first"""
        session = get_session()
        body["recipients"] = [dispatches.RecipientInput(**r) for r in body["recipients"]]
        dispatch = dispatches.create_dispatch(session, current.actor(), _store(), _registers(), **body)
        return views.dispatch_view(session, dispatch)


@blp.route("/dispatches/<uuid:dispatch_id>")
class DispatchById(MethodView):
    @blp.response(200, s.DispatchSchema)
    def get(self, dispatch_id: uuid.UUID):
        """One dispatch with its letters counted by status"""
        session = get_session()
        return views.dispatch_view(session, dispatches.get_dispatch(session, current.actor(), dispatch_id))


@blp.route("/dispatches/<uuid:dispatch_id>/cancel")
class DispatchCancel(MethodView):
    @blp.response(200, s.DispatchSchema)
    def post(self, dispatch_id: uuid.UUID):
        """Cancel the letters not yet sent (all of a deferred dispatch)"""
        session = get_session()
        return views.dispatch_view(session, dispatches.cancel(session, current.actor(), dispatch_id))


@blp.route("/dispatches/<uuid:dispatch_id>/approve")
class DispatchApprove(MethodView):
    @blp.response(200, s.DispatchSchema)
    def post(self, dispatch_id: uuid.UUID):
        """Approve a dispatch that needs it (post.approve; not the sender)"""
        session = get_session()
        return views.dispatch_view(session, dispatches.approve(session, current.actor(), dispatch_id))


@blp.route("/dispatches/<uuid:dispatch_id>/letters")
class DispatchLetters(MethodView):
    @blp.arguments(s.LetterQuerySchema, location="query")
    @blp.response(200, s.LetterSchema(many=True))
    @blp.paginate(page_size=100)
    def get(self, query, pagination_parameters, dispatch_id: uuid.UUID):
        """The dispatch's letters with status, channel and the provider's answer"""
        session, actor = get_session(), current.actor()
        offset, limit = page_window(pagination_parameters)
        items, total = dispatches.list_letters(session, actor, dispatch_id, status=query.get("status"), offset=offset, limit=limit)
        pagination_parameters.item_count = total
        return [views.letter_view(session, actor, letter) for letter in items]


@blp.route("/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>")
class LetterById(MethodView):
    @blp.response(200, s.LetterSchema)
    def get(self, dispatch_id: uuid.UUID, letter_id: uuid.UUID):
        """One letter"""
        session, actor = get_session(), current.actor()
        return views.letter_view(session, actor, dispatches.get_letter(session, actor, dispatch_id, letter_id))


@blp.route("/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>/preview")
class LetterPreview(MethodView):
    @blp.response(200, s.PreviewFileSchema(many=True))
    def get(self, dispatch_id: uuid.UUID, letter_id: uuid.UUID):
        """Exactly the files this recipient gets, main document first"""
        return views.preview(get_session(), current.actor(), dispatch_id, letter_id)


@blp.route("/dispatches/<uuid:dispatch_id>/letters/<uuid:letter_id>/files/<int:position>")
class LetterFile(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, dispatch_id: uuid.UUID, letter_id: uuid.UUID, position: int):
        """One of the letter's files, shown in the page (PDFs) or downloaded"""
        f = views.letter_file(get_session(), current.actor(), dispatch_id, letter_id, position)
        inline = f.mime == "application/pdf"
        response = send_file(_store().open(f.sha256), mimetype=f.mime, as_attachment=not inline, download_name=f.filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


@blp.route("/post/to-print")
class ToPrint(MethodView):
    @blp.response(200, s.LetterSchema(many=True))
    @blp.paginate(page_size=100)
    def get(self, pagination_parameters):
        """Letters set aside for print because the recipient cannot get Digital Post"""
        session, actor = get_session(), current.actor()
        offset, limit = page_window(pagination_parameters)
        items, total = views.to_print(session, actor, offset=offset, limit=limit)
        pagination_parameters.item_count = total
        return [views.letter_view(session, actor, letter) for letter in items]


@blp.route("/post/to-print.pdf")
class ToPrintPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self):
        """All letters to print, in one PDF"""
        pdf = views.combined_print_pdf(get_session(), current.actor(), _store())
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=til-print.pdf"})


@blp.route("/post/statistics")
class Statistics(MethodView):
    @blp.arguments(s.StatisticsQuerySchema, location="query")
    @blp.response(200, s.StatisticsRowSchema(many=True))
    def get(self, query):
        """Letters per month, sender identity or group, split into digital, print and failed"""
        return stats.statistics(get_session(), current.actor(), **query)


@blp.route("/post/poll")
class Poll(MethodView):
    @blp.response(202)
    def post(self):
        """Fetch receipts and replies from Digital Post now (workers also do it every few seconds)"""
        require(current.actor(), Right.POST_SEND)
        jobs.enqueue(get_session(), "post.poll", {})
