"""Shared fixtures: one real Postgres with pgvector for the whole run.

The embedded server starts once per test session in a scratch ANNOLAB_HOME (so a developer's own
~/.annolab is never touched). With ANNOLAB_TEST_DATABASE_URL set, the same tests run against that
server instead. Notebooks run under nbval in kernels that inherit this environment, so they use
the same server.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.embedded import start_embedded
from annolab.store.engine import normalize_url, server_versions

REPO = Path(__file__).resolve().parent.parent

# Plugins installed in this environment stay out of the tests (tests register their own), unless
# ANNOLAB_LOAD_PLUGINS is set to name some.
os.environ.setdefault("ANNOLAB_LOAD_PLUGINS", "")


@cache
def test_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="annolab-test-home-"))
    os.environ["ANNOLAB_HOME"] = str(home)
    return home


@cache
def database_url() -> str:
    external = os.environ.get("ANNOLAB_TEST_DATABASE_URL")
    test_home()
    if external:
        os.environ["ANNOLAB_DATABASE_URL"] = external
        return normalize_url(external)
    os.environ.pop("ANNOLAB_DATABASE_URL", None)
    return start_embedded()


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = database_url()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            postgres, pgvector = server_versions(conn)
    finally:
        engine.dispose()
    where = "external server" if os.environ.get("ANNOLAB_TEST_DATABASE_URL") else "embedded"
    return [f"annolab database: Postgres {postgres}, pgvector {pgvector} ({where})"]


def not_installed(reason: str) -> NoReturn:
    """Skip a test whose optional requirement is missing, but fail it under CI: `make test`
    installs every requirement there, so a skip would only hide a broken install step."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI installs it through `make test`, so its install step broke")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def db_url() -> str:
    return database_url()


@pytest.fixture(scope="session")
def workspace(db_url: str) -> Iterator[al.Workspace]:
    ws = al.connect(db_url, user="tester")
    yield ws
    ws.close()


@pytest.fixture
def project(workspace: al.Workspace) -> al.Project:
    """A new project with a unique name: tests never see each other's rows."""
    return workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", labels=["person", "location", "group"]
    )


@contextmanager
def scratch_database(db_url: str, prefix: str = "annolab_test") -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped (even if in use) after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_db(db_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped afterwards."""
    with scratch_database(db_url) as url:
        yield url
