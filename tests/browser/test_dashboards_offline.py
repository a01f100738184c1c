"""Dashboards draw with the network cut: in JupyterLab, in Notebook 7, and exported to HTML.

Chromium refuses every request whose host is not loopback, and each test asserts that none was
even attempted (the exported page is allowed exactly the two that nbconvert's own template makes,
require.js and MathJax, which the chart does not need). A chart counts as drawn when its
vega-embed element holds Vega's SVG with mark elements inside, and no "Error loading script" or
"could not draw" text is on the page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.browser.lab import Lab, Notebook, expect, new_notebook_file

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "blob", "data", "about", "chrome-error"}
FAILURE_TEXTS = ("Error loading script", "could not draw this chart", "is not built")

# The project dashboard (five panels) from a small annotations frame, as a notebook user makes it.
DASHBOARD_CELL = """\
import datetime as dt
import json

import polars as pl

import annolab as al

def spans(*found):
    return json.dumps({"kind": "spans", "spans": [
        {"start": s, "end": e, "label": label} for s, e, label in found]})

rows = [
    (1, "ann", spans((0, 3, "PER"), (8, 17, "PER"))),
    (1, "bob", spans((0, 3, "PER"), (8, 11, "PER"))),
    (1, "cy", spans((0, 3, "LOC"))),
    (2, "ann", spans((0, 4, "LOC"))),
    (2, "bob", spans((0, 4, "LOC"))),
    (2, "cy", spans()),
]
t0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
annotations = pl.DataFrame({
    "task_id": [r[0] for r in rows],
    "user": [r[1] for r in rows],
    "payload": [r[2] for r in rows],
    "kind": ["human"] * len(rows),
    "status": ["submitted"] * len(rows),
    "created_at": [t0 + dt.timedelta(hours=i) for i in range(len(rows))],
    "time_spent": [10.0 + i for i in range(len(rows))],
})
al.dashboards.project(annotations)"""
PANEL_TITLES = [
    "Project quality",
    "Annotations submitted",
    "Agreement over time",
    "Agreement per label",
    "Confusion between annotators",
    "Annotator hours per step",
]
# (mark, items) per mark group: a line and its six points per hour for progress and for
# agreement over time, a bar for each of PER and LOC, the 3 x 3 confusion grid less its one
# empty (none)/(none) cell, and the one workflow step's hours.
DRAWN_MARKS = [
    ["line", 1],
    ["symbol", 6],
    ["line", 1],
    ["symbol", 6],
    ["rect", 2],
    ["rect", 8],
    ["rect", 1],
]


class NetworkCut:
    """Every non-loopback request a browser context attempts, refused and recorded."""

    def __init__(self, context: BrowserContext) -> None:
        self.attempted: list[str] = []
        context.route("**/*", self._route)
        # Also what no route sees: requests served from caches, and web sockets.
        context.on("request", lambda request: self._note(request.url))
        context.on("page", self._watch_sockets)

    def _watch_sockets(self, page: Page) -> None:
        page.on("websocket", lambda socket: self._note(socket.url))

    @staticmethod
    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS

    def _check(self, url: str) -> bool:
        if self.is_local(url):
            return True
        if url not in self.attempted:
            self.attempted.append(url)
        return False

    def _note(self, url: str) -> None:
        self._check(url)

    def _route(self, route: Route) -> None:
        if self._check(route.request.url):
            route.continue_()
        else:
            route.abort("internetdisconnected")


def assert_dashboard_drawn(scope: Locator, page: Page) -> None:
    """The dashboard in ``scope`` is drawn: Vega's SVG with every panel's marks."""
    chart = scope.locator(".annolab-chart.vega-embed")
    expect(chart).to_have_count(1, timeout=60_000)
    expect(chart.locator("svg.marks")).to_have_count(1, timeout=30_000)
    page_text = page.inner_text("body")
    for failure in FAILURE_TEXTS:
        assert failure not in page_text, f"{failure!r} is on the page"
    titles = chart.locator("svg.marks g.role-title-text text").all_text_contents()
    assert sorted(titles) == sorted(PANEL_TITLES)
    marks = chart.locator("svg.marks g.role-mark").evaluate_all(
        "groups => groups.map(g => [g.getAttribute('class').match(/mark-(\\w+)/)[1],"
        " g.children.length])"
    )
    assert marks == DRAWN_MARKS
    box = chart.locator("svg.marks").bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 600


def offline_context(browser: Browser) -> tuple[BrowserContext, NetworkCut]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    context.set_default_timeout(30_000)
    return context, NetworkCut(context)


def test_a_dashboard_draws_in_jupyterlab_with_the_network_cut(
    lab: Lab, lab_browser: Browser
) -> None:
    context, cut = offline_context(lab_browser)
    notebook = Notebook(lab, context.new_page(), new_notebook_file(lab, "dashboard-offline"))
    try:
        notebook.open()
        output = notebook.run(DASHBOARD_CELL, timeout=120)
        assert output.text.startswith("<Altair chart 'Project quality'"), output.text
        assert_dashboard_drawn(output.locator, notebook.page)
        # Both charts of one page share one unpacked bundle: a second one unpacks nothing.
        blobs_before = notebook.page.evaluate("Object.keys(globalThis.__annolabVega)")
        second = notebook.run("al.dashboards.agreement_per_label(annotations)")
        expect(second.locator.locator("svg.marks")).to_have_count(1)
        assert notebook.page.evaluate("Object.keys(globalThis.__annolabVega)") == blobs_before
        assert len(blobs_before) == 1
        notebook.screenshot("dashboard-offline-lab", output.locator)
        assert cut.attempted == []
        assert notebook.page_errors == []
        # The control: Altair's own renderer, turned back on as the docs say, reaches for its
        # CDN, is refused, and says so. So the cut above was real.
        altair_own = notebook.run(
            'import altair as alt\nalt.renderers.enable("default")\n'
            "al.dashboards.agreement_per_label(annotations)"
        )
        expect(altair_own.locator).to_contain_text("Error loading script", timeout=30_000)
        assert cut.attempted
        assert all(urlsplit(url).hostname == "cdn.jsdelivr.net" for url in cut.attempted)
    finally:
        notebook.close()


def test_a_dashboard_draws_in_notebook_7_with_the_network_cut(
    lab: Lab, lab_browser: Browser
) -> None:
    path = notebook_with(lab, "dashboard-offline-nb7", DASHBOARD_CELL)
    context, cut = offline_context(lab_browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    try:
        page.goto(lab.page_url(f"notebooks/{path}"))
        # Notebook 7's own page, not Lab's: its menu bar and a kernel that reports idle.
        expect(page.locator("body")).to_have_attribute("data-notebook", "notebooks")
        expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle", timeout=60_000
        )
        expect(page.get_by_text("Python 3 (ipykernel)", exact=True).first).to_be_visible()
        cell = page.locator(".jp-Notebook .jp-CodeCell").first
        run_all_cells(page, cell.locator(".jp-InputArea-prompt"))
        outputs = cell.locator(".jp-Cell-outputArea")
        assert_dashboard_drawn(outputs, page)
        assert cut.attempted == []
        # Notebook 7.6 itself throws "Cannot read properties of undefined (reading 'schema')"
        # while loading its settings, chart or none; any error of ours would come from another
        # script (the chart's inline one, or the unpacked bundle's blob: URL).
        assert [e for e in errors if "/static/notebook/notebook_core." not in e] == []
    finally:
        context.close()
        lab.shutdown_sessions(path)


def run_all_cells(page: Page, prompt: Locator) -> None:
    """Run > Run All Cells in Notebook 7's menu, until the cell's prompt shows it ran.

    As in Lab, the kernel can report idle before it takes work, and the first request is lost:
    a run that has not started within 15 s is asked for again.
    """
    for _attempt in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            expect(prompt).to_have_text(re.compile(r"^\[(\*|\d+)\]:$"), timeout=15_000)
        except AssertionError:
            continue
        expect(prompt).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=120_000)
        return
    msg = f"Notebook 7 did not run the cell: its prompt still reads {prompt.inner_text()!r}"
    raise AssertionError(msg)


def notebook_with(lab: Lab, stem: str, source: str) -> str:
    """A notebook in Lab's root holding one code cell of ``source``; returns its path."""
    path = new_notebook_file(lab, stem)
    notebook = json.loads((lab.root_dir / path).read_text(encoding="utf-8"))
    notebook["cells"][0]["source"] = source
    (lab.root_dir / path).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def test_an_exported_html_dashboard_draws_from_disk_with_the_network_cut(
    lab: Lab, lab_browser: Browser, tmp_path: Path
) -> None:
    from nbconvert.exporters import HTMLExporter

    source = tmp_path / "dashboard.ipynb"
    source.write_text(
        json.dumps(notebook_json(DASHBOARD_CELL, "al.dashboards.agreement_per_label(annotations)"))
    )
    export(source, tmp_path)
    html = (tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert html.count('class="annolab-chart"') == 2
    # nbconvert's own page loads require.js and MathJax from a CDN; the charts need neither.
    exporter = HTMLExporter()
    template_urls = {exporter.require_js_url, exporter.mathjax_url}

    context, cut = offline_context(lab_browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto((tmp_path / "dashboard.html").as_uri())
        outputs = page.locator(".jp-Cell-outputArea").first
        assert_dashboard_drawn(outputs, page)
        second = page.locator(".jp-Cell-outputArea").nth(1).locator(".annolab-chart svg.marks")
        expect(second).to_have_count(1)
        assert set(cut.attempted) == template_urls
        assert not any("vega" in url for url in cut.attempted)
        assert errors == [], errors
    finally:
        context.close()


def notebook_json(*sources: str) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "id": uuid.uuid4().hex[:8],
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for source in sources
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def export(notebook: Path, folder: Path) -> None:
    """``jupyter nbconvert --to html --execute``, with every Jupyter folder inside ``folder``."""
    home = folder / "home"
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        IPYTHONDIR=str(home / ".ipython"),
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute"),
            *(str(notebook), "--output-dir", str(folder)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"Writing \d+ bytes to .*dashboard\.html", done.stderr), done.stderr
