"""Fixtures of the browser tier: real JupyterLab, headless Chromium, one notebook per test.

One Lab server and one browser serve the whole session; each test gets a new notebook in a new
page, closed (and its kernel shut down) afterwards. A failing test leaves a screenshot of its
page in tests/browser/screenshots/ and the page's errors in its report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.lab import (
    HarnessError,
    Lab,
    Notebook,
    launch_browser,
    missing_requirements,
    open_notebook,
    start_lab,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

HERE = Path(__file__).resolve().parent
_NOTEBOOK = pytest.StashKey[Notebook]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test in this folder is a browser test, so `-m "not browser"` leaves them all out.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield
    notebook = item.stash.get(_NOTEBOOK, None)
    if notebook is not None and report.when == "call" and report.failed:
        # Taken here, while the page is still open: the fixture's teardown closes it.
        try:
            shot = str(notebook.screenshot(f"FAILED-{item.name}"))
        except Exception as exc:
            shot = f"(no screenshot: {exc})"
        lines = [f"screenshot: {shot}", f"notebook: {notebook.path}"]
        lines += [f"dialog: {d}" for d in notebook.dialogs]
        lines += [f"console error: {e}" for e in notebook.console_errors]
        lines += [f"page error: {e}" for e in notebook.page_errors]
        report.sections.append(("browser", "\n".join(lines)))
    return report  # type: ignore[return-value]


@pytest.fixture(scope="package")
def lab() -> Iterator[Lab]:
    """A JupyterLab server for the session: ``url``, ``token``, ``root_dir``, ``api()``."""
    problem = missing_requirements()
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        with start_lab() as server:
            yield server
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


# Package scope, not session: Playwright's sync API keeps its event loop marked as running in
# the main thread while it is started, and later tests (a kernel-like running loop, asyncio.run)
# must not find one there.
@pytest.fixture(scope="package")
def lab_browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API."""
    try:
        with launch_browser() as browser:
            yield browser
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def notebook(request: pytest.FixtureRequest, lab: Lab, lab_browser: Browser) -> Iterator[Notebook]:
    """A new notebook, open in its own page, kernel idle; closed and shut down afterwards."""
    try:
        nb = open_notebook(lab, lab_browser, request.node.name)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    request.node.stash[_NOTEBOOK] = nb
    try:
        yield nb
    finally:
        del request.node.stash[_NOTEBOOK]
        nb.close()
