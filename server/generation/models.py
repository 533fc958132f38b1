"""Document templates with versions, and mail merges with one row per letter."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import UTC, Base, IdMixin, TimestampMixin, str_enum, utcnow


class DocumentTemplate(IdMixin, TimestampMixin, Base):
    """A dokumentskabelon: a Word file whose fields are filled from a case, a recipient or a merge row."""

    __tablename__ = "document_templates"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    document_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_types.id"))
    for_merge: Mapped[bool] = mapped_column(Boolean, default=False)  # its other fields are merge columns
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    versions: Mapped[list["TemplateVersion"]] = relationship(
        cascade="all, delete-orphan", order_by="TemplateVersion.number", lazy="selectin")
    case_templates: Mapped[list["TemplateCaseTemplate"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def current(self) -> "TemplateVersion":
        return next(v for v in self.versions if v.number == self.version)

    @property
    def case_template_ids(self) -> list[uuid.UUID]:
        return [link.case_template_id for link in self.case_templates]


class TemplateVersion(IdMixin, Base):
    __tablename__ = "document_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_templates.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)


class TemplateCaseTemplate(Base):
    """Which case templates (sagsskabeloner) offer a document template."""

    __tablename__ = "document_template_case_templates"
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_templates.id", ondelete="CASCADE"),
                                                   primary_key=True)
    case_template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_templates.id"), primary_key=True)


class MergeKind(str, enum.Enum):
    SHEET = "sheet"  # rows of a sheet filled into a template
    PDF = "pdf"  # one merged PDF split into letters by the recipient number found in each


class MergeStatus(str, enum.Enum):
    INVALID = "invalid"  # problems were found; nothing is generated
    RENDERING = "rendering"
    READY = "ready"  # every letter is a PDF, ready to send
    FAILED = "failed"
    DISPATCHED = "dispatched"


class Merge(IdMixin, TimestampMixin, Base):
    __tablename__ = "merges"
    kind: Mapped[MergeKind] = mapped_column(str_enum(MergeKind))
    status: Mapped[MergeStatus] = mapped_column(str_enum(MergeStatus))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_templates.id"))
    template_version: Mapped[int | None] = mapped_column(Integer)
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    columns: Mapped[list] = mapped_column(JSON, default=list)
    id_column: Mapped[str | None] = mapped_column(String(200))
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [{row, column, message}] (rows: sheet rows or pages)
    notes: Mapped[list] = mapped_column(JSON, default=list)  # things worth knowing that are not problems
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    rendered_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    dispatch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class MergeRow(IdMixin, Base):
    __tablename__ = "merge_rows"
    __table_args__ = (UniqueConstraint("merge_id", "row"),)
    merge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("merges.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)  # the sheet's row number, or the letter's number in a split PDF
    id_type: Mapped[str | None] = mapped_column(String(10))  # cpr | cvr | p_number
    number: Mapped[str | None] = mapped_column(String(11))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    attachments: Mapped[list] = mapped_column(JSON, default=list)  # [{filename, sha256, size, mime}]
    pages: Mapped[list] = mapped_column(JSON, default=list)  # a split PDF's pages (1-based) of this letter
    problem: Mapped[str | None] = mapped_column(Text)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    letter_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
