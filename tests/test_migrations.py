"""The Alembic migrations build, from an empty database, exactly the schema the models describe."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from server import create_app
from server.db import make_engine
from server.migrate import head_revision, upgrade
from server.models import metadata
from server.search.models import alembic_include_name
from tests.conftest import PG_URL, _with_search_path, make_settings


@pytest.fixture
def empty_database_url(tmp_path):
    if not PG_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"mig_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield _with_search_path(PG_URL, schema)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_upgrade_from_empty_database_matches_the_models(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": alembic_include_name})
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, metadata) == []
        if engine.dialect.name == "sqlite":
            # the FTS5 index lives outside the metadata; the migration must create it too
            assert "search_fts" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_readiness_follows_the_migration_state(tmp_path, empty_database_url):
    app = create_app(make_settings(tmp_path, empty_database_url))
    client = app.test_client()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json["reason"] == "database schema not migrated"
    upgrade(app.extensions["sagspost.engine"])
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["revision"] == head_revision()
    app.extensions["sagspost.engine"].dispose()
