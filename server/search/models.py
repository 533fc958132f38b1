"""The search index (one row per case, document and contact) and saved searches.

`search_entries` holds what is searched and what decides who may see it. The words themselves are
indexed per backend:

- PostgreSQL: the `tsv` column, `setweight(to_tsvector('danish', title), 'A') ||
  setweight(to_tsvector('danish', body), 'B')`, written by the service on every write, with a GIN
  index. It is an ordinary column, so `create_all` and Alembic autogenerate handle it;
  `search_ddl("postgresql")` adds a storage setting that keeps the heap narrow.
- SQLite: `tsv` is an always-empty TEXT placeholder. The words live in the FTS5 table `search_fts`
  (rowid = search_entries.id) holding Danish *stems* (FTS5 has no Danish stemmer). It is not in the
  SQLAlchemy metadata; `search_ddl("sqlite")` creates it and a trigger that removes its row whenever a
  search_entries row is deleted, by whatever means. `create_all` runs that DDL through the
  after_create event below; a migration runs the same statements with `op.execute`.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import DDL, JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from server.db import UTC, Base, IdMixin, utcnow

FTS_TABLE = "search_fts"


class SearchEntry(Base):
    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id"),
        Index("ix_search_entries_case", "case_id"),
        Index("ix_search_entries_owner", "owner_user_id"),
        Index("ix_search_entries_group", "group_id"),
        Index("ix_search_entries_date", "entry_date"),
        # GIN on PostgreSQL; on SQLite a plain index on the always-NULL placeholder (harmless, and it
        # keeps the metadata the same on both backends for Alembic)
        Index("ix_search_entries_tsv", "tsv", postgresql_using="gin"),
    )

    # an integer key: it is the FTS5 rowid on SQLite
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(20))  # case | document | contact
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Who may see the entry (see services.visible): the case's readers; else the owner; else the
    # group's members; contacts: every user. No foreign keys: the index is derived data, rebuilt by
    # `sagspost reindex`, and must never block a change to what it describes.
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    group_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(1000), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    document_type_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    journal_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    entry_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    tsv: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"), deferred=True)


class SavedSearch(IdMixin, Base):
    """A user's named search; only its owner sees it."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)


# ---------------------------------------------------------------- DDL outside the metadata

_SQLITE_CREATE = [
    # Regular (not contentless) FTS5: it keeps its own copy of the stems, so a row can be deleted by
    # rowid alone (contentless tables need the deleted text again before SQLite 3.43). unicode61
    # without diacritic removal keeps æ, ø and å apart from a, o.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, body, "
    "tokenize = 'unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS search_entries_fts_delete AFTER DELETE ON search_entries "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_entries_fts_delete",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
_POSTGRES_CREATE = [
    # Move title-sized and larger values (body, tsv) out of the row into TOAST as soon as a row is
    # over 128 bytes, so the heap holds only the short columns: a search that matches tens of
    # thousands of entries reads their visibility and facet columns from ~15 MB per 100,000 rows
    # instead of ~90 MB (measured), and the GIN index answers the match without touching tsv.
    "ALTER TABLE search_entries SET (toast_tuple_target = 128)",
]
_POSTGRES_DROP = ["ALTER TABLE search_entries RESET (toast_tuple_target)"]


def search_ddl(dialect_name: str) -> list[str]:
    """The statements that complete the search index on a backend, after search_entries exists.

    For a migration: `for s in search_ddl(op.get_bind().dialect.name): op.execute(s)`. SQLite: the
    FTS5 table and its delete trigger. PostgreSQL: a storage setting (the tsv column and its GIN
    index are in the metadata).
    """
    return list({"sqlite": _SQLITE_CREATE, "postgresql": _POSTGRES_CREATE}.get(dialect_name, []))


def search_drop_ddl(dialect_name: str) -> list[str]:
    """The statements undoing search_ddl (a migration's downgrade, before dropping search_entries)."""
    return list({"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP}.get(dialect_name, []))


def is_index_internal(name: str | None) -> bool:
    """True for the FTS5 table and its shadow tables (search_fts_data, …), which are not in the
    metadata: Alembic's include_name must skip them, or autogenerate and compare_metadata on SQLite
    report them as tables to drop."""
    return bool(name) and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


def alembic_include_name(name, type_, parent_names) -> bool:
    """For `context.configure(include_name=…)` and compare_metadata's opts."""
    return not (type_ == "table" and is_index_internal(name))


for _dialect, _statements in (("sqlite", _SQLITE_CREATE), ("postgresql", _POSTGRES_CREATE)):
    for _statement in _statements:
        event.listen(SearchEntry.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
for _statement in _SQLITE_DROP:
    event.listen(SearchEntry.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
