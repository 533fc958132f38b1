"""The index itself: words and stems, the query language, snippets, the DDL on both backends, reindex."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text as sql

from server.db import make_engine
from server.models import metadata
from server.search import text
from server.search.models import alembic_include_name, search_ddl, search_drop_ddl


def test_words_stems_and_the_query_language():
    assert text.words("Ansættelse af LÆRERE, 2026-000012 e_mail") == ["ansættelse", "af", "lærere", "2026", "000012", "e", "mail"]
    assert text.stemmed_text("Ansættelser af lærerne") == "ansæt af lær"
    q = text.parse('lærere "ansættelse af" NEAR( 010190-1234 skol* af -')
    assert q.fts5() == '"lær" AND "ansæt" + "af" AND "near" AND ("010190" + "1234" OR "010190" + "xxxx") AND "skol"*'
    assert q.tsquery() == "'lærere' & ('ansættelse' <-> 'af') & 'near' & (('010190' <-> '1234') | ('010190' <-> 'xxxx')) & 'skol':*"
    assert text.parse('"lær*"').tsquery("A") == "'lær':*A"
    assert not text.parse('( ) * - og i "')
    assert text.parse('"an unclosed quote').fts5() == '"an" + "unclosed" + "quot"'
    assert len(text.parse("ord " * 5000).clauses) == 1 and len(text.parse(" ".join(f"o{i}" for i in range(500))).clauses) == text.MAX_CLAUSES


def test_snippets_mark_by_stem_escape_and_cut():
    terms = text.parse("lærer").highlight_terms()
    assert text.mark("Lærerne & <lærere>", terms) == "<mark>Lærerne</mark> &amp; &lt;<mark>lærere</mark>&gt;"
    long = "Indledning. " * 50 + "Her står noget om en lærer og mere. " + "Slut. " * 50
    snip = text.snippet(long, terms, width=120)
    assert snip.startswith("…") and snip.endswith("…") and "<mark>lærer</mark>" in snip and len(snip) < 200
    assert text.snippet("Ingen træf her", terms) == "Ingen træf her"
    assert text.mark("skolebus", text.parse("skol*").highlight_terms()) == "<mark>skolebus</mark>"


def test_tsvector_budget_cuts_only_pathological_text():
    normal = text.words("en almindelig tekst " * 10_000)
    assert text.fit_tsvector(normal) == normal
    distinct = [f"w{i:07d}" for i in range(200_000)]
    kept = text.fit_tsvector(distinct)
    assert 0 < len(kept) < len(distinct)


def test_ddl_for_each_backend():
    assert any("USING fts5" in s for s in search_ddl("sqlite"))
    assert search_ddl("postgresql") == ["ALTER TABLE search_entries SET (toast_tuple_target = 128)"]
    assert search_drop_ddl("postgresql") and search_ddl("mysql") == []
    assert search_drop_ddl("sqlite")[-1] == "DROP TABLE IF EXISTS search_fts"


def test_create_all_makes_the_index_and_matches_the_metadata(database_url):
    """What create_all builds is what a migration from the models plus search_ddl() builds."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": alembic_include_name})
            diff = [d for d in compare_metadata(context, metadata) if "search" in str(d)]
            assert diff == []
            indexes = {i["name"]: i for i in inspect(conn).get_indexes("search_entries")}
            assert "ix_search_entries_tsv" in indexes
            if conn.dialect.name == "postgresql":
                using = conn.execute(sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_search_entries_tsv'")).scalar()
                assert "USING gin" in using
                options = conn.execute(sql("SELECT reloptions FROM pg_class WHERE oid = 'search_entries'::regclass")).scalar()
                assert options == ["toast_tuple_target=128"]
                assert inspect(conn).get_columns("search_entries")[-1]["name"] == "tsv"
            else:
                assert "search_fts" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_fts_rows_go_with_their_entries(app, db_session):
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 table")
    from server.search import services

    services.index(db_session, services.IndexEntry("contact", uuid.uuid4(), "Navn", "tekst"))
    services.index(db_session, services.IndexEntry("contact", uuid.uuid4(), "Andet", "tekst"))
    assert db_session.execute(sql("SELECT count(*) FROM search_fts")).scalar() == 2
    db_session.execute(sql("DELETE FROM search_entries"))
    assert db_session.execute(sql("SELECT count(*) FROM search_fts")).scalar() == 0


def test_reindex_command(app, caseworker, new_case):
    from server.cli import reindex

    new_case(caseworker, title="Kloakering")
    result = app.test_cli_runner().invoke(reindex, ["--batch-size", "10"])
    assert result.exit_code == 0, result.output
    assert "1 case" in result.output and "0 contact" in result.output
    assert caseworker.post("/api/search", json={"q": "kloakering"}).json["total"] == 1
