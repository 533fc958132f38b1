import uuid

from flask.views import MethodView

from server.api import blueprint
from server.auth import current
from server.db import get_session
from server.search import schemas as s
from server.search import services

blp = blueprint("search", "", "Free-text search over cases, documents and contacts; saved searches")


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(s.SearchRequestSchema)
    @blp.response(200, s.SearchResultSchema)
    def post(self, body):
        """Search what the caller may see; with case_id, within that case"""
        return services.search(get_session(), current.actor(), services.SearchQuery(**body))


@blp.route("/saved-searches")
class SavedSearches(MethodView):
    @blp.response(200, s.SavedSearchSchema(many=True))
    def get(self):
        """The caller's saved searches"""
        return services.list_saved(get_session(), current.actor())

    @blp.arguments(s.SavedSearchInputSchema)
    @blp.response(201, s.SavedSearchSchema)
    def post(self, body):
        """Save a search under a name (unique per user)"""
        query = services.SearchQuery(**body["query"])
        return services.save_search(get_session(), current.actor(), body["name"], query)


@blp.route("/saved-searches/<uuid:saved_id>")
class SavedSearchById(MethodView):
    @blp.response(200, s.SavedSearchSchema)
    def get(self, saved_id: uuid.UUID):
        """One of the caller's saved searches"""
        return services.get_saved(get_session(), current.actor(), saved_id)

    @blp.response(204)
    def delete(self, saved_id: uuid.UUID):
        """Delete one of the caller's saved searches"""
        services.delete_saved(get_session(), current.actor(), saved_id)


@blp.route("/saved-searches/<uuid:saved_id>/run")
class SavedSearchRun(MethodView):
    @blp.arguments(s.PageSchema)
    @blp.response(200, s.SearchResultSchema)
    def post(self, body, saved_id: uuid.UUID):
        """Run a saved search (body: offset and limit, both optional)"""
        return services.run_saved(get_session(), current.actor(), saved_id, **body)
