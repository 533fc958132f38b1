from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.db import UTC, Base, IdMixin, utcnow


class DisposalRecord(IdMixin, Base):
    """What was disposed of (kasseret) under a retention rule, when and by whom; no personal data."""

    __tablename__ = "disposal_records"
    at: Mapped[datetime] = mapped_column(UTC, default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # case | document
    reference: Mapped[str] = mapped_column(String(100))  # the case number, or the document id
    rule: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSON)
