"""Tasks: created and changed by those who may write to the case, read by those who may read it.

Access always follows the task's case, through the cases services: a task on a case the actor may
not read does not exist for them (404), and is never listed or counted.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import services as cases
from server.cases.access import Level
from server.db import utcnow
from server.errors import Invalid, NotFound
from server.work.models import Task, TaskStatus

_NOT_FOUND = "No such task."
_LOCAL = ZoneInfo("Europe/Copenhagen")
_EDITABLE = ("title", "description", "assignee_user_id", "assignee_group_id", "due_date", "status")


def today() -> date:
    """The date in Denmark, which decides when a due date has passed."""
    return datetime.now(_LOCAL).date()


def is_overdue(task: Task, on: date | None = None) -> bool:
    return task.status == TaskStatus.OPEN and task.due_date is not None and task.due_date < (on or today())


# ---------------------------------------------------------------- reading


def get_task(session: Session, actor: Principal, task_id: uuid.UUID, needed: Level = Level.READ) -> Task:
    """The task if the actor has `needed` access to its case; a task on a case they may not read is 404."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(_NOT_FOUND)
    try:
        cases.require_case(session, actor, task.case_id, needed)
    except NotFound:
        raise NotFound(_NOT_FOUND) from None
    return task


def list_case_tasks(
    session: Session, actor: Principal, case_id: uuid.UUID, *, status: TaskStatus | None = None, channel: str = "api"
) -> list[Task]:
    cases.read_case(session, actor, case_id, "read_tasks", channel=channel)
    stmt = select(Task).where(Task.case_id == case_id)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    return list(session.scalars(stmt.order_by(Task.status.desc(), Task.due_date.is_(None), Task.due_date, Task.created_at)))


@dataclass(frozen=True)
class TaskFilter:
    status: TaskStatus | None = None
    overdue: bool | None = None


def list_my_tasks(
    session: Session, actor: Principal, flt: TaskFilter, *, offset: int, limit: int
) -> tuple[list[Task], int]:
    """Tasks assigned to the actor or one of their groups, on cases they may read."""
    assigned = [Task.assignee_user_id == actor.user_id]
    if actor.group_ids:
        assigned.append(Task.assignee_group_id.in_(actor.group_ids))
    conds = [or_(*assigned), cases.visible_case_id(actor, Task.case_id)]
    if flt.status is not None:
        conds.append(Task.status == flt.status)
    if flt.overdue is not None:
        late = (Task.status == TaskStatus.OPEN) & Task.due_date.is_not(None) & (Task.due_date < today())
        conds.append(late if flt.overdue else ~late)
    stmt = select(Task).where(*conds)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = (Task.status.desc(), Task.due_date.is_(None), Task.due_date, Task.created_at, Task.id)
    return list(session.scalars(stmt.order_by(*order).offset(offset).limit(limit))), total


# ---------------------------------------------------------------- changing


def create_task(
    session: Session,
    actor: Principal,
    case_id: uuid.UUID,
    *,
    title: str,
    description: str = "",
    assignee_user_id: uuid.UUID | None = None,
    assignee_group_id: uuid.UUID | None = None,
    due_date: date | None = None,
) -> Task:
    case = cases.require_case(session, actor, case_id, Level.WRITE)
    title = _title(title)
    _check_assignee(session, assignee_user_id, assignee_group_id)
    task = Task(
        case_id=case.id, title=title, description=description or "", assignee_user_id=assignee_user_id,
        assignee_group_id=assignee_group_id, due_date=due_date, status=TaskStatus.OPEN, created_by_id=actor.user_id,
    )
    session.add(task)
    session.flush()
    audit.record_change(session, actor, "task.created", "task", task.id, case_id=case.id,
                        summary=f"Oprettede opgaven {title}", after=_snapshot(task))
    return task


def update_task(session: Session, actor: Principal, task_id: uuid.UUID, changes: dict) -> Task:
    """Change title, description, assignee, due date or status; the assignee is replaced as a pair."""
    task = get_task(session, actor, task_id, Level.WRITE)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise Invalid(f"Cannot change {', '.join(sorted(unknown))}.")
    before = _snapshot(task)
    if "title" in changes:
        task.title = _title(changes["title"])
    if "description" in changes:
        task.description = changes["description"] or ""
    if "assignee_user_id" in changes or "assignee_group_id" in changes:
        user_id, group_id = changes.get("assignee_user_id"), changes.get("assignee_group_id")
        _check_assignee(session, user_id, group_id)
        task.assignee_user_id, task.assignee_group_id = user_id, group_id
    if "due_date" in changes:
        task.due_date = changes["due_date"]
    if "status" in changes and changes["status"] != task.status:
        task.status = TaskStatus(changes["status"])
        task.completed_at = utcnow() if task.status == TaskStatus.DONE else None
    old, new = audit.changed_fields(before, _snapshot(task))
    if new:
        task.updated_at = utcnow()
        action = {TaskStatus.DONE: "task.completed", TaskStatus.OPEN: "task.reopened"}.get(
            task.status if "status" in new else None, "task.updated")
        summary = {"task.completed": "Afsluttede opgaven", "task.reopened": "Genåbnede opgaven"}.get(
            action, "Ændrede opgaven")
        audit.record_change(session, actor, action, "task", task.id, case_id=task.case_id,
                            summary=f"{summary} {task.title}", before=old, after=new)
    return task


def complete_task(session: Session, actor: Principal, task_id: uuid.UUID) -> Task:
    return update_task(session, actor, task_id, {"status": TaskStatus.DONE})


def _title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise Invalid.field("title", "A task needs a title.")
    if len(title) > 500:
        raise Invalid.field("title", "A title is at most 500 characters.")
    return title


def _check_assignee(session: Session, user_id: uuid.UUID | None, group_id: uuid.UUID | None) -> None:
    if (user_id is None) == (group_id is None):
        message = "Assign the task to a user or a group, not both." if user_id else "Assign the task to a user or a group."
        raise Invalid(message, errors={"assignee_user_id": [message], "assignee_group_id": [message]})
    if user_id is not None:
        try:
            user = auth.get_user(session, user_id)
        except NotFound:
            raise Invalid.field("assignee_user_id", "No such user.") from None
        if not user.active:
            raise Invalid.field("assignee_user_id", "The user is deactivated.")
    else:
        try:
            auth.get_group(session, group_id)
        except NotFound:
            raise Invalid.field("assignee_group_id", "No such group.") from None


def _snapshot(task: Task) -> dict:
    return {
        "title": task.title,
        "description": task.description,
        "assignee_user_id": task.assignee_user_id,
        "assignee_group_id": task.assignee_group_id,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "status": TaskStatus(task.status).value,
    }
