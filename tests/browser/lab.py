"""The browser-test harness: a real JupyterLab server, headless Chromium, and a notebook driver.

``tests/browser/conftest.py`` turns these into fixtures (``lab``, ``lab_browser``, ``notebook``);
``tests/browser/README.md`` says how to write a test with them.

Playwright is imported inside the functions that need it, so ``pytest --doctest-modules`` can
import this module on a machine without it, and the fixtures can say how to install it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, expect
else:

    def expect(*args: Any, **kwargs: Any) -> Any:
        """Playwright's ``expect``, imported on first use: tests import it from here, so they
        collect without Playwright and the fixtures can say how to install it."""
        from playwright.sync_api import expect as playwright_expect

        return playwright_expect(*args, **kwargs)


CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium in a root container without a GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"
LIGHT_THEME = "JupyterLab Light"
DARK_THEME = "JupyterLab Dark"

# An anywidget view is the only child of its output, a bare Lumino widget; ipywidgets' own
# controls carry the ``jupyter-widgets`` class, so they are not counted.
ANYWIDGET_SELECTOR = ".jp-OutputArea-output > .lm-Widget:not(.jupyter-widgets)"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
RENDERED_WIDGET_SELECTOR = ".jp-OutputArea-output > .lm-Widget:is(.jupyter-widgets, :has(> *))"

# Defaults for the scratch Lab (app-level overrides.json): no news or update toasts over the
# page, and every cell attached to the DOM, so locators see cells outside the viewport too.
LAB_OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}

# Installed in every page before Lab's own scripts; it reads the app that
# ``--LabApp.expose_app_in_browser`` puts on ``window``, and finds notebooks by path.
_PAGE_HELPERS = """
window.__annolab = {
  panel(path) {
    const app = window.jupyterapp;
    if (!app) throw new Error("window.jupyterapp is missing: start Lab with expose_app_in_browser");
    for (const w of app.shell.widgets("main")) {
      if (w.context && w.context.path === path && w.content && w.content.model) return w;
    }
    throw new Error(`notebook ${path} is not open`);
  },
  cellCount(path) {
    return this.panel(path).content.widgets.length;
  },
  cell(path, index) {
    const model = this.panel(path).content.widgets[index].model;
    return {
      type: model.type,
      source: model.sharedModel.getSource(),
      executionCount: model.type === "code" ? model.executionCount : null,
      outputs: model.type === "code" ? model.outputs.toJSON() : [],
    };
  },
  async ensureEmptyLastCell(path) {
    const panel = this.panel(path);
    const cells = panel.content.widgets;
    const last = cells[cells.length - 1];
    const unused = last && last.model.type === "code" && last.model.executionCount === null
      && last.model.sharedModel.getSource() === "" && last.model.outputs.length === 0;
    if (!unused) {
      panel.content.activeCellIndex = cells.length - 1;
      await window.jupyterapp.commands.execute("notebook:insert-cell-below");
      await window.jupyterapp.commands.execute("notebook:change-cell-to-code");
    }
    return panel.content.widgets.length - 1;
  },
  async execute(id, args) {
    await window.jupyterapp.commands.execute(id, args || {});
  },
};
"""


class HarnessError(RuntimeError):
    """The harness could not start Lab or the browser, or could not drive the notebook."""


class CellError(AssertionError):
    """A cell that ``Notebook.run`` executed raised; the message holds the traceback."""


def missing_requirements() -> str | None:
    """Why browser tests cannot run here, with the command that fixes it; None when they can."""
    problems = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(
            f"Chromium is not installed at {CHROMIUM}: run `bash scripts/system-deps.sh` "
            "(Debian's chromium package; do not run `playwright install`)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append(
            "Playwright is not installed: run `pip install playwright` (it is in the test "
            'extra, `pip install -e ".[test]"`; never `playwright install`)'
        )
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        problems.append('JupyterLab is not installed: run `pip install -e ".[test]"`')
    return "; ".join(problems) or None


# --- the JupyterLab server -------------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab server with its own scratch HOME, settings and root directory."""

    url: str
    token: str
    root_dir: Path
    home: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def page_url(self, path: str) -> str:
        """``path`` (like ``lab/tree/x.ipynb``) on this server, with the token to log in."""
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """Calls the server's REST API (``/api/...``) and returns the decoded JSON, or None."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def shutdown_sessions(self, path: str | None = None) -> None:
        """Shuts down the kernels of the notebook at ``path`` (all notebooks when None)."""
        for session in self.api("GET", "api/sessions"):
            if path is None or session["path"] == path:
                self.api("DELETE", f"api/sessions/{session['id']}")

    def reset_theme(self) -> None:
        """Back to the default (light) theme for the next test: the theme is a user setting."""
        self.api(
            "PUT",
            "lab/api/settings/@jupyterlab/apputils-extension:themes",
            {"raw": json.dumps({"theme": LIGHT_THEME})},
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _scratch_env(home: Path) -> dict[str, str]:
    """os.environ (so kernels see ANNOLAB_HOME and the test database) with every Jupyter and
    IPython folder moved into ``home``: nothing is read from or written to the real ~."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / ".jupyter/lab/user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / ".jupyter/lab/workspaces"),
        IPYTHONDIR=str(home / ".ipython"),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def start_lab(
    startup_timeout: float = 60,
    *,
    python: str | Path = sys.executable,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Lab]:
    """Starts JupyterLab on a free loopback port and stops it (and its kernels) afterwards.

    ``python`` is the interpreter whose JupyterLab runs (another virtual environment's, to test
    an installed wheel); ``extra_env`` is added to the server's environment.
    """
    scratch = Path(tempfile.mkdtemp(prefix="annolab-browser-"))
    home, root, app_settings = scratch / "home", scratch / "root", scratch / "lab-settings"
    for folder in (home, root, app_settings):
        folder.mkdir()
    (app_settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
    token = secrets.token_hex(16)
    log_path = scratch / "lab.log"
    lab: Lab | None = None
    try:
        # A port picked free can be taken before Lab binds it; port_retries=0 makes Lab exit
        # instead of moving to another port we would not know, so try again on a new one.
        for _attempt in range(3):
            port = _free_port()
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [
                        str(python),
                        "-m",
                        "jupyter",
                        "lab",
                        "--no-browser",
                        "--allow-root",
                        "--ip=127.0.0.1",
                        f"--port={port}",
                        "--ServerApp.port_retries=0",
                        f"--IdentityProvider.token={token}",
                        f"--ServerApp.root_dir={root}",
                        f"--LabApp.app_settings_dir={app_settings}",
                        "--LabApp.expose_app_in_browser=True",
                    ],
                    cwd=root,
                    env={**_scratch_env(home), **(extra_env or {})},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as one
                )
            lab = Lab(f"http://127.0.0.1:{port}/", token, root, home, log_path, process)
            if _wait_until_up(lab, startup_timeout):
                break
            _stop_lab(lab)
            lab = None
        if lab is None:
            raise HarnessError(f"JupyterLab did not start; its log:\n{log_path.read_text()}")
        yield lab
    finally:
        if lab is not None:
            _stop_lab(lab)
        shutil.rmtree(scratch, ignore_errors=True)


def _wait_until_up(lab: Lab, timeout: float) -> bool:
    """True once /api/status answers; False if Lab exited (e.g. the port was taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            return False
        try:
            lab.api("GET", "api/status", timeout=2)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
            continue
        return True
    raise HarnessError(
        f"JupyterLab did not answer /api/status within {timeout:.0f} s; its log:\n{lab.log_tail()}"
    )


def _stop_lab(lab: Lab) -> None:
    """Asks the server to shut down its kernels and exit; kills whatever is left."""
    import psutil  # ipykernel depends on it, so it is there wherever Lab is

    try:
        kids = psutil.Process(lab.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    if lab.process.poll() is None:
        try:
            lab.api("POST", "api/shutdown", timeout=5)
            lab.process.wait(timeout=15)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass  # the kill below takes over
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if lab.process.poll() is not None:
            break
        try:
            os.killpg(lab.process.pid, sig)
            lab.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    # Kernels run in process groups of their own; any that outlived the server go too.
    for kid in kids:
        with suppress(psutil.NoSuchProcess):
            kid.kill()


# --- the browser -----------------------------------------------------------------------------


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Debian's headless Chromium through Playwright (never Playwright's downloaded browsers)."""
    problem = missing_requirements()
    if problem:
        raise HarnessError(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- a notebook in a page --------------------------------------------------------------------


@dataclass
class CellOutput:
    """What one executed cell produced."""

    index: int
    execution_count: int
    outputs: list[dict[str, Any]]  # nbformat output dicts, from Lab's cell model
    locator: Locator  # the cell's output area in the page

    @property
    def text(self) -> str:
        """Streams and ``text/plain`` results, as the kernel sent them."""
        parts = []
        for out in self.outputs:
            if out["output_type"] == "stream":
                parts.append(_joined(out["text"]))
            elif "data" in out and "text/plain" in out["data"]:
                parts.append(_joined(out["data"]["text/plain"]) + "\n")
        return "".join(parts)

    @property
    def error(self) -> str | None:
        """The traceback (without colour codes) when the cell raised."""
        for out in self.outputs:
            if out["output_type"] == "error":
                return _ANSI.sub("", "\n".join(out["traceback"]))
        return None

    def widget(self, index: int = -1) -> Locator:
        """The host element of the ``index``-th anywidget this cell displayed."""
        return _nth(self.locator.locator(ANYWIDGET_SELECTOR), index)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def _nth(locator: Locator, index: int) -> Locator:
    return locator.nth(index if index >= -1 else locator.count() + index)


class Notebook:
    """A fresh notebook open in its own page, with its kernel started and idle.

    ``dialogs``, ``console_errors`` and ``page_errors`` collect what the page raised (dialogs
    are dismissed), so a test can assert that nothing did.
    """

    def __init__(self, lab: Lab, page: Page, path: str) -> None:
        self.lab = lab
        self.page = page
        self.path = path
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.theme_changed = False
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.add_init_script(_PAGE_HELPERS)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    # -- opening ------------------------------------------------------------------------------

    def open(self, timeout: float = 60) -> None:
        """Loads Lab on this notebook (in a workspace of its own, so no other notebook from the
        default workspace is restored) and waits for the kernel to be idle."""
        workspace = f"t-{uuid.uuid4().hex[:10]}"
        self.page.goto(self.lab.page_url(f"lab/workspaces/{workspace}/tree/{self.path}"))
        # The execution indicator can say idle before the notebook takes key presses (the
        # first Shift+Enter was lost that way); the status bar text comes later, and is enough.
        expect(self.page.get_by_text(KERNEL_IDLE, exact=True)).to_be_visible(timeout=timeout * 1000)
        expect(self._cells.first).to_be_visible()
        self.wait_for_splash()

    # -- cells --------------------------------------------------------------------------------

    @property
    def _cells(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def cell_count(self) -> int:
        count: int = self.page.evaluate("p => window.__annolab.cellCount(p)", self.path)
        return count

    def run(self, code: str, timeout: float = 60, *, check: bool = True) -> CellOutput:
        """Puts ``code`` in a new cell at the end, runs it with Shift+Enter, and returns its
        output once it has finished and any widget it displayed has rendered.

        With ``check`` (the default) a cell that raised fails with its traceback.
        """
        if not code.strip():
            msg = "run() needs code: Lab does not send a blank cell to the kernel"
            raise ValueError(msg)
        index: int = self.page.evaluate("p => window.__annolab.ensureEmptyLastCell(p)", self.path)
        cell = self._cells.nth(index)
        # Insert the text in one go, the way a paste does: typing key by key would be slow and
        # would trigger the editor's auto-indent on every newline.
        cell.locator(".jp-InputArea-editor .cm-content").click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(code)
        source = self._cell_model(index)["source"]
        if source != code:
            msg = f"cell {index} holds {source!r} after inserting {code!r}"
            raise HarnessError(msg)
        self.page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-InputArea-prompt")).to_have_text(
            re.compile(r"^\[\d+\]:$"), timeout=timeout * 1000
        )
        self.wait_until_idle(timeout)
        model = self._cell_model(index)
        output = CellOutput(
            index=index,
            execution_count=model["executionCount"],
            outputs=model["outputs"],
            locator=cell.locator(".jp-Cell-outputArea"),
        )
        if check and output.error is not None:
            raise CellError(f"cell {index} raised:\n{code}\n---\n{output.error}")
        # A widget output is a placeholder until its view renders: ipywidgets' controls are
        # there once attached; an anywidget host is empty until the widget's module has loaded
        # and render() has run.
        widgets = sum(WIDGET_MIME in out.get("data", {}) for out in output.outputs)
        expect(output.locator.locator(RENDERED_WIDGET_SELECTOR)).to_have_count(
            widgets, timeout=timeout * 1000
        )
        return output

    def value(self, expr: str, timeout: float = 60) -> Any:
        """The value of the Python expression ``expr`` in the kernel, through JSON."""
        output = self.run(f"import json as _json\nprint(_json.dumps({expr}))", timeout)
        lines = output.text.strip().splitlines()
        if not lines:
            msg = f"{expr} printed nothing; the cell's outputs: {output.outputs}"
            raise HarnessError(msg)
        return json.loads(lines[-1])

    def widget(self, index: int = -1) -> Locator:
        """The host element (anywidget's ``el``) of the ``index``-th anywidget in the notebook."""
        return _nth(self.page.locator(f".jp-NotebookPanel {ANYWIDGET_SELECTOR}"), index)

    def wait_until_idle(self, timeout: float = 60) -> None:
        expect(self.page.get_by_text(KERNEL_IDLE, exact=True)).to_be_visible(timeout=timeout * 1000)

    def _cell_model(self, index: int) -> dict[str, Any]:
        model: dict[str, Any] = self.page.evaluate(
            "([p, i]) => window.__annolab.cell(p, i)", [self.path, index]
        )
        return model

    # -- the rest of Lab ----------------------------------------------------------------------

    def execute_lab_command(self, command: str, args: dict[str, Any] | None = None) -> None:
        """Runs a JupyterLab command, e.g. ``("apputils:change-theme", {"theme": ...})``."""
        self.page.evaluate("([c, a]) => window.__annolab.execute(c, a)", [command, args or {}])

    def set_theme(self, theme: str) -> None:
        """Switches Lab to ``theme`` (``DARK_THEME``, ``LIGHT_THEME``) and waits until it shows.

        The theme is a user setting of the shared server, so the fixture puts it back after.
        """
        self.theme_changed = True
        self.execute_lab_command("apputils:change-theme", {"theme": theme})
        expect(self.page.locator("body")).to_have_attribute("data-jp-theme-name", theme)
        self.wait_for_splash()

    def wait_for_splash(self) -> None:
        """Waits until Lab's splash screen is gone: it covers the page while Lab loads and
        again while a theme loads, after the new theme's name is already on <body>."""
        expect(self.page.locator("#jupyterlab-splash")).to_have_count(0)

    def screenshot(self, name: str, target: Locator | None = None) -> Path:
        """Saves the page (or ``target``) as ``tests/browser/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.png"
        if target is None:
            self.page.screenshot(path=path)
        else:
            target.screenshot(path=path)
        return path

    def close(self) -> None:
        """Closes the page (without Lab's "unsaved changes" prompt) and shuts the kernel down."""
        try:
            self.page.context.close()
        finally:
            self.lab.shutdown_sessions(self.path)
            if self.theme_changed:
                self.lab.reset_theme()


def new_notebook_file(lab: Lab, stem: str) -> str:
    """Writes an empty Python notebook with a unique name into Lab's root; returns its path."""
    name = f"{re.sub(r'[^A-Za-z0-9_-]+', '-', stem).strip('-')[:60]}-{uuid.uuid4().hex[:6]}.ipynb"
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "id": uuid.uuid4().hex[:8],
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": "",
            }
        ],
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root_dir / name).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return name


def open_notebook(lab: Lab, browser: Browser, stem: str) -> Notebook:
    """A new notebook in a new browser context (fresh storage, light colour scheme)."""
    path = new_notebook_file(lab, stem)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    context.set_default_timeout(30_000)
    notebook = Notebook(lab, context.new_page(), path)
    try:
        notebook.open()
    except Exception as exc:
        shot = notebook.screenshot(f"FAILED-open-{path}")
        notebook.close()
        msg = f"could not open {path} in Lab: {exc}\nscreenshot: {shot}\nLab log:\n{lab.log_tail()}"
        raise HarnessError(msg) from exc
    return notebook
