from flask import current_app
from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.auth import current
from server.db import get_session, utcnow
from server.retention import schemas as s
from server.retention import services

blp = blueprint("retention", "/retention", "Retention (kassation): what is due for disposal, disposing, the record")


@blp.route("/due")
class Due(MethodView):
    @blp.arguments(s.DueQuerySchema, location="query")
    @blp.response(200, s.DueSchema)
    def get(self, query):
        """Cases and documents past their retention period (retention.manage)"""
        due_cases, due_documents = services.due(get_session(), current.actor(), query["on"] or utcnow().date())
        return {"cases": due_cases, "documents": due_documents}


@blp.route("/dispose")
class Dispose(MethodView):
    @blp.arguments(s.DisposeSchema)
    @blp.response(200, s.DisposalRecordSchema(many=True))
    def post(self, body):
        """Dispose of chosen cases and documents that are past their retention (retention.manage)"""
        return services.dispose(
            get_session(), current.actor(), current_app.extensions["sagspost.blobs"], today=utcnow().date(), **body
        )


@blp.route("/disposals")
class Disposals(MethodView):
    @blp.response(200, s.DisposalRecordSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, pagination_parameters):
        """The record of what was disposed of (retention.manage)"""
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, services.list_disposals(get_session(), current.actor(), offset=offset, limit=limit))
