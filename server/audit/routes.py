from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.audit import schemas as s
from server.audit import services
from server.auth import current
from server.db import get_session

blp = blueprint("audit", "/audit", "Audit trail and access log (audit.read)")


@blp.route("/access-log")
class AccessLog(MethodView):
    @blp.arguments(s.AccessLogQuerySchema, location="query")
    @blp.response(200, s.AccessLogEntrySchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """Who read which case when"""
        offset, limit = page_window(pagination_parameters)
        result = services.query_access_log(
            get_session(), current.actor(), services.AccessLogFilter(**query), offset=offset, limit=limit
        )
        return paged(pagination_parameters, result)


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(s.ChangesQuerySchema, location="query")
    @blp.response(200, s.AuditEventSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """Every recorded change, newest first"""
        offset, limit = page_window(pagination_parameters)
        result = services.query_changes(
            get_session(), current.actor(), entity_type=query.get("entity_type"), entity_id=query.get("entity_id"),
            offset=offset, limit=limit,
        )
        return paged(pagination_parameters, result)
