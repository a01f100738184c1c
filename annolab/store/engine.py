"""Opening a Postgres server and checking that annolab can use it.

Every check that fails says what is missing and the command that fixes it, because the person
reading it is in a notebook, not in our source.
"""

from __future__ import annotations

import selectors
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from annolab.errors import ConnectError
from annolab.store import writes

MIN_SERVER_VERSION = 140000  # Postgres 14: the oldest major version still supported upstream


def normalize_url(url: str) -> str:
    """Make a SQLAlchemy URL that uses psycopg 3, whatever spelling of Postgres was given.

    >>> normalize_url("postgres://me@db/annolab")
    'postgresql+psycopg://me@db/annolab'
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        msg = f"database URL {url!r} is not a URL; expected postgresql://user:password@host/db"
        raise ConnectError(msg) from exc
    if parsed.get_backend_name() not in {"postgres", "postgresql"}:
        msg = (
            f"database URL {redact(url)!r} is not a Postgres URL; annolab stores everything in "
            "Postgres: expected postgresql://user:password@host/db"
        )
        raise ConnectError(msg)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def create_engine(url: str) -> Engine:
    """An engine on ``url``, checked: reachable, Postgres 14 or newer, pgvector present.

    Creates the ``vector`` extension when the server has it but the database does not yet.
    """
    engine = sa.create_engine(normalize_url(url))
    _replace_if_closed(engine)
    writes.install(engine)
    try:
        with engine.begin() as conn:
            check_server(conn, url)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        msg = f"could not connect to {redact(url)!r}: {reason}"
        raise ConnectError(msg) from exc
    except ConnectError:
        engine.dispose()
        raise
    return engine


def _replace_if_closed(engine: Engine) -> None:
    """Before a pooled connection is handed out, make sure the server has not closed it.

    An idle connection's socket has nothing to read unless the server wrote to it, and a server
    that ends a session (restart, crash, idle timeout, a terminated backend) does: its goodbye
    or the end of the stream. Only then is a round trip spent on a ping, where SQLAlchemy's
    ``pool_pre_ping`` spends one on every checkout (two per claim and submit). A failed ping
    makes the pool replace the connection before anyone uses it.
    """
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # A selector rather than select.select, which refuses descriptors above 1023 (a busy
        # Jupyter server can hold that many).
        with selectors.DefaultSelector() as selector:
            selector.register(dbapi_connection.fileno(), selectors.EVENT_READ)
            if not selector.select(timeout=0):
                return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc

    sa.event.listen(engine, "checkout", checkout)


def check_server(conn: sa.Connection, url: str) -> None:
    version_num = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
    version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    if version_num < MIN_SERVER_VERSION:
        msg = (
            f"{redact(url)!r} runs Postgres {version}; annolab needs Postgres 14 or newer. "
            "Upgrade the server, or call annolab.connect() with no URL to use the embedded one."
        )
        raise ConnectError(msg)
    installed = conn.execute(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar()
    if installed is not None:
        return
    available = conn.execute(
        sa.text("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    ).scalar()
    major = version_num // 10000
    if available is None:
        msg = (
            f"the Postgres {version} server at {redact(url)!r} does not have the pgvector "
            f"extension. Install it on the server (Debian/Ubuntu: `apt install "
            f"postgresql-{major}-pgvector`; others: build it from source, see the pgvector "
            "README), then connect again; or call annolab.connect() with no URL to use the "
            "embedded server, which includes pgvector."
        )
        raise ConnectError(msg)
    database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    try:
        with conn.begin_nested():
            # Kernels connecting at once to a new database would race: IF NOT EXISTS is checked
            # before the catalog insert, so all but one failed on a duplicate key.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('annolab:vector'))"))
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError as exc:
        msg = (
            f"pgvector {available} is available on {redact(url)!r} but not enabled in database "
            f"{database!r}, and this user may not enable it ({exc.orig}). Ask a superuser to run "
            f"`CREATE EXTENSION vector;` in {database!r}, then connect again."
        )
        raise ConnectError(msg) from exc


def server_versions(conn: sa.Connection) -> tuple[str, str]:
    """(Postgres version, pgvector version) of the server behind ``conn``."""
    row = conn.execute(
        sa.text(
            "SELECT current_setting('server_version'), "
            "(SELECT extversion FROM pg_extension WHERE extname = 'vector')"
        )
    ).one()
    return str(row[0]), str(row[1])
