from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.auth.rights import Right


@dataclass(frozen=True)
class Principal:
    """The acting user as services see it: identity, rights and groups, resolved once per request."""

    user_id: uuid.UUID
    username: str
    rights: frozenset[str]
    group_ids: frozenset[uuid.UUID]

    def has(self, right: Right) -> bool:
        return right.value in self.rights
