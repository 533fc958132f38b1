"""Database engine, declarative base and the one-session-per-request unit of work."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from flask import current_app, g
from sqlalchemy import DateTime, Enum, MetaData, Uuid, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTC(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTC, default=utcnow, onupdate=utcnow, nullable=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    # JIT compiling costs PostgreSQL ~80 ms on a count over many cases and never pays off for
    # the short queries of a web request.
    options = " ".join(filter(None, [make_url(url).query.get("options"), "-c jit=off"]))
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, connect_args={"options": options})


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite starts transactions as readers, so two requests that both read and then write
    # deadlock on the lock upgrade and one fails at once. Beginning IMMEDIATE makes them queue on
    # the busy timeout instead; SQLite serialises writers anyway, and reads of a case write an
    # access-log row, so nearly every request writes. PostgreSQL is the choice for concurrency.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def get_session() -> Session:
    """The request's session; committed after a successful response, rolled back otherwise."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sagspost.sessionmaker"]()
    return g.db_session


def init_app(app, engine: Engine) -> None:
    app.extensions["sagspost.engine"] = engine
    app.extensions["sagspost.sessionmaker"] = session_factory(engine)

    @app.after_request
    def _commit_or_rollback(response):
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _cleanup(exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def str_enum(enum_cls, length: int = 30) -> Enum:
    """An enum stored as its value in a VARCHAR, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e], validate_strings=True
    )
