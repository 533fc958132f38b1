"""Documents: metadata, a main file and attachments with versions, contacts, references, comments."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.admin.models import FieldValueColumns
from server.db import UTC, Base, IdMixin, TimestampMixin, str_enum


class DocumentStatus(str, enum.Enum):
    DRAFT = "draft"  # kladde
    FINAL = "final"  # endelig


class Direction(str, enum.Enum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


class FileRole(str, enum.Enum):
    MAIN = "main"  # hoveddokument
    ATTACHMENT = "attachment"  # bilag
    ORIGINAL = "original"  # the archived source, e.g. the .eml an email came from


class TextStatus(str, enum.Enum):
    PENDING = "pending"
    OK = "ok"
    EMPTY = "empty"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


class ContactRole(str, enum.Enum):
    SENDER = "sender"
    RECIPIENT = "recipient"
    COPY = "copy"


class Document(IdMixin, TimestampMixin, Base):
    """On a case (case_id), or mine (owner_user_id only), or shared in a group (shared_group_id)."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_case_updated", "case_id", "updated_at"),
        Index("ix_documents_owner", "owner_user_id", "updated_at"),
        Index("ix_documents_group", "shared_group_id", "updated_at"),
        Index("ix_documents_email", "case_id", "email_message_id"),
        Index("ix_documents_deleted", "deleted_at"),
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    folder_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_folders.id", ondelete="SET NULL"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    shared_group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    status: Mapped[DocumentStatus] = mapped_column(str_enum(DocumentStatus), default=DocumentStatus.DRAFT)
    document_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_types.id"))
    document_date: Mapped[date | None] = mapped_column(Date)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction), default=Direction.INTERNAL)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    finalised_at: Mapped[datetime | None] = mapped_column(UTC)
    finalised_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTC)
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # set when the document is an archived email: recognises the same email archived again
    email_message_id: Mapped[str | None] = mapped_column(String(500))
    email_sha256: Mapped[str | None] = mapped_column(String(64))

    files: Mapped[list["DocumentFile"]] = relationship(
        cascade="all, delete-orphan", order_by="DocumentFile.position", lazy="selectin"
    )
    contacts: Mapped[list["DocumentContact"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    tags: Mapped[list["DocumentTag"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    field_values: Mapped[list["DocumentFieldValue"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class DocumentFile(IdMixin, Base):
    """The main document or an attachment; its content is its newest version."""

    __tablename__ = "document_files"
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    role: Mapped[FileRole] = mapped_column(str_enum(FileRole))
    name: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    versions: Mapped[list["FileVersion"]] = relationship(
        cascade="all, delete-orphan", order_by="FileVersion.number", lazy="selectin"
    )


class FileVersion(IdMixin, Base):
    __tablename__ = "file_versions"
    __table_args__ = (UniqueConstraint("file_id", "number"), Index("ix_file_versions_sha256", "sha256"))
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_files.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(300))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTC)
    text_status: Mapped[TextStatus] = mapped_column(str_enum(TextStatus), default=TextStatus.PENDING)
    text_reason: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str | None] = mapped_column(Text)


class DocumentContact(IdMixin, Base):
    __tablename__ = "document_contacts"
    __table_args__ = (UniqueConstraint("document_id", "contact_id", "role"), Index("ix_document_contacts_contact", "contact_id"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole))


class DocumentTag(Base):
    __tablename__ = "document_tags"
    __table_args__ = (Index("ix_document_tags_tag", "tag"),)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class DocumentFieldValue(FieldValueColumns, Base):
    """A custom field's value on a document."""

    __tablename__ = "document_field_values"
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)


class DocumentReference(IdMixin, Base):
    """A reference from a document to another document or to a case."""

    __tablename__ = "document_references"
    __table_args__ = (
        CheckConstraint("(target_document_id IS NULL) <> (target_case_id IS NULL)", name="one_target"),
    )
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    target_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    target_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(500), default="")


class DocumentComment(IdMixin, TimestampMixin, Base):
    __tablename__ = "document_comments"
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
