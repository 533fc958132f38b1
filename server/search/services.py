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
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
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
    true,
    text as sql_text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from server.admin import services as lists
from server.admin.models import DocumentType, FieldEntity
from server.auth.principal import Principal
from server.cases import journal
from server.cases import services as cases
from server.cases.models import Case  # only its id column, to list the readable cases
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
COUNT_LIMIT = 10_000  # matches counted (and faceted) at most; SearchResult.exact says when there were more
RANK_WINDOW = 500  # relevance is computed among this many newest matches
SNIPPET_SOURCE = 20_000  # characters of the body read to cut a snippet from (its first matches are there)
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0  # bm25 column weights on SQLite (PostgreSQL: weights A and B)

_E = SearchEntry.__table__
_FTS = table(FTS_TABLE, column("rowid", Integer), column("title"), column("body"))
_DANISH = literal_column("'danish'::regconfig")
_PLANNER = (("enable_seqscan", "off"), ("enable_indexscan", "off"), ("jit", "off"))


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
    postgres = _is_postgres(session)
    values = _row(entry, postgres)
    insert = pg_insert if postgres else sqlite_insert
    stmt = insert(_E).values(**values)
    kept = {"entity_type", "entity_id"}
    stmt = stmt.on_conflict_do_update(
        index_elements=["entity_type", "entity_id"],
        set_={k: stmt.excluded[k] for k in values if k not in kept},
    ).returning(_E.c.id)
    row_id = session.execute(stmt).scalar_one()
    if not postgres:
        session.execute(sql_text(_FTS_DELETE), {"id": row_id})
        session.execute(sql_text(_FTS_INSERT), _fts_row(row_id, values["title"], values["body"]))


_FTS_INSERT = f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (:id, :title, :body)"
_FTS_DELETE = f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"


def index_new(session: Session, entries: list[IndexEntry]) -> None:
    """Add entries for things just created (none can be in the index yet), as one statement executed
    for many rows: the thousands of recipients a dispatch may create."""
    _index_rows(session, entries, replace=False)


def index_many(session: Session, entries: list[IndexEntry]) -> None:
    """Add or replace many entries at once (a batch of documents whose text was just extracted):
    index() for many rows, as one statement."""
    _index_rows(session, entries, replace=True)


def _index_rows(session: Session, entries: list[IndexEntry], *, replace: bool) -> None:
    if not entries:
        return
    postgres = _is_postgres(session)
    rows = [_row(entry, postgres=False) for entry in entries]
    statement = (pg_insert if postgres else sqlite_insert)(_E)
    if postgres:  # the weighted tsvector computed in SQL from each row's words, as index() does
        statement = statement.values(tsv=_tsvector_of(bindparam("title_words"), bindparam("body_words")))
        for row in rows:
            row["title_words"], row["body_words"] = _tsvector_words(row["title"], row["body"])
    if replace:
        replaced = [k for k in rows[0] if k in _E.c and k not in ("entity_type", "entity_id")] + (["tsv"] if postgres else [])
        statement = statement.on_conflict_do_update(
            index_elements=["entity_type", "entity_id"], set_={k: statement.excluded[k] for k in replaced})
    if postgres:
        session.execute(statement, rows)
        return
    added = session.execute(statement.returning(_E.c.id, _E.c.title, _E.c.body), rows).all()
    if replace:  # an updated row keeps its id; its old words go first
        session.execute(sql_text(_FTS_DELETE), [{"id": r.id} for r in added])
    session.execute(sql_text(_FTS_INSERT), [_fts_row(r.id, r.title, r.body) for r in added])


def _row(entry: IndexEntry, postgres: bool) -> dict:
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
    if postgres:
        values["tsv"] = _tsvector(title, body)
    return values


def _fts_row(row_id: int, title: str, body: str) -> dict:
    return {"id": row_id, "title": text.stemmed_text(title), "body": text.stemmed_text(body)}


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
    title_words, body_words = _tsvector_words(title, body)
    return _tsvector_of(title_words, body_words)


def _tsvector_words(title: str, body: str) -> tuple[str, str]:
    title_words = text.words(title)
    body_words = text.fit_tsvector(text.words(body), budget=text.TSVECTOR_BUDGET - len(" ".join(title_words)) * 3)
    return " ".join(title_words), " ".join(body_words)


def _tsvector_of(title_words, body_words):
    def weighted(words, weight: str):
        return func.setweight(func.to_tsvector(_DANISH, words), literal_column(f"'{weight}'::\"char\""))

    return weighted(title_words, "A").op("||")(weighted(body_words, "B"))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------- reading


@dataclass
class SearchQuery:
    """Words (see text.parse for the little language) and filters; all filters are AND-ed.

    An empty `q` with at least one filter (types included) lists the matching entries newest first;
    with no filter at all the answer is empty. `fields` limits the words to the title or the body.
    `sort` is "relevance" (the default when there are words) or "date". `custom_fields` finds the
    cases or documents (as the field is defined for) with a value: {"field_id", "value"}, or for a
    number or date field {"field_id", "from", "to"} (either bound may be left out).
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
    custom_fields: list[dict] = field(default_factory=list)
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
    # False when more than COUNT_LIMIT entries match: total is then COUNT_LIMIT (read "at least") and
    # the facets count the first COUNT_LIMIT matches found, not all of them
    exact: bool = True


FACETS = ("type", "document_type", "case", "journal_key", "year")


def search(session: Session, actor: Principal, query: SearchQuery) -> SearchResult:
    """The visible entries matching the query: a page of hits, how many there are, and facets.

    Cost is bounded for queries that match much of the index (the p95 target is 50 ms over 100,000
    documents on PostgreSQL): counting and facets stop at COUNT_LIMIT matches (`exact` says so),
    and relevance is computed among the RANK_WINDOW newest matches (by entry_date). A query that
    matches fewer than RANK_WINDOW entries, which is nearly every real one, is ranked exactly.
    """
    _check(query)
    if query.case_id is not None:
        cases.require_case(session, actor, query.case_id)  # contextual search: 404 if not readable
    parsed = text.parse(query.q)
    filters = _filters(session, query)
    if not parsed and not filters:
        return SearchResult([], 0, {name: [] for name in FACETS}, query.offset, query.limit)
    backend = _Postgres(session, parsed, query.fields) if _is_postgres(session) else _Sqlite(session, parsed, query.fields)
    where = [visible(actor), *backend.filters(filters), *backend.where()]
    by_date = query.sort == "date" or not parsed
    with backend.tuned():
        counted, page = _matches(session, backend, where, query, by_date)
        if by_date and counted.get("total"):
            page = _page_by_date(session, backend, where, query)
    facets, total, exact = _facets(session, counted)
    hits = _hits(session, page, parsed)
    return SearchResult(hits, total, facets, query.offset, query.limit, exact)


def visible(actor: Principal):
    """A WHERE clause on search_entries: true exactly for the entries the actor may see.

    Written as the rule reads, a CASE: a contact, everyone; an entry on a case, that case's
    readers; else its owner or its group's members. As a CASE no index can serve it, which is the
    point: PostgreSQL must find the matches through the GIN index, never by scanning every entry
    of every case and testing each one's text. The readable cases are an uncorrelated IN (SELECT
    …), hashed once per query rather than looked up entry by entry.
    """
    readable = aliased(Case, name="readable_case")
    readable_ids = select(readable.id).where(cases.visible_case_id(actor, readable.id))
    own = _E.c.owner_user_id == actor.user_id
    if actor.group_ids:
        own = or_(own, _E.c.group_id.in_(actor.group_ids))
    return case(
        (_E.c.entity_type == "contact", true()),
        (_E.c.case_id.is_not(None), _E.c.case_id.in_(readable_ids)),
        else_=own,
    )


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
    if any(not wanted.get("field_id") or all(wanted.get(k) is None for k in ("value", "from", "to"))
           for wanted in query.custom_fields):
        raise Invalid.field("custom_fields", "A custom field filter is a field_id with a value, or from and to.")


def _filters(session: Session, query: SearchQuery) -> list[tuple[str, object]]:
    """(name, condition) for each filter given."""
    conds = []
    if query.types:
        conds.append(("types", _E.c.entity_type.in_(sorted(set(query.types)))))
    for name in ("case_id", "document_type_id", "journal_key_id"):
        value = getattr(query, name)
        if value is not None:
            conds.append((name, _E.c[name] == value))
    if query.date_from:
        conds.append(("date_from", _E.c.entry_date >= query.date_from))
    if query.date_to:
        conds.append(("date_to", _E.c.entry_date <= query.date_to))
    conds.extend(("custom_fields", _custom_field_filter(session, wanted)) for wanted in query.custom_fields)
    return conds


def _custom_field_filter(session: Session, wanted: dict):
    """The entries of the cases or documents with the value, as the domain owning the field says."""
    from server.documents import services as documents  # documents import this module to index themselves

    try:
        definition = lists.get_field(session, uuid.UUID(str(wanted["field_id"])))
    except (NotFound, ValueError):
        raise Invalid.field("custom_fields", f"No custom field has the id {wanted['field_id']}.") from None
    owners = {FieldEntity.CASE: ("case", cases.having_field_value),
              FieldEntity.DOCUMENT: ("document", documents.having_field_value)}
    if definition.entity not in owners:
        raise Invalid.field("custom_fields", f"{definition.label} is a {definition.entity.value} field; "
                                             "search filters by case and document fields.")
    entity_type, having = owners[definition.entity]
    matches = having(_E.c.entity_id, definition, value=wanted.get("value"), low=wanted.get("from"), high=wanted.get("to"))
    return and_(_E.c.entity_type == entity_type, matches)


class _Sqlite:
    """FTS5 over Danish stems; bm25 with the title weighted above the body (lower bm25 is better)."""

    def __init__(self, session: Session, parsed: text.ParsedQuery, fields: list[str]):
        self.parsed = parsed
        columns = tuple(f for f in FIELDS if f in fields) if set(fields) != set(FIELDS) else ()
        self.query = bindparam("fts_query", parsed.fts5(columns), type_=String) if parsed else None

    def source(self):
        return _E.join(_FTS, _FTS.c.rowid == _E.c.id) if self.parsed else _E

    def where(self) -> list:
        if not self.parsed:
            return []
        return [literal_column(FTS_TABLE).op("MATCH")(self.query)]

    def filters(self, filters: list[tuple[str, object]]) -> list:
        return [cond for _, cond in filters]

    def ranked(self, window):
        """(id, rank) of the entries in `window` (a subquery of ids), for the query's words."""
        rank = -func.bm25(literal_column(FTS_TABLE), literal_column(str(TITLE_WEIGHT)), literal_column(str(BODY_WEIGHT)))
        return (
            select(_E.c.id, _E.c.entry_date, rank.label("rank"))
            .select_from(self.source())
            .where(*self.where(), _E.c.id.in_(select(window.c.id)))
        )

    def tuned(self):
        return nullcontext()

    def facet_selects(self, m) -> list:
        """(facet, value, n, pos) rows: the total and a GROUP BY per facet over the matches."""
        n = cast(func.count(), Float)
        parts = [select(literal("total"), cast(null(), String), n, cast(null(), Integer)).select_from(m)]
        for name, col in _facet_columns(m):
            parts.append(
                select(literal(name), cast(col, String), n, cast(null(), Integer)).where(col.is_not(None)).group_by(col)
            )
        return parts


class _Postgres:
    """The tsv column (GIN) against to_tsquery('danish', …); ts_rank_cd, title weight A, body B."""

    def __init__(self, session: Session, parsed: text.ParsedQuery, fields: list[str]):
        self.session = session
        self.parsed = parsed
        only = [f for f in FIELDS if f in fields] if set(fields) != set(FIELDS) else []
        weights = "".join({"title": "A", "body": "B"}[f] for f in only)
        self.query = bindparam("ts_query", parsed.tsquery(weights), type_=String) if parsed else None

    def source(self):
        return _E

    def _tsquery(self):
        return func.to_tsquery(_DANISH, self.query)

    def where(self) -> list:
        return [_E.c.tsv.op("@@")(self._tsquery())] if self.parsed else []

    def filters(self, filters: list[tuple[str, object]]) -> list:
        """With words to match, a type or a period must not lead the planner to its index (then
        testing the words on each of tens of thousands of rows, see tuned): `IS TRUE` means the
        same in a WHERE and no index serves it. A case's entries are few; its index may lead."""
        if not self.parsed:
            return [cond for _, cond in filters]
        return [cond if name == "case_id" else cond.is_(True) for name, cond in filters]

    def ranked(self, window):
        # normalisation 1: divided by 1 + log(length), so long texts do not win on length alone
        rank = func.ts_rank_cd(_E.c.tsv, self._tsquery(), 1)
        return select(_E.c.id, _E.c.entry_date, rank.label("rank")).join(window, window.c.id == _E.c.id)

    @contextmanager
    def tuned(self):
        """Make the planner find text matches through the GIN index, for this search only.

        It prices testing `tsv @@ query` on a row at almost nothing, but every test detoasts and
        decompresses a tsvector (kilobytes), while the GIN index answers without reading one. Left
        alone it scans the table, or another index, and tests each row: 0.2 to 2 s instead of
        20 ms for a word found in many entries of 100,000 (measured). With sequential and plain
        index scans off only bitmap scans remain, and the only indexable condition of a search is
        the GIN match (the visibility CASE is not indexable). JIT would only add compile time.
        A listing without words is left to the planner.
        """
        if not self.parsed:
            yield
            return
        settings = _PLANNER
        for name, value in settings:
            self.session.execute(sql_text(f"SET LOCAL {name} = {value}"))
        try:
            yield
        finally:
            for name, _ in settings:
                self.session.execute(sql_text(f"SET LOCAL {name} TO DEFAULT"))

    def facet_selects(self, m) -> list:
        """(facet, value, n, pos) rows in one pass over the matches: GROUPING SETS, one per facet
        and () for the total; in each set the other facets' columns are NULL."""
        cols = dict(_facet_columns(m))
        facet = case(*((func.grouping(col) == 0, literal(name)) for name, col in cols.items()), else_=literal("total"))
        value = func.coalesce(*(cast(col, String) for col in cols.values()))
        grouping = func.grouping_sets(*(tuple_(col) for col in cols.values()), tuple_())
        return [select(facet, value, cast(func.count(), Float), cast(null(), Integer)).select_from(m).group_by(grouping)]


def _facet_columns(m):
    return (
        ("type", m.c.entity_type),
        ("document_type", m.c.document_type_id),
        ("case", m.c.case_id),
        ("journal_key", m.c.journal_key_id),
        ("year", m.c.year),
    )


def _matches(session: Session, backend, where: list, query: SearchQuery, by_date: bool):
    """One statement, one pass over the visible matches (the first COUNT_LIMIT + 1 found): the total
    and facets, and unless ordering by date, the page of hits by relevance among the RANK_WINDOW
    newest of those matches. Answers ({facet: [(value, count)], "total": n}, [(id, score)])."""
    matched = (
        select(
            _E.c.id,
            _E.c.entry_date,
            _E.c.entity_type,
            _E.c.document_type_id,
            _E.c.case_id,
            _E.c.journal_key_id,
            cast(extract("year", _E.c.entry_date), Integer).label("year"),
        )
        .select_from(backend.source())
        .where(*where)
        .limit(COUNT_LIMIT + 1)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    # each facet's FACET_SIZE most frequent values only: a broad query has thousands of cases
    counts = union_all(*backend.facet_selects(matched)).subquery("counts")
    c_facet, c_value, c_n, c_pos = counts.c
    rank_in_facet = func.row_number().over(partition_by=c_facet, order_by=[c_n.desc(), c_value])
    top = (
        select(c_facet, c_value, c_n, c_pos, rank_in_facet.label("rank_in_facet"))
        .where(or_(c_value.is_not(None), c_facet == "total"))  # PostgreSQL's NULL groups: no value
        .subquery("top")
    )
    parts = [select(*list(top.c)[:4]).where(top.c.rank_in_facet <= FACET_SIZE)]
    if not by_date:
        window = (
            select(matched.c.id)
            .order_by(matched.c.entry_date.desc().nulls_last(), matched.c.id.desc())
            .limit(max(RANK_WINDOW, query.offset + query.limit))
            .cte("window")
        )
        ranked = backend.ranked(window).subquery("ranked")
        position = func.row_number().over(
            order_by=[ranked.c.rank.desc(), ranked.c.entry_date.desc().nulls_last(), ranked.c.id.desc()]
        )
        page = (
            select(ranked.c.id, ranked.c.rank, position.label("pos"))
            .order_by(position).offset(query.offset).limit(query.limit)
            .subquery("page")
        )
        parts.append(select(literal("hit"), cast(page.c.id, String), cast(page.c.rank, Float), page.c.pos))
    counted: dict = {"total": 0}
    hits = []
    for facet, value, n, pos in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        if facet == "hit":
            hits.append((pos, int(value), float(n or 0.0)))
        elif facet == "total":
            counted["total"] = int(n)
        elif value is not None:
            counted.setdefault(facet, []).append((value, int(n)))
    return counted, [(row_id, score) for _, row_id, score in sorted(hits)]


def _page_by_date(session: Session, backend, where: list, query: SearchQuery) -> list[tuple[int, float]]:
    """The page of hits newest first, over all visible matches."""
    stmt = (
        select(_E.c.id).select_from(backend.source()).where(*where)
        .order_by(_E.c.entry_date.desc().nulls_last(), _E.c.id.desc())
        .offset(query.offset).limit(query.limit)
    )
    return [(row_id, 0.0) for row_id in session.scalars(stmt)]


def _facets(session: Session, counted: dict) -> tuple[dict[str, list[dict]], int, bool]:
    total = counted.get("total", 0)
    facets = {}
    for name in FACETS:
        values = sorted(counted.get(name, []), key=lambda vc: (-vc[1], vc[0]))
        facets[name] = _labelled(session, name, values[:FACET_SIZE])
    return facets, min(total, COUNT_LIMIT), total <= COUNT_LIMIT


def _labelled(session: Session, name: str, values: list[tuple[str, int]]) -> list[dict]:
    if name == "type":
        return [{"value": v, "label": TYPE_LABELS.get(v, v), "count": c} for v, c in values]
    if name == "year":
        return [{"value": int(v), "label": str(v), "count": c} for v, c in values]
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


def _hits(session: Session, page: list[tuple[int, float]], parsed: text.ParsedQuery) -> list[Hit]:
    """The page's entries with highlights; the ordering carried only ids and scores."""
    if not page:
        return []
    rows = {
        r.id: r
        for r in session.execute(
            select(
                _E.c.id, _E.c.entity_type, _E.c.entity_id, _E.c.title,
                func.substr(_E.c.body, 1, SNIPPET_SOURCE).label("body"),
                _E.c.case_id, _E.c.entry_date, _E.c.document_type_id, _E.c.journal_key_id,
            ).where(_E.c.id.in_([row_id for row_id, _ in page]))
        )
    }
    terms = parsed.highlight_terms()
    hits = []
    for row_id, score in page:
        r = rows.get(row_id)
        if r is None:
            continue
        hits.append(Hit(
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            title=r.title,
            title_html=text.mark(r.title, terms),
            snippet_html=text.snippet(r.body, terms),
            score=round(score, 6),
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
    _filters(session, query)  # refuses a filter that could never run, such as an unknown custom field
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
    data["custom_fields"] = [{**wanted, "field_id": str(wanted["field_id"])} for wanted in data["custom_fields"]]
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

