"""Contacts: persons (CPR) and organisations (CVR, P-number) with their address and contact details."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, IdMixin, TimestampMixin, str_enum


class ContactKind(str, enum.Enum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Contact(IdMixin, TimestampMixin, Base):
    """A person or an organisation that can be a party to cases and receive post.

    One table for both kinds: cases refer to "a contact" without caring which kind it is, and the
    few kind-specific columns are simply empty on the other kind.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_name", "name"),
        Index("ix_contacts_cvr", "cvr"),
        Index("ix_contacts_p_number", "p_number"),
    )

    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    # Persons: the display name, derived from first and last name unless given; organisations: the name.
    name: Mapped[str] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))

    # DDMMYY-SSSS. Unique, so a person is stored once; empty for persons without a CPR number.
    cpr: Mapped[str | None] = mapped_column(String(11), unique=True)
    # Derived from the CPR number by the service, so age rules need no CPR parsing.
    birth_date: Mapped[date | None] = mapped_column(Date)
    cvr: Mapped[str | None] = mapped_column(String(8))
    p_number: Mapped[str | None] = mapped_column(String(10))

    co: Mapped[str | None] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(200))
    # ISO 3166-1 alpha-2, as Digital Post (MeMo) wants it
    country: Mapped[str | None] = mapped_column(String(2))

    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))

    def __repr__(self) -> str:
        # never the CPR number: model reprs end up in logs and tracebacks
        return f"<Contact {self.id} {self.kind.value if self.kind else '?'}>"
