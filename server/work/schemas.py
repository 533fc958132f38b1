from marshmallow import Schema, fields, validate

from server.work import services
from server.work.models import TaskStatus


class TaskSchema(Schema):
    id = fields.UUID(dump_only=True)
    case_id = fields.UUID(dump_only=True)
    title = fields.Str(required=True, validate=validate.Length(min=1, max=500))
    description = fields.Str(load_default="")
    assignee_user_id = fields.UUID(allow_none=True, load_default=None,
                                   metadata={"description": "The assignee: a user or (assignee_group_id) a group, not both"})
    assignee_group_id = fields.UUID(allow_none=True, load_default=None)
    due_date = fields.Date(allow_none=True, load_default=None, metadata={"description": "YYYY-MM-DD"})
    status = fields.Enum(TaskStatus, by_value=True, dump_only=True)
    overdue = fields.Method("_overdue", dump_only=True, metadata={"description": "Open and past its due date"})
    created_by_id = fields.UUID(dump_only=True)
    completed_at = fields.DateTime(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _overdue(self, task) -> bool:
        return services.is_overdue(task)


class TaskUpdateSchema(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=500))
    description = fields.Str()
    assignee_user_id = fields.UUID(allow_none=True,
                                   metadata={"description": "Changing the assignee replaces both assignee fields"})
    assignee_group_id = fields.UUID(allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.Enum(TaskStatus, by_value=True)


class CaseTaskQuerySchema(Schema):
    status = fields.Enum(TaskStatus, by_value=True, load_default=None)


class TaskQuerySchema(Schema):
    status = fields.Enum(TaskStatus, by_value=True, load_default=None)
    overdue = fields.Bool(load_default=None, allow_none=True,
                          metadata={"description": "true: only open tasks past their due date; false: all others"})
