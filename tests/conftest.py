"""Fixtures: a real database (SQLite file, or PostgreSQL in a fresh schema), an app per test."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from sqlalchemy import text

from server import create_app
from server.auth import services as auth
from server.config import Settings
from server.db import Base, make_engine
from server.models import metadata

PG_URL = os.environ.get("SAGSPOST_DATABASE_URL", "")


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database with the current schema, created once per run and dropped at the end."""
    if PG_URL.startswith("postgresql"):
        schema = f"test_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(PG_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    yield url
    if PG_URL.startswith("postgresql"):
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_settings(tmp_path, database_url: str, **overrides) -> Settings:
    values = dict(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        log_format="text",
        log_level="WARNING",
        argon2_time_cost=1,
        argon2_memory_cost_kib=1024,
        jobs_inline=True,
        testing=True,
    )
    values.update(overrides)
    return Settings.from_env({}, **values)


@pytest.fixture
def app_overrides():
    """Settings a test module needs changed (override this fixture), e.g. the Digital Post URL."""
    return {}


@pytest.fixture
def app(tmp_path, database_url, app_overrides):
    app = create_app(make_settings(tmp_path, database_url, **app_overrides))
    engine = app.extensions["sagspost.engine"]
    _empty_all_tables(engine)
    with app.app_context():
        session = app.extensions["sagspost.sessionmaker"]()
        auth.ensure_roles(session)
        session.commit()
        session.close()
    yield app
    engine.dispose()


def _empty_all_tables(engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    # DELETE beats TRUNCATE here: TRUNCATE rewrites every table's files, slow for tiny tables.
    with engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def db_session(app):
    """A session for arranging data directly through services; commit to make it visible."""
    session = app.extensions["sagspost.sessionmaker"]()
    yield session
    session.rollback()
    session.close()


@dataclass
class Caller:
    """An HTTP client acting as one user through a bearer token."""

    client: object
    user_id: uuid.UUID
    username: str
    token: str

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, headers=None, **kw):
        return self.client.post(url, headers=self._headers(headers), **kw)

    def put(self, url, headers=None, **kw):
        return self.client.put(url, headers=self._headers(headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.client.patch(url, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def make_user(app):
    """make_user("anna", roles=["caseworker"], groups=[group_id]) -> Caller with an API token."""

    def _make(username: str, roles=("caseworker",), groups=(), password: str | None = None, **fields) -> Caller:
        session = app.extensions["sagspost.sessionmaker"]()
        try:
            user = auth.create_user(
                session, None, app.extensions["sagspost.passwords"], username=username, roles=list(roles),
                group_ids=list(groups), password=password, **fields,
            )
            plaintext, _ = auth.create_api_token(session, auth.principal_for(user), "test", 30, 365)
            session.commit()
            return Caller(app.test_client(), user.id, username, plaintext)
        finally:
            session.close()

    return _make


@pytest.fixture
def make_group(app):
    def _make(name: str) -> uuid.UUID:
        session = app.extensions["sagspost.sessionmaker"]()
        try:
            group = auth.create_group(session, None, name=name)
            session.commit()
            return group.id
        finally:
            session.close()

    return _make


@pytest.fixture
def admin(make_user):
    return make_user("admin", roles=["it_admin", "system_admin", "org_admin"])


@pytest.fixture
def caseworker(make_user):
    return make_user("anna", roles=["caseworker"])


@pytest.fixture
def live_app(app):
    """The test's app served over real HTTP (waitress in a thread): for browsers and add-in tests."""
    from tests.live import serve_in_thread

    live = serve_in_thread(app, name="sagspost-live")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (its own browser download is not used)."""
    from playwright.sync_api import sync_playwright

    from tests.live import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test (own cookies and storage)."""
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
