from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import UTC, Base, IdMixin, utcnow


class ArchivedConversation(IdMixin, Base):
    """A message archived from a mail client, by its conversation (Outlook conversationId, Gmail
    threadId): later messages of the same conversation are suggested for the same case."""

    __tablename__ = "archived_conversations"
    conversation_id: Mapped[str] = mapped_column(String(500), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    archived_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
