"""Min side: my cases, unassigned cases in my groups, my open tasks (overdue ones marked), my documents,
letters needing attention, and for approvers the dispatches waiting for them."""
from __future__ import annotations

from flask import render_template

from server.auth.rights import Right
from server.cases import services as cases
from server.db import get_session
from server.documents import services as documents
from server.post import dispatches, views as post_views
from server.post.models import DispatchStatus
from server.web.blueprint import POST_RIGHTS, actor, bp, has
from server.work import services as tasks
from server.work import views as task_views
from server.work.models import TaskStatus

SHOWN = 10


@bp.get("/")
def dashboard():
    session, me = get_session(), actor()
    mine, mine_total = cases.list_cases(session, me, cases.CaseFilter(scope="mine"), offset=0, limit=SHOWN)
    unassigned, unassigned_total = cases.list_cases(session, me, cases.CaseFilter(scope="unassigned"), offset=0, limit=SHOWN)
    my_docs, _ = documents.list_documents(session, me, documents.DocumentFilter(scope="mine"), offset=0, limit=SHOWN)
    my_tasks, tasks_total = tasks.list_my_tasks(session, me, tasks.TaskFilter(status=TaskStatus.OPEN), offset=0, limit=SHOWN)
    _late, overdue_total = tasks.list_my_tasks(session, me, tasks.TaskFilter(overdue=True), offset=0, limit=0)
    return render_template(
        "dashboard.html", mine=mine, mine_total=mine_total, unassigned=unassigned, unassigned_total=unassigned_total,
        my_docs=my_docs, tasks=task_views.task_views(session, me, my_tasks), tasks_total=tasks_total,
        overdue_total=overdue_total, attention=_letters_needing_attention(session, me) if has(me, *POST_RIGHTS) else None,
        approvals=_to_approve(session, me) if has(me, Right.POST_APPROVE) else None,
    )


def _to_approve(session, me) -> list:
    """My tasks as an approver: other people's dispatches waiting for approval."""
    waiting, _total = dispatches.list_dispatches(session, me, status=DispatchStatus.AWAITING_APPROVAL, offset=0, limit=SHOWN)
    return [d for d in waiting if d.created_by_id != me.user_id]


def _letters_needing_attention(session, me) -> dict:
    """Recent dispatches with failed letters, and how many letters wait to be printed."""
    recent, _ = dispatches.list_dispatches(session, me, offset=0, limit=50)
    failed = [d for d in post_views.dispatch_views(session, recent) if d["counts"].get("failed")]
    _, to_print = post_views.to_print(session, me, offset=0, limit=1)
    return {"failed": failed[:SHOWN], "to_print": to_print}
