"""The real-model tier's fixtures, a plugin its test modules load with
``pytest_plugins = ["tests.real_model_fixtures"]``.

``real_model`` is the session's ``ModelServer``: SmolLM2-135M in a child process, loaded once.
``real_model_host`` is the URL of a live one for each test, a new child if the last one died.
A child that dies while a test runs fails that test, with the child's signal or exit code and
the end of its stderr; the next test gets a new child, so one crash costs one test, not the
run. Where llama-cpp-python or the model is not installed the tests skip, and under CI fail.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.real_model_server import ModelServer, installed_model


@pytest.fixture(scope="session")
def real_model() -> Iterator[ModelServer]:
    """The model server for the session; its child starts with the first test that needs it."""
    with ModelServer(installed_model()) as server:
        yield server


@pytest.fixture
def real_model_host(real_model: ModelServer) -> str:
    """The base URL of a live model server."""
    starts = real_model.starts
    url = real_model.running()
    if real_model.starts != starts:
        print(f"model server pid {real_model.pid} answered in {real_model.startup_seconds:.1f} s")
    return url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test during which the model server died, saying so: the client alone would
    report a closed connection, or a persona run a failure per item."""
    server = getattr(item, "funcargs", {}).get("real_model")
    if not isinstance(server, ModelServer):
        return (yield)
    try:
        result = yield
    except Exception as exc:  # not BaseException: Ctrl-C and pytest's own outcomes pass on
        death = server.death(wait=2.0)
        if death is None:
            raise
        saw = f"{type(exc).__name__}: {exc}"
    else:
        death = server.death()
        if death is None:
            return result
        saw = "no error"
    # Failed here, out of the except block: the client's traceback would only bury the cause.
    pytest.fail(f"{death}\nthe test saw: {saw}", pytrace=False)
