import uuid

from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.auth import current
from server.db import get_session
from server.work import services
from server.work import schemas as s

blp = blueprint("tasks", "", "Tasks (opgaver) on cases, assigned to a user or a group")


@blp.route("/cases/<uuid:case_id>/tasks")
class CaseTasks(MethodView):
    @blp.arguments(s.CaseTaskQuerySchema, location="query")
    @blp.response(200, s.TaskSchema(many=True))
    def get(self, query, case_id: uuid.UUID):
        """The case's tasks, open ones first (read access to the case)"""
        return services.list_case_tasks(get_session(), current.actor(), case_id, status=query["status"])

    @blp.arguments(s.TaskSchema)
    @blp.response(201, s.TaskSchema)
    def post(self, body, case_id: uuid.UUID):
        """Create a task on the case, for a user or a group (write access to the case)"""
        return services.create_task(get_session(), current.actor(), case_id, **body)


@blp.route("/tasks")
class MyTasks(MethodView):
    @blp.arguments(s.TaskQuerySchema, location="query")
    @blp.response(200, s.TaskSchema(many=True))
    @blp.paginate(page_size=50)
    def get(self, query, pagination_parameters):
        """My tasks: assigned to me or to one of my groups, on cases I may read"""
        offset, limit = page_window(pagination_parameters)
        result = services.list_my_tasks(get_session(), current.actor(), services.TaskFilter(**query),
                                        offset=offset, limit=limit)
        return paged(pagination_parameters, result)


@blp.route("/tasks/<uuid:task_id>")
class TaskById(MethodView):
    @blp.response(200, s.TaskSchema)
    def get(self, task_id: uuid.UUID):
        """One task (read access to its case)"""
        return services.get_task(get_session(), current.actor(), task_id)

    @blp.arguments(s.TaskUpdateSchema)
    @blp.response(200, s.TaskSchema)
    def patch(self, body, task_id: uuid.UUID):
        """Change a task's title, description, assignee, due date or status (write access to its case)"""
        return services.update_task(get_session(), current.actor(), task_id, body)
