"""Tasks (opgaver): the case page's tab, and my tasks across cases."""
from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for

from server.db import get_session
from server.web.blueprint import Pager, a_date, actor, back, bp, user_or_group, users_and_groups
from server.web.cases import _case_context
from server.work import services as tasks
from server.work import views
from server.work.models import TaskStatus


@bp.get("/cases/<uuid:case_id>/tasks")
def case_tasks(case_id: uuid.UUID):
    session, me = get_session(), actor()
    ctx = _case_context(session, me, case_id, "tasks")
    rows = views.task_views(session, me, tasks.list_case_tasks(session, me, case_id, channel="web"))
    return render_template("cases/tasks.html", **ctx, tasks=rows, **users_and_groups(session))


@bp.post("/cases/<uuid:case_id>/tasks")
def case_task_add(case_id: uuid.UUID):
    form = request.form
    assignee = user_or_group(form.get("subject"))
    tasks.create_task(get_session(), actor(), case_id, title=form.get("title", ""),
                      description=form.get("description", ""),
                      assignee_user_id=assignee.get("user_id"), assignee_group_id=assignee.get("group_id"),
                      due_date=a_date(form.get("due_date"), "due_date"))
    return redirect(url_for("web.case_tasks", case_id=case_id))


@bp.post("/tasks/<uuid:task_id>/status")
def task_status(task_id: uuid.UUID):
    status = request.form.get("status", TaskStatus.DONE.value)
    tasks.update_task(get_session(), actor(), task_id,
                      {"status": TaskStatus.OPEN if status == TaskStatus.OPEN.value else TaskStatus.DONE})
    return redirect(back("web.task_list"))


@bp.get("/tasks")
def task_list():
    session, me = get_session(), actor()
    status = request.args.get("status", TaskStatus.OPEN.value)
    flt = tasks.TaskFilter(status=TaskStatus(status) if status in {s.value for s in TaskStatus} else None,
                           overdue=True if request.args.get("overdue") == "1" else None)
    pager = Pager.from_request()
    rows, total = tasks.list_my_tasks(session, me, flt, offset=pager.offset, limit=pager.size)
    return render_template("tasks.html", tasks=views.task_views(session, me, rows), pager=pager.counted(total),
                           status=status, overdue=flt.overdue, statuses=list(TaskStatus))
