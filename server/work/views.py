"""Tasks as the browser shows them: with the case's number and title and the assignee's name."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import services as cases
from server.cases.access import Level
from server.work import services
from server.work.models import Task


def task_views(session: Session, actor: Principal, tasks: list[Task]) -> list[dict]:
    """Only tasks on cases the actor may read are ever passed in (the services filter them)."""
    on = services.today()
    case_of, names = {}, {}
    rows = []
    for task in tasks:
        if task.case_id not in case_of:
            case = cases.require_case(session, actor, task.case_id)
            case_of[task.case_id] = (case, cases.my_level(session, actor, case) >= Level.WRITE)
        key = ("user", task.assignee_user_id) if task.assignee_user_id else ("group", task.assignee_group_id)
        if key not in names:
            names[key] = (auth.display_name(session, key[1]) if key[0] == "user"
                          else auth.get_group(session, key[1]).name)
        case, may_write = case_of[task.case_id]
        rows.append({
            "task": task, "case_number": case.number, "case_title": case.title,
            "assignee": names[key], "assignee_is_group": key[0] == "group",
            "overdue": services.is_overdue(task, on), "may_write": may_write,
        })
    return rows
