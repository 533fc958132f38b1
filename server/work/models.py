"""Tasks (opgaver): a piece of work for a user or a group, always tied to another object (for now a case)."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import UTC, Base, IdMixin, TimestampMixin, str_enum


class TaskStatus(str, enum.Enum):
    OPEN = "open"
    DONE = "done"


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # exactly one assignee: a user or a group
        CheckConstraint("(assignee_user_id IS NULL) <> (assignee_group_id IS NULL)", name="one_assignee"),
        Index("ix_tasks_assignee_user_id_status", "assignee_user_id", "status"),
        Index("ix_tasks_assignee_group_id_status", "assignee_group_id", "status"),
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    assignee_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    assignee_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, 10), default=TaskStatus.OPEN)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTC)
