"""Free-text search over cases, documents and contacts: one interface, SQLite FTS5 or PostgreSQL.

Writing: domains call `index(session, IndexEntry(...))` after a create or change and
`remove(session, entity_type, entity_id)` when the thing is gone, in their own transaction.
Reading: `search(session, actor, SearchQuery(...))` answers hits, the total and facets, and only
ever counts entries the actor may see: visibility is part of the SQL, so neither the total nor a
facet count says anything about what the actor may not see.

Who may see an entry:
- a contact: every signed-in user (as with the contacts API);
- an entry with a case_id (a case, or a document on a case): whoever may read that case;
- otherwise: its owner_user_id (personal documents) or the members of its group_id;
- an entry with none of these: nobody.

CPR numbers: a contact's entry holds the masked DDMMYY-xxxx and the name, never the full number, so
searching a full CPR number finds a person only by the birth-date part (as DDMMYY-xxxx matches);
looking a person up by the full number is the contacts API's job (POST /api/contacts/search, which
needs contacts.view_cpr). A document's extracted text may contain full numbers; those match exactly.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    delete,
    extract,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    text as sql_text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.admin.models import DocumentType
from server.auth.principal import Principal
from server.cases import journal
from server.cases import services as cases
from server.db import utcnow
from server.errors import Conflict, Invalid, NotFound
from server.search import text
from server.search.models import FTS_TABLE, SavedSearch, SearchEntry

ENTITY_TYPES = ("case", "document", "contact")
TYPE_LABELS = {"case": "Sag", "document": "Dokument", "contact": "Kontakt"}
FIELDS = ("title", "body")
MAX_TITLE = 1000
MAX_BODY = 1_000_000  # characters; more text adds little to finding a thing and costs on every write
MAX_LIMIT = 100
MAX_OFFSET = 10_000
FACET_SIZE = 20  # values per facet, most frequent first
SNIPPET_SOURCE = 50_000  # characters of the body read to cut a snippet from
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0  # bm25 column weights on SQLite (PostgreSQL: weights A and B)

_E = SearchEntry.__table__
_FTS = table(FTS_TABLE, column("rowid", Integer), column("title"), column("body"))
_DANISH = literal_column("'danish'::regconfig")


# ---------------------------------------------------------------- writing


@dataclass
class IndexEntry:
    """What the index knows about one case, document or contact (see the module doc for who sees it)."""

    entity_type: str
    entity_id: uuid.UUID
    title: str
    body: str
    case_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    document_type_id: uuid.UUID | None = None
    journal_key_id: uuid.UUID | None = None
    entry_date: date | None = None


def index(session: Session, entry: IndexEntry) -> None:
    """Add or replace the entry (by entity_type and entity_id), keeping the word index in step."""
    if entry.entity_type not in ENTITY_TYPES:
        raise ValueError(f"entity_type must be one of {ENTITY_TYPES}")
    title = _clean(entry.title)[:MAX_TITLE]
    body = _clean(entry.body)[:MAX_BODY]
    values = {
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "case_id": entry.case_id,
        "owner_user_id": entry.owner_user_id,
        "group_id": entry.group_id,
        "title": title,
        "body": body,
        "document_type_id": entry.document_type_id,
        "journal_key_id": entry.journal_key_id,
        "entry_date": entry.entry_date,
        "updated_at": utcnow(),
    }
    postgres = _is_postgres(session)
    if postgres:
        values["tsv"] = _tsvector(title, body)
    insert = pg_insert if postgres else sqlite_insert
    stmt = insert(_E).values(**values)
    kept = {"entity_type", "entity_id"}
    stmt = stmt.on_conflict_do_update(
        index_elements=["entity_type", "entity_id"],
        set_={k: stmt.excluded[k] for k in values if k not in kept},
    ).returning(_E.c.id)
    row_id = session.execute(stmt).scalar_one()
    if not postgres:
        session.execute(sql_text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": row_id})
        session.execute(
            sql_text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:id, :title, :body)"),
            {"id": row_id, "title": text.stemmed_text(title), "body": text.stemmed_text(body)},
        )


def remove(session: Session, entity_type: str, entity_id: uuid.UUID) -> None:
    """Take the entry out of the index (SQLite's FTS row goes with it, by trigger); no error if absent."""
    session.execute(delete(_E).where(_E.c.entity_type == entity_type, _E.c.entity_id == entity_id))


def indexed_text(session: Session, entity_type: str, entity_id: uuid.UUID) -> tuple[str, str] | None:
    """The (title, body) the index holds for a thing, or None."""
    row = session.execute(
        select(_E.c.title, _E.c.body).where(_E.c.entity_type == entity_type, _E.c.entity_id == entity_id)
    ).first()
    return (row.title, row.body) if row else None


def _clean(value: str | None) -> str:
    # PostgreSQL text cannot hold NUL, which extracted text sometimes contains
    return (value or "").replace("\x00", " ")


def _tsvector(title: str, body: str):
    def weighted(words: str, weight: str):
        return func.setweight(func.to_tsvector(_DANISH, words), literal_column(f"'{weight}'::\"char\""))

    title_words = text.words(title)
    body_words = text.fit_tsvector(text.words(body), budget=text.TSVECTOR_BUDGET - len(" ".join(title_words)) * 3)
    return weighted(" ".join(title_words), "A").op("||")(weighted(" ".join(body_words), "B"))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------- reading


@dataclass
class SearchQuery:
    """Words (see text.parse for the little language) and filters; all filters are AND-ed.

    An empty `q` with at least one filter (types included) lists the matching entries newest first;
    with no filter at all the answer is empty. `fields` limits the words to the title or the body.
    `sort` is "relevance" (the default when there are words) or "date".
    """

    q: str = ""
    types: list[str] = field(default_factory=list)
    case_id: uuid.UUID | None = None
    document_type_id: uuid.UUID | None = None
    journal_key_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    fields: list[str] = field(default_factory=list)
    sort: str | None = None
    offset: int = 0
    limit: int = 20


@dataclass
class Hit:
    entity_type: str
    entity_id: uuid.UUID
    title: str  # plain text, to be escaped by whoever shows it
    title_html: str  # escaped, matched words in <mark>
    snippet_html: str  # escaped, matched words in <mark>
    score: float  # higher is better; comparable within one answer only
    case_id: uuid.UUID | None
    entry_date: date | None
    document_type_id: uuid.UUID | None = None
    journal_key_id: uuid.UUID | None = None


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    # facet name -> [{"value": ..., "label": ..., "count": n}], most frequent first; names:
    # type, document_type, case, journal_key, year
    facets: dict[str, list[dict]]
    offset: int = 0
    limit: int = 20


FACETS = ("type", "document_type", "case", "journal_key", "year")


def search(session: Session, actor: Principal, query: SearchQuery) -> SearchResult:
    """The visible entries matching the query: a page of hits, how many there are, and facets."""
    _check(query)
    if query.case_id is not None:
        cases.require_case(session, actor, query.case_id)  # contextual search: 404 if not readable
    parsed = text.parse(query.q)
    filters = _filters(query)
    if not parsed and not filters:
        return SearchResult([], 0, {name: [] for name in FACETS}, query.offset, query.limit)
    backend = _Postgres(parsed, query.fields) if _is_postgres(session) else _Sqlite(parsed, query.fields)
    where = [visible(actor), *filters, *backend.where()]

    facets, total = _facets(session, backend, where)
    hits = _hits(session, backend, where, query, parsed) if total else []
    return SearchResult(hits, total, facets, query.offset, query.limit)


def visible(actor: Principal):
    """A WHERE clause on search_entries: true exactly for the entries the actor may see."""
    conditions = [
        _E.c.entity_type == "contact",
        and_(_E.c.case_id.is_not(None), cases.visible_case_id(actor, _E.c.case_id)),
        and_(_E.c.case_id.is_(None), _E.c.owner_user_id == actor.user_id),
    ]
    if actor.group_ids:
        conditions.append(and_(_E.c.case_id.is_(None), _E.c.group_id.in_(actor.group_ids)))
    return or_(*conditions)


def _check(query: SearchQuery) -> None:
    unknown = sorted(set(query.types) - set(ENTITY_TYPES))
    if unknown:
        raise Invalid.field("types", f"Search types are {', '.join(ENTITY_TYPES)}; not {', '.join(unknown)}.")
    if set(query.fields) - set(FIELDS):
        raise Invalid.field("fields", "Search fields are title and body.")
    if query.sort not in (None, "relevance", "date"):
        raise Invalid.field("sort", "Sort by relevance or date.")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise Invalid.field("limit", f"The limit is 1 to {MAX_LIMIT}.")
    if not 0 <= query.offset <= MAX_OFFSET:
        raise Invalid.field("offset", f"The offset is 0 to {MAX_OFFSET}.")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise Invalid.field("date_to", "The period ends before it begins.")


def _filters(query: SearchQuery) -> list:
    conds = []
    if query.types:
        conds.append(_E.c.entity_type.in_(sorted(set(query.types))))
    for name in ("case_id", "document_type_id", "journal_key_id"):
        value = getattr(query, name)
        if value is not None:
            conds.append(_E.c[name] == value)
    if query.date_from:
        conds.append(_E.c.entry_date >= query.date_from)
    if query.date_to:
        conds.append(_E.c.entry_date <= query.date_to)
    return conds


class _Sqlite:
    """FTS5 over Danish stems; bm25 with the title weighted above the body (lower bm25 is better)."""

    def __init__(self, parsed: text.ParsedQuery, fields: list[str]):
        self.parsed = parsed
        self.columns = tuple(f for f in FIELDS if f in fields) if set(fields) != set(FIELDS) else ()

    def source(self):
        return _E.join(_FTS, _FTS.c.rowid == _E.c.id) if self.parsed else _E

    def where(self) -> list:
        if not self.parsed:
            return []
        match = bindparam("fts_query", self.parsed.fts5(self.columns), type_=String)
        return [literal_column(FTS_TABLE).op("MATCH")(match)]

    def rank(self):
        if not self.parsed:
            return literal(0.0)
        return -func.bm25(literal_column(FTS_TABLE), literal_column(str(TITLE_WEIGHT)), literal_column(str(BODY_WEIGHT)))


class _Postgres:
    """The tsv column (GIN) against to_tsquery('danish', …); ts_rank_cd, title weight A, body B."""

    def __init__(self, parsed: text.ParsedQuery, fields: list[str]):
        self.parsed = parsed
        only = [f for f in FIELDS if f in fields] if set(fields) != set(FIELDS) else []
        self.weights = "".join({"title": "A", "body": "B"}[f] for f in only)

    def source(self):
        return _E

    def _tsquery(self):
        return func.to_tsquery(_DANISH, bindparam("ts_query", self.parsed.tsquery(self.weights), type_=String))

    def where(self) -> list:
        return [_E.c.tsv.op("@@")(self._tsquery())] if self.parsed else []

    def rank(self):
        if not self.parsed:
            return literal(0.0)
        # normalisation 1: divided by 1 + log(length), so long texts do not win on length alone
        return func.ts_rank_cd(_E.c.tsv, self._tsquery(), 1)


def _facets(session: Session, backend, where: list) -> tuple[dict[str, list[dict]], int]:
    """The total and every facet in one statement over the visible matching set."""
    matched = (
        select(
            _E.c.entity_type,
            _E.c.document_type_id,
            _E.c.case_id,
            _E.c.journal_key_id,
            extract("year", _E.c.entry_date).label("year"),
        )
        .select_from(backend.source())
        .where(*where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    n = func.count().label("n")
    parts = [select(literal("total").label("facet"), cast(null(), String).label("value"), n).select_from(matched)]
    for name, col in (
        ("type", matched.c.entity_type),
        ("document_type", matched.c.document_type_id),
        ("case", matched.c.case_id),
        ("journal_key", matched.c.journal_key_id),
        ("year", matched.c.year),
    ):
        parts.append(
            select(literal(name).label("facet"), cast(col, String).label("value"), n)
            .where(col.is_not(None))
            .group_by(col)
        )
    rows = session.execute(union_all(*parts)).all()
    total = 0
    grouped: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    for facet, value, count in rows:
        if facet == "total":
            total = count
        else:
            grouped[facet].append((value, count))
    facets = {}
    for name, values in grouped.items():
        values.sort(key=lambda vc: (-vc[1], vc[0]))
        facets[name] = _labelled(session, name, values[:FACET_SIZE])
    return facets, total


def _labelled(session: Session, name: str, values: list[tuple[str, int]]) -> list[dict]:
    if name == "type":
        return [{"value": v, "label": TYPE_LABELS.get(v, v), "count": c} for v, c in values]
    if name == "year":
        return [{"value": int(float(v)), "label": str(int(float(v))), "count": c} for v, c in values]
    ids = [(uuid.UUID(v), c) for v, c in values]
    labels = _uuid_labels(session, name, [i for i, _ in ids])
    return [{"value": i, "label": labels.get(i), "count": c} for i, c in ids]


def _uuid_labels(session: Session, name: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    if name == "case":
        # from the cases' own entries: a case appears in the facet only if the actor may read it
        rows = session.execute(
            select(_E.c.entity_id, _E.c.title).where(_E.c.entity_type == "case", _E.c.entity_id.in_(ids))
        )
        return {r.entity_id: r.title for r in rows}
    if name == "document_type":
        wanted = set(ids)
        return {t.id: t.name for t in lists.list_named(session, DocumentType, include_inactive=True) if t.id in wanted}
    labels = {}
    for key_id in ids:
        try:
            labels[key_id] = journal.key_label(journal.get_key(session, key_id))
        except NotFound:
            pass
    return labels


def _hits(session: Session, backend, where: list, query: SearchQuery, parsed: text.ParsedQuery) -> list[Hit]:
    # First the page's ids in rank order, then their rows: sorting carries two numbers per match,
    # not titles and bodies.
    rank = backend.rank().label("rank")
    by_date = query.sort == "date" or not parsed
    order = (
        [_E.c.entry_date.desc().nulls_last(), _E.c.updated_at.desc(), _E.c.id]
        if by_date
        else [rank.desc(), _E.c.entry_date.desc().nulls_last(), _E.c.id]
    )
    page = session.execute(
        select(_E.c.id, rank).select_from(backend.source()).where(*where)
        .order_by(*order).offset(query.offset).limit(query.limit)
    ).all()
    if not page:
        return []
    scores = {row.id: float(row.rank or 0.0) for row in page}
    rows = {
        r.id: r
        for r in session.execute(
            select(
                _E.c.id, _E.c.entity_type, _E.c.entity_id, _E.c.title,
                func.substr(_E.c.body, 1, SNIPPET_SOURCE).label("body"),
                _E.c.case_id, _E.c.entry_date, _E.c.document_type_id, _E.c.journal_key_id,
            ).where(_E.c.id.in_(list(scores)))
        )
    }
    terms = parsed.highlight_terms()
    hits = []
    for row_id in scores:  # page order
        r = rows[row_id]
        hits.append(Hit(
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            title=r.title,
            title_html=text.mark(r.title, terms),
            snippet_html=text.snippet(r.body, terms),
            score=round(scores[row_id], 6),
            case_id=r.case_id,
            entry_date=r.entry_date,
            document_type_id=r.document_type_id,
            journal_key_id=r.journal_key_id,
        ))
    return hits


# ---------------------------------------------------------------- saved searches


def list_saved(session: Session, actor: Principal) -> list[SavedSearch]:
    stmt = select(SavedSearch).where(SavedSearch.user_id == actor.user_id).order_by(SavedSearch.name)
    return list(session.scalars(stmt))


def get_saved(session: Session, actor: Principal, saved_id: uuid.UUID) -> SavedSearch:
    saved = session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != actor.user_id:  # another user's is as absent as a missing one
        raise NotFound("No such saved search.")
    return saved


def save_search(session: Session, actor: Principal, name: str, query: SearchQuery) -> SavedSearch:
    name = (name or "").strip()
    if not name:
        raise Invalid.field("name", "A saved search needs a name.")
    _check(query)
    exists = session.scalar(select(SavedSearch.id).where(SavedSearch.user_id == actor.user_id, SavedSearch.name == name))
    if exists is not None:
        raise Conflict(f"You already have a saved search named {name!r}.")
    saved = SavedSearch(user_id=actor.user_id, name=name, query=query_to_json(query))
    session.add(saved)
    session.flush()
    return saved


def delete_saved(session: Session, actor: Principal, saved_id: uuid.UUID) -> None:
    session.delete(get_saved(session, actor, saved_id))
    session.flush()


def run_saved(session: Session, actor: Principal, saved_id: uuid.UUID, *, offset: int = 0, limit: int = 20) -> SearchResult:
    query = query_from_json(get_saved(session, actor, saved_id).query)
    query.offset, query.limit = offset, limit
    return search(session, actor, query)


_UUIDS = ("case_id", "document_type_id", "journal_key_id")
_DATES = ("date_from", "date_to")


def query_to_json(query: SearchQuery) -> dict:
    """The query as stored: plain JSON, without the page window."""
    data = asdict(query)
    data.pop("offset"), data.pop("limit")
    for name in _UUIDS + _DATES:
        if data[name] is not None:
            data[name] = str(data[name]) if name in _UUIDS else data[name].isoformat()
    return data


def query_from_json(data: dict) -> SearchQuery:
    values = {k: v for k, v in data.items() if k in SearchQuery.__dataclass_fields__}
    for name in _UUIDS:
        if values.get(name):
            values[name] = uuid.UUID(values[name])
    for name in _DATES:
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    return SearchQuery(**values)


# ---------------------------------------------------------------- rebuilding

# entity_type -> fn(session, batch_size) yielding lists of entries; each list is committed before
# the next is asked for, so a reindexer must not hold a cursor open across yields (see batches_by_id)
Reindexer = Callable[[Session, int], Iterator[list[IndexEntry]]]
_REINDEXERS: dict[str, Reindexer] = {}


def register_reindexer(entity_type: str, fn: Reindexer) -> None:
    """Let `sagspost reindex` rebuild one entity type; call it when your module is imported."""
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"entity_type must be one of {ENTITY_TYPES}")
    _REINDEXERS[entity_type] = fn


def reindexers() -> dict[str, Reindexer]:
    from server.search import feeds  # cases and contacts; feeds imports their services

    return {"case": feeds.reindex_cases, "contact": feeds.reindex_contacts, **_REINDEXERS}


def batches_by_id(session: Session, model, batch_size: int, to_entry: Callable, *where) -> Iterator[list[IndexEntry]]:
    """Rows of `model` in id order, `batch_size` at a time by keyset (no cursor held between
    batches), turned into entries by `to_entry(session, row)`; a None entry is skipped."""
    last = None
    while True:
        stmt = select(model).where(*where).order_by(model.id).limit(batch_size)
        if last is not None:
            stmt = stmt.where(model.id > last)
        rows = list(session.scalars(stmt))
        if not rows:
            return
        last = rows[-1].id
        yield [e for e in (to_entry(session, row) for row in rows) if e is not None]


def reindex(make_session: Callable[[], Session], *, batch_size: int = 500, types: list[str] | None = None,
            progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rebuild the index for each entity type with a reindexer: every entity is indexed again, in
    batches each committed on its own (search keeps working meanwhile), then entries that were not
    refreshed, whose entity is gone, are removed. Answers the count indexed per type."""
    counts = {}
    for entity_type, fn in reindexers().items():
        if types and entity_type not in types:
            continue
        started = utcnow()
        session = make_session()
        try:
            count = 0
            for batch in fn(session, batch_size):
                for entry in batch:
                    index(session, entry)
                session.commit()
                session.expunge_all()
                count += len(batch)
                if progress:
                    progress(entity_type, count)
            session.execute(delete(_E).where(_E.c.entity_type == entity_type, _E.c.updated_at < started))
            session.commit()
            counts[entity_type] = count
        finally:
            session.close()
    session = make_session()
    try:
        if not _is_postgres(session):
            # rows left behind by a database written without the trigger, then merge FTS segments
            session.execute(sql_text(f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM search_entries)"))
            session.execute(sql_text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')"))
            session.commit()
    finally:
        session.close()
    return counts

