"""The embedded server's life across processes, and the errors connect() gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import annolab as al

# A child process standing in for a notebook kernel: connect, report, then wait or crash.
KERNEL = """
import json, os, signal, sys
import annolab as al
ws = al.connect(user="kernel")
pid = int(open(os.environ["ANNOLAB_HOME"] + "/pg18/postmaster.pid").readline())
print(json.dumps({"postmaster": pid, "me": os.getpid()}), flush=True)
mode = sys.argv[1]
if mode == "crash":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "wait":
    sys.stdin.readline()
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ANNOLAB_DATABASE_URL"}
    env["ANNOLAB_HOME"] = str(home)
    return env


def _kernel(home: Path, mode: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", KERNEL, mode],
        env=_env(home),
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"kernel exited early with {proc.wait()}"
    return proc, json.loads(line)


def _postmaster_running(home: Path) -> int | None:
    pid_file = home / "pg18" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def _wait_until(predicate: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_two_kernels_share_one_server_and_the_last_one_stops_it(tmp_path: Path) -> None:
    first, a = _kernel(tmp_path, "wait")
    second, b = _kernel(tmp_path, "exit")
    assert second.wait(30) == 0
    assert a["postmaster"] == b["postmaster"]
    assert _postmaster_running(tmp_path) == a["postmaster"], "first kernel still uses it"
    first.communicate("\n", timeout=30)
    assert _wait_until(lambda: _postmaster_running(tmp_path) is None)


@pytest.mark.slow
def test_server_left_by_a_crashed_kernel_is_reused_without_initdb(tmp_path: Path) -> None:
    crashed, a = _kernel(tmp_path, "crash")
    assert crashed.wait(30) == -signal.SIGKILL
    version_file = tmp_path / "pg18" / "PG_VERSION"
    made = version_file.stat().st_mtime_ns
    survivor, b = _kernel(tmp_path, "exit")
    assert survivor.wait(30) == 0
    assert b["postmaster"] == a["postmaster"], "the crashed kernel's server is reused"
    assert version_file.stat().st_mtime_ns == made, "no second initdb"
    # The crashed kernel's pid was forgotten, so the survivor, the last user, stopped it.
    assert _wait_until(lambda: _postmaster_running(tmp_path) is None)


@pytest.mark.slow
def test_killed_server_is_restarted_with_its_data(tmp_path: Path) -> None:
    env = _env(tmp_path)
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import annolab as al; al.connect().create_project('kept', labels=['a'])",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0
    owner, info = _kernel(tmp_path, "wait")
    os.kill(info["postmaster"], signal.SIGKILL)  # postmaster.pid is left behind, stale
    assert _wait_until(lambda: not psutil.pid_exists(info["postmaster"]))
    again = subprocess.run(  # noqa: PLW1510 - the output is asserted instead
        [sys.executable, "-c", "import annolab as al; print(al.connect().project('kept').name)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    owner.communicate("\n", timeout=30)
    # The restarted server outlives both processes (the first kernel's handle is the one its
    # user count held): stop it, so the test leaves no server running.
    restarted = _postmaster_running(tmp_path)
    if restarted is not None:
        os.kill(restarted, signal.SIGTERM)
        assert _wait_until(lambda: not psutil.pid_exists(restarted), 30)
    assert again.stdout.strip() == "kept", again.stderr


@pytest.mark.slow
def test_a_kernel_whose_server_died_gets_it_back_on_its_next_call(tmp_path: Path) -> None:
    """The server is killed under a live workspace: the next call starts it again, with the
    data, in the same process (before, only a new process could)."""
    env = _env(tmp_path)
    script = """
import json, os, signal, time
import psutil
import annolab as al
ws = al.connect(user="kernel")
ws.create_project("kept", labels=["a"])
pidfile = os.environ["ANNOLAB_HOME"] + "/pg18/postmaster.pid"
first = int(open(pidfile).readline())
os.kill(first, signal.SIGKILL)
psutil.Process(first).wait(30)
names = [ws.project("kept").name]            # the pooled connection is dead: replaced, restart
again = al.connect(user="kernel")            # pgserver's cached handle: checked, not trusted
names.append(again.project("kept").name)
print(json.dumps({"names": names, "first": first,
                  "second": int(open(pidfile).readline())}), flush=True)
"""
    done = subprocess.run(  # noqa: PLW1510 - the output is asserted instead
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["names"] == ["kept", "kept"]
    assert report["second"] != report["first"], "a new postmaster"


PROBE = """
import sys, time
from pathlib import Path
from annolab.store.embedded import _ensure_writable
home, ready, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
(ready / sys.argv[4]).touch()
while len(list(ready.iterdir())) < count:  # start together, once every process has imported
    time.sleep(0.01)
for _ in range(500):
    _ensure_writable(home)
"""


@pytest.mark.slow
def test_concurrent_start_ups_never_fail_on_the_write_check(tmp_path: Path) -> None:
    """8 processes check the same home 500 times each, all at once; a shared probe file used to
    make some of them report an unwritable folder (one removed the probe another had just
    written)."""
    home, ready = tmp_path / "home", tmp_path / "ready"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, str(home), str(ready), "8", str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    # Generous: each process imports annolab first, slow on a busy 2-core machine.
    failures = [p.communicate(timeout=300)[1] for p in procs if p.wait(timeout=300) != 0]
    assert failures == []
    assert [p.name for p in home.iterdir()] == [], "no probe left behind"


@pytest.mark.slow
def test_concurrent_first_connects_all_succeed(tmp_path: Path) -> None:
    """Eight kernels start on an empty home at once: one initdb, one server, all connected."""
    script = "import annolab as al; ws = al.connect(user='k'); print(ws.server_version)"
    env = _env(tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err[-500:] for _, err in results]
    assert {out.strip().split(".")[0] for out, _ in results} == {"18"}


def test_unwritable_home_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANNOLAB_DATABASE_URL", raising=False)  # set when testing a server
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(al.ConnectError) as caught:
        al.connect(home=blocker / "home")
    message = str(caught.value)
    assert f"ANNOLAB_HOME='{blocker / 'home'}' is not a writable folder" in message
    assert "export ANNOLAB_HOME=" in message


def test_unreachable_server_names_the_url_without_password() -> None:
    with pytest.raises(al.ConnectError) as caught:
        al.connect("postgresql://someone:s3cret@127.0.0.1:1/annolab")
    message = str(caught.value)
    assert message.startswith(
        "could not connect to 'postgresql://someone:***@127.0.0.1:1/annolab': "
    )
    assert "s3cret" not in message


def test_a_url_that_is_not_postgres_is_refused() -> None:
    with pytest.raises(al.ConnectError, match="is not a Postgres URL"):
        al.connect("mysql://me@localhost/db")
    with pytest.raises(al.ConnectError, match="is not a URL"):
        al.connect("not a url")


def test_vector_extension_is_created_when_missing(fresh_db: str) -> None:
    with al.connect(fresh_db) as ws:
        assert ws.pgvector_version.startswith("0.")


@pytest.mark.slow
def test_server_without_pgvector_says_how_to_install_it() -> None:
    from tests.system_postgres import system_postgres

    with system_postgres() as url, pytest.raises(al.ConnectError) as caught:
        al.connect(url)
    message = str(caught.value)
    assert "does not have the pgvector extension" in message
    assert "apt install postgresql-15-pgvector" in message
    assert message.startswith("the Postgres 15.")
