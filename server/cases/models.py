"""Journal plans and keys, case templates, cases with members, parties, notes, tags and fields."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.admin.models import FieldValueColumns
from server.db import UTC, Base, IdMixin, TimestampMixin, str_enum


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class CaseAccess(str, enum.Enum):
    """public: every user may read; restricted: only owner, owning group and members."""

    PUBLIC = "public"
    RESTRICTED = "restricted"


class TemplateAccess(str, enum.Enum):
    PUBLIC = "public"  # readable by all users
    GROUP = "group"  # the template's groups (and the owner) get access
    MEMBERS = "members"  # only named members (and the owner)


class AccessLevel(str, enum.Enum):
    READ = "read"
    WRITE = "write"


class JournalPlan(IdMixin, TimestampMixin, Base):
    __tablename__ = "journal_plans"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class JournalKey(IdMixin, TimestampMixin, Base):
    """A key (journalnøgle) in a plan's tree; cases are filed only on leaves."""

    __tablename__ = "journal_keys"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_plans.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_keys.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseTemplate(IdMixin, TimestampMixin, Base):
    """A sagsskabelon: every case is created from one."""

    __tablename__ = "case_templates"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    title_pattern: Mapped[str] = mapped_column(String(500), default="{template}")
    journal_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_keys.id", ondelete="SET NULL"))
    access: Mapped[TemplateAccess] = mapped_column(str_enum(TemplateAccess), default=TemplateAccess.GROUP)
    owner_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    standard_folders: Mapped[list] = mapped_column(JSON, default=list)
    standard_documents: Mapped[list] = mapped_column(JSON, default=list)
    retention_years: Mapped[int | None] = mapped_column(Integer)
    retention_from: Mapped[str] = mapped_column(String(20), default="closed")  # closed | created
    with_work_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list["CaseTemplateMember"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CaseTemplateMember.id"
    )


class CaseTemplateMember(IdMixin, Base):
    __tablename__ = "case_template_members"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_subject"),)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_templates.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    access: Mapped[AccessLevel] = mapped_column(str_enum(AccessLevel), default=AccessLevel.WRITE)


class CaseNumberCounter(Base):
    __tablename__ = "case_number_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(IdMixin, TimestampMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_owner_user_updated", "owner_user_id", "updated_at"),
        Index("ix_cases_owner_group_updated", "owner_group_id", "updated_at"),
        Index("ix_cases_journal_key_updated", "journal_key_id", "updated_at"),
        Index("ix_cases_updated", "updated_at"),
        # "ikke tildelte": a partial index keeps the count of unassigned cases in my groups cheap
        Index(
            "ix_cases_unassigned", "owner_group_id", "updated_at",
            postgresql_where=text("owner_user_id IS NULL"), sqlite_where=text("owner_user_id IS NULL"),
        ),
    )
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_templates.id"), index=True)
    journal_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_keys.id"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    access: Mapped[CaseAccess] = mapped_column(str_enum(CaseAccess), default=CaseAccess.RESTRICTED)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    owner_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTC)
    # in the trash (papirkurv) since then; a deleted case is seen by nobody until restored
    deleted_at: Mapped[datetime | None] = mapped_column(UTC)
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    members: Mapped[list["CaseMember"]] = relationship(cascade="all, delete-orphan", order_by="CaseMember.id")
    parties: Mapped[list["CaseParty"]] = relationship(cascade="all, delete-orphan", order_by="CaseParty.created_at")
    tags: Mapped[list["CaseTag"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    field_values: Mapped[list["CaseFieldValue"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    folders: Mapped[list["CaseFolder"]] = relationship(cascade="all, delete-orphan", order_by="CaseFolder.position")


class CaseMember(IdMixin, Base):
    __tablename__ = "case_members"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id"),
        UniqueConstraint("case_id", "group_id"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_subject"),
        Index("ix_case_members_user", "user_id", "case_id"),
        Index("ix_case_members_group", "group_id", "case_id"),
    )
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    access: Mapped[AccessLevel] = mapped_column(str_enum(AccessLevel), default=AccessLevel.WRITE)


class CaseParty(IdMixin, TimestampMixin, Base):
    __tablename__ = "case_parties"
    __table_args__ = (
        UniqueConstraint("case_id", "contact_id", "role_id"),
        Index("ix_case_parties_contact", "contact_id"),
    )
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    role_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("party_roles.id"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(1000), default="")


class CaseNote(IdMixin, TimestampMixin, Base):
    __tablename__ = "case_notes"
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("note_categories.id"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class CaseTag(Base):
    __tablename__ = "case_tags"
    __table_args__ = (Index("ix_case_tags_tag", "tag"),)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class CaseFieldValue(FieldValueColumns, Base):
    """A custom field's value on a case."""

    __tablename__ = "case_field_values"
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)


class CaseFolder(IdMixin, Base):
    __tablename__ = "case_folders"
    __table_args__ = (UniqueConstraint("case_id", "name"),)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
