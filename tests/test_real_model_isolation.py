"""The real model runs in a child process, so a crash of its native code fails one test, not
the run: the test that was talking to the server fails saying the server died, with the signal
and the end of the server's stderr, and the next test gets a new server.

The crash is real: a request option makes the child raise SIGSEGV on itself where llama.cpp
would decode, and faulthandler writes the child's stack to its stderr before it dies.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import ollama
import pytest

from annolab.personas import output_schema
from annolab.schema import LabelSchema
from tests.real_model import CRASH_OPTION, MODEL
from tests.real_model_server import REPO, ModelServer, ModelServerError, installed_model

pytest_plugins = ["pytester", "tests.real_model_fixtures"]
pytestmark = pytest.mark.slow

SENTIMENTS = ["positive", "negative", "neutral"]
OPTIONS = {"temperature": 0, "seed": 42, "num_predict": 96}
SEGFAULT = "killed by signal 11 (SIGSEGV)"

# Two tests in a pytest run of their own: the first crashes the model server, the second asks
# the server a question. Each writes the pid of the server it talked to.
CRASH_THEN_ASK = f"""
import os

import ollama

from tests.real_model import CRASH_OPTION, MODEL

pytest_plugins = ["tests.real_model_fixtures"]


def served_by(real_model):
    with open(os.environ["REAL_MODEL_PIDS"], "a") as pids:
        pids.write(f"{{real_model.pid}}\\n")


def test_crashes_the_server(real_model, real_model_host):
    served_by(real_model)
    ollama.Client(host=real_model_host).generate(MODEL, "Hi", options={{CRASH_OPTION: "SIGSEGV"}})


def test_asks_the_server_after_the_crash(real_model, real_model_host):
    served_by(real_model)
    answer = ollama.Client(host=real_model_host).generate(MODEL, "Say hi.", options={OPTIONS!r})
    assert answer.done
    assert answer.eval_count > 0
    assert real_model.starts == 2
"""


def test_a_crash_fails_the_test_talking_to_the_server_and_the_next_gets_a_new_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed_model()
    pids = tmp_path / "pids"
    monkeypatch.setenv("REAL_MODEL_PIDS", str(pids))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(test_crash_then_ask=CRASH_THEN_ASK)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rf", "-vv")

    result.assert_outcomes(passed=1, failed=1)
    first, second = (int(pid) for pid in pids.read_text().split())
    result.stdout.fnmatch_lines(
        [
            "*_ test_crashes_the_server _*",
            f"the model server (pid {first}, http://127.0.0.1:*) died: {SEGFAULT}; "
            "the last lines of its stderr:",
            "    Fatal Python error: Segmentation fault",
            "*in answer*",  # faulthandler's stack of the thread that crashed
            "the test saw: RemoteProtocolError: Server disconnected without sending a response.",
            f"FAILED test_crash_then_ask.py::test_crashes_the_server - Failed: the model server "
            f"(pid {first}, *) died: {SEGFAULT}*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["test_crash_then_ask.py::test_asks_the_server_after_the_crash PASSED*"]
    )
    assert first != second
    # Neither child outlived its run: the crashed one was reaped, the second one stopped.
    assert [pid for pid in (first, second) if Path(f"/proc/{pid}").exists()] == []


def test_the_fixture_replaces_a_crashed_server_within_the_session(
    real_model: ModelServer, real_model_host: str
) -> None:
    crashed = real_model.pid
    client = ollama.Client(host=real_model_host)
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        client.generate(MODEL, "Hi", options={CRASH_OPTION: "SIGSEGV"})
    death = real_model.death(wait=10.0)
    assert death is not None
    assert death.startswith(f"the model server (pid {crashed}, {real_model_host}) died: {SEGFAULT}")
    assert "    Fatal Python error: Segmentation fault" in death.splitlines()

    host = real_model.running()
    assert real_model.pid != crashed
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", host)
    schema = output_schema("choice", LabelSchema.from_names(SENTIMENTS))
    answer = ollama.Client(host=host).generate(
        MODEL, "Is 'THIS IS SO GOOD' positive?", format=schema, options=OPTIONS
    )
    assert answer.done
    assert (answer.eval_count or 0) > 0
    assert real_model.calls() == 1  # a new process, counting from its first generation
    assert real_model.death() is None


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf")
    with ModelServer(broken) as server:
        with pytest.raises(ModelServerError) as failed:
            server.running()
        assert server.process is None or server.process.poll() is not None
    lines = str(failed.value).splitlines()
    assert re.fullmatch(
        r"the model server \(pid \d+\) exited while starting: exit code 1; "
        r"the last lines of its stderr:",
        lines[0],
    )
    assert lines[-1].startswith("    ValueError: Failed to load model from file")
