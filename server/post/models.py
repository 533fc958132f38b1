"""Digital Post: sender identities and rules, dispatches, letters with fixed messageUUIDs, inbound post."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import UTC, Base, IdMixin, TimestampMixin, str_enum, utcnow


class DispatchStatus(str, enum.Enum):
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"  # send_at in the future
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"  # every letter has an outcome
    CANCELLED = "cancelled"


class LetterStatus(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    TO_PRINT = "to_print"
    CANCELLED = "cancelled"


class LetterKind(str, enum.Enum):
    RECIPIENT = "recipient"
    COPY = "copy"
    GUARDIAN = "guardian"  # a copy to a custody holder of a child under 15


class Channel(str, enum.Enum):
    DIGITAL = "digital"
    PRINT = "print"


class SenderIdentity(IdMixin, TimestampMixin, Base):
    """Who a letter is from: the authority's CVR and the name recipients see."""

    __tablename__ = "sender_identities"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    cvr: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SendingRule(IdMixin, Base):
    """A user or group may send from a sender identity, maybe only after approval."""

    __tablename__ = "sending_rules"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_subject"),)
    sender_identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sender_identities.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)


class Dispatch(IdMixin, TimestampMixin, Base):
    """One send action (afsendelse) with one or many letters."""

    __tablename__ = "dispatches"
    __table_args__ = (Index("ix_dispatches_created", "created_at"), Index("ix_dispatches_creator", "created_by_id", "created_at"))
    title: Mapped[str] = mapped_column(String(256))
    sender_identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sender_identities.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))  # for statistics per group
    status: Mapped[DispatchStatus] = mapped_column(str_enum(DispatchStatus))
    send_at: Mapped[datetime | None] = mapped_column(UTC)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_notification: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    memo_version: Mapped[str] = mapped_column(String(5), default="1.2")
    actions: Mapped[list] = mapped_column(JSON, default=list)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTC)

    letters: Mapped[list["Letter"]] = relationship(back_populates="dispatch", cascade="all, delete-orphan")


class PostFile(IdMixin, Base):
    """A file of a dispatch: common to all letters (letter_id empty) or one letter's own."""

    __tablename__ = "post_files"
    __table_args__ = (Index("ix_post_files_dispatch", "dispatch_id", "letter_id"),)
    dispatch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatches.id", ondelete="CASCADE"))
    letter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # main | attachment
    filename: Mapped[str] = mapped_column(String(300))
    mime: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Letter(IdMixin, Base):
    """One message to one recipient; its messageUUID is fixed here and never changes."""

    __tablename__ = "letters"
    __table_args__ = (
        Index("ix_letters_dispatch_status", "dispatch_id", "status"),
        Index("ix_letters_status_next", "status", "next_attempt_at"),
    )
    dispatch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatches.id", ondelete="CASCADE"))
    message_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    kind: Mapped[LetterKind] = mapped_column(str_enum(LetterKind), default=LetterKind.RECIPIENT)
    copy_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("letters.id"))
    # The recipient is a contact: its CPR number is stored once, in contacts.
    recipient_contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), index=True)
    recipient_type: Mapped[str] = mapped_column(String(3))  # CPR | CVR
    p_number: Mapped[str | None] = mapped_column(String(10))
    about_contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[LetterStatus] = mapped_column(str_enum(LetterStatus), default=LetterStatus.QUEUED)
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel))
    recipient_state: Mapped[str | None] = mapped_column(String(20))
    provider_answer: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTC)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTC)
    queued_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTC)
    delivered_at: Mapped[datetime | None] = mapped_column(UTC)
    failed_at: Mapped[datetime | None] = mapped_column(UTC)
    archived_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    dispatch: Mapped[Dispatch] = relationship(back_populates="letters")


class InboundMessage(IdMixin, Base):
    """Post received (for now: replies to our letters), kept until it is filed."""

    __tablename__ = "inbound_messages"
    provider_message_id: Mapped[str] = mapped_column(String(200), unique=True)
    reply_to_letter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    filed_document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
