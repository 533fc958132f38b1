"""Administrable lists: party roles, note categories, custom field definitions."""
from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from server.db import Base, IdMixin, TimestampMixin, str_enum


class PartyRole(IdMixin, TimestampMixin, Base):
    __tablename__ = "party_roles"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class NoteCategory(IdMixin, TimestampMixin, Base):
    __tablename__ = "note_categories"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FieldType(str, enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class FieldEntity(str, enum.Enum):
    CASE = "case"
    CONTACT = "contact"
    DOCUMENT = "document"


class CustomField(IdMixin, TimestampMixin, Base):
    """A configurable field (konfigurerbart felt) on cases, contacts or documents."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("entity", "key"),)
    entity: Mapped[FieldEntity] = mapped_column(str_enum(FieldEntity))
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType))
    choices: Mapped[list | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FieldValueColumns:
    """A custom field's value in the column that fits its type, so it can be searched and compared
    as what it is; the value tables of cases and documents are this and their owner's id."""

    @declared_attr.directive
    def __table_args__(cls):
        # per table: a field's values found by value, as filters and searches ask
        kinds = ("text", "number", "date")
        return tuple(Index(f"ix_{cls.__tablename__}_{kind}", "field_id", f"value_{kind}") for kind in kinds)

    field_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True)
    value_text: Mapped[str | None] = mapped_column(String(1000))
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    value_date: Mapped[date | None] = mapped_column(Date)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)


class DocumentType(IdMixin, TimestampMixin, Base):
    """A dokumenttype (brev, faktura, notat …) with its default retention."""

    __tablename__ = "document_types"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_years: Mapped[int | None] = mapped_column(Integer)


class FileTypeRule(IdMixin, TimestampMixin, Base):
    """An allowed (or refused) file type, matched on the MIME type found from the file's content."""

    __tablename__ = "file_type_rules"
    mime: Mapped[str] = mapped_column(String(200), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)


class Setting(Base):
    """One administrable setting (key → JSON value); the code names the keys and their defaults."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)
