"""An annolab error reaching a notebook cell shows its message, the cause first, in a real
IPython kernel; the chained traceback shows only with the debug switch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

import annolab.errors as errors
from annolab.errors import DEBUG_HINT, PersonaError

RAISE = (
    "from annolab.errors import PersonaError\n"
    "try:\n"
    "    raise ConnectionError('[Errno 111] Connection refused')\n"
    "except ConnectionError as exc:\n"
    "    raise PersonaError('Ollama is not reachable at http://127.0.0.1:9') from exc\n"
)


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    env = {k: v for k, v in os.environ.items() if k != "ANNOLAB_DEBUG"}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client: BlockingKernelClient, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The execute reply's content and the error outputs the cell sent."""
    errors_sent: list[dict[str, Any]] = []

    def keep(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "error":
            errors_sent.append(msg["content"])

    reply = client.execute_interactive(code, timeout=60, output_hook=keep)
    return reply["content"], errors_sent


def test_an_annolab_error_in_a_cell_is_its_message_and_a_hint(
    kernel: BlockingKernelClient,
) -> None:
    reply, sent = run(kernel, RAISE)
    assert reply["status"] == "error"  # the cell still fails: Run All stops here
    (error,) = sent
    assert (error["ename"], error["evalue"]) == (
        "PersonaError",
        "Ollama is not reachable at http://127.0.0.1:9",
    )
    assert error["traceback"] == [
        "PersonaError: Ollama is not reachable at http://127.0.0.1:9",
        DEBUG_HINT,
    ]


def test_the_debug_switch_shows_the_chain(kernel: BlockingKernelClient) -> None:
    run(kernel, "import annolab as al; al.debug(True)")
    try:
        _, sent = run(kernel, RAISE)
    finally:
        run(kernel, "al.debug(False)")
    text = "\n".join(sent[0]["traceback"])
    assert "ConnectionError" in text
    assert "direct cause" in text
    assert len(sent[0]["traceback"]) > 2


def test_other_errors_keep_the_usual_traceback(kernel: BlockingKernelClient) -> None:
    _, sent = run(kernel, "import annolab.errors\n{}['missing']")
    (error,) = sent
    assert error["ename"] == "KeyError"
    assert DEBUG_HINT not in error["traceback"]
    assert len(error["traceback"]) > 1


def test_debug_follows_the_environment_until_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "_debug", None)
    monkeypatch.setenv("ANNOLAB_DEBUG", "1")
    assert errors.debug() is True
    monkeypatch.setenv("ANNOLAB_DEBUG", "0")
    assert errors.debug() is False
    assert errors.debug(True) is True
    assert errors.debug() is True
    with pytest.raises(errors.ValidationError, match=r"on='yes' must be True, False or None"):
        errors.debug("yes")  # type: ignore[arg-type]


def test_a_custom_handler_installed_first_is_left_alone() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.set_custom_exc((KeyError,), None)
        assert errors.show_in_ipython(shell) is False
        assert shell.custom_exceptions == (KeyError,)
        shell.set_custom_exc((), None)
        assert errors.show_in_ipython(shell) is True
        assert shell.custom_exceptions == (errors.AnnolabError,)
        assert errors.short_traceback(PersonaError("x")) == ["PersonaError: x", DEBUG_HINT]
    finally:
        InteractiveShell.clear_instance()


def test_ollama_down_reads_as_the_cause_first(kernel: BlockingKernelClient) -> None:
    code = (
        "from annolab.personas.embedders import OllamaEmbedder\n"
        "OllamaEmbedder('all-minilm', host='http://127.0.0.1:9').embed(['x'])"
    )
    _, sent = run(kernel, code)
    (error,) = sent
    assert error["ename"] == "PersonaError"
    first, hint = error["traceback"]
    assert first.startswith("PersonaError: ")
    assert "http://127.0.0.1:9" in first
    assert hint == DEBUG_HINT
    assert "ConnectError" not in first  # the chained httpx error is not shown

    printed: list[str] = []

    def keep(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    # %debug and %tb still find the error: IPython's last error is set as usual.
    kernel.execute_interactive(
        "import sys; print(type(sys.last_value).__name__)", timeout=60, output_hook=keep
    )
    assert "".join(printed).strip() == "PersonaError"
