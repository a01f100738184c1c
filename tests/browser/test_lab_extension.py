"""The JupyterLab extension as a user gets it: the wheel, installed in a clean environment.

The wheel is built from this checkout and installed (with JupyterLab and Notebook 7) in a new
virtual environment; that environment's JupyterLab runs on the test database as the hub user
``lab-annotator``. In Chromium: the sidebar shows a project made beforehand through the API, its
queue opens in a tab, a task is labelled and submitted there, and the sidebar's counts move
without a reload, also when someone else submits elsewhere. In Notebook 7 the menu opens the
queue in the side panel.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from tests.browser.lab import Lab, expect, start_lab
from tests.conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.slow

LAB_USER = "lab-annotator"


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the built wheel, JupyterLab and Notebook 7 installed;
    its ``bin`` folder."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), REPO],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("annolab-*.whl")
    env_dir = tmp_path_factory.mktemp("clean") / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-input"]
    subprocess.run(
        [*pip, "--disable-pip-version-check", str(wheel), "jupyterlab>=4.2", "notebook>=7"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return env_dir / "bin"


@pytest.fixture(scope="module")
def clean_lab(clean_env: Path, db_url: str) -> Iterator[Lab]:
    extra = {"ANNOLAB_DATABASE_URL": db_url, "JUPYTERHUB_USER": LAB_USER}
    with start_lab(python=clean_env / "python", extra_env=extra) as server:
        yield server


@pytest.fixture
def page(lab_browser: Browser) -> Iterator[Page]:
    context = lab_browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _jupyter(clean_env: Path, *args: str) -> str:
    done = subprocess.run(
        [clean_env / "jupyter", *args], capture_output=True, text=True, timeout=120, check=True
    )
    # Without colours: the lists are printed with ANSI codes around "enabled" and "OK".
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


def test_the_wheel_installs_the_lab_and_server_extensions(clean_env: Path) -> None:
    labext = _jupyter(clean_env, "labextension", "list")
    assert re.search(r"annolab v0\.1\.0 enabled\s+OK", labext), labext
    server = _jupyter(clean_env, "server", "extension", "list")
    assert re.search(r"annolab enabled", server), server
    assert re.search(r"annolab 0\.1\.0 OK", server), server


def test_label_in_the_queue_tab_and_watch_the_sidebar(
    clean_lab: Lab, page: Page, workspace: al.Workspace
) -> None:
    name = f"lab-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(name, labels=["pos", "neg"], layout="classify")
    proj.add_tasks(
        pl.DataFrame({"id": ["a", "b", "c"], "text": ["great film", "awful", "fine"]}), id="id"
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(clean_lab.page_url(f"lab/workspaces/ext-{uuid.uuid4().hex[:8]}"))
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    # The sidebar's tab, then the project with its counts.
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='annolab-sidebar']").click()
    sidebar = page.locator("#annolab-sidebar")
    item = sidebar.locator(f"[data-project='{name}']")
    counts = item.locator(".annolab-Sidebar-counts")
    expect(counts).to_have_text("0/3 done · my queue: 0 done, 3 open")
    item.get_by_role("button", name="Open my queue").click()
    tab = page.locator(f"#annolab-queue-{name}")
    # The tab's own counts of my queue (the status line beside them is the loop's).
    expect(tab).to_have_attribute("data-open", "3")
    expect(tab).to_have_attribute("data-done", "0")
    first = tab.get_attribute("data-task")
    tab.locator(".annolab-classify-name", has_text="neg").click()
    page.keyboard.press("Control+Enter")  # focus is in the tab's widget: submit
    expect(tab).to_have_attribute("data-done", "1")
    expect(tab).to_have_attribute("data-open", "2")
    expect(tab).not_to_have_attribute("data-task", first or "")
    expect(counts).to_have_text("1/3 done · my queue: 1 done, 2 open")
    second = tab.get_attribute("data-task")
    tab.locator(".annolab-classify-name", has_text="pos").click()
    page.keyboard.press("Escape")  # skip: the next task, nothing stored
    expect(tab).not_to_have_attribute("data-task", second or "")
    expect(tab).to_have_attribute("data-open", "1")  # the skipped task is not mine any more
    expect(tab).to_have_attribute("data-done", "1")
    [stored] = proj.annotations().filter(pl.col("status") == "submitted")["payload"].to_list()
    assert '"label": "neg"' in stored or '"label":"neg"' in stored
    # Someone else submits from a notebook: the live stream moves the sidebar, no reload.
    other = proj.session("someone-else")
    assert other.next() is not None
    other.submit({"kind": "choice", "label": "pos"})
    expect(counts).to_have_text(re.compile(r"^2/3 done · my queue: 1 done, 1 open$"))
    # The dashboard draws with the Vega runtime the wheel ships: nothing is fetched elsewhere.
    item.get_by_role("button", name="Dashboard").click()
    dashboard = page.locator(f"#annolab-dashboard-{name}")
    expect(dashboard.locator("canvas, svg.marks").first).to_be_visible()
    outside = [url for url in requested if not url.startswith(clean_lab.url)]
    assert outside == []
    assert errors == []


def test_notebook_7_opens_the_queue_from_its_menu(
    clean_lab: Lab, page: Page, workspace: al.Workspace
) -> None:
    name = f"nb7-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(name, labels=["pos", "neg"], layout="classify")
    proj.add_tasks(pl.DataFrame({"id": ["a"], "text": ["good"]}), id="id")
    page.goto(clean_lab.page_url("tree"))
    menu = page.locator(".lm-MenuBar-itemLabel", has_text="Annolab")
    expect(menu).to_be_visible(timeout=60_000)
    menu.click()
    page.locator(".lm-Menu-itemLabel", has_text="Open My Annotation Queue…").click()
    page.locator(".jp-Dialog select").select_option(name)
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    # The tree page keeps its file browser: the queue opens in the side panel.
    tab = page.locator(f"#annolab-queue-{name}")
    tab.locator(".annolab-classify-name", has_text="pos").click()
    tab.locator(".annolab-action-submit").click()
    expect(tab).to_have_attribute("data-task", "")  # the queue is done
    expect(tab).to_have_attribute("data-open", "0")
    expect(tab.locator(".annolab-QueueTab-message")).to_contain_text("Nothing left")
    [payload] = proj.annotations()["payload"].to_list()
    assert json.loads(payload) == {"kind": "choice", "label": "pos"}


def test_new_project_and_export_from_the_annolab_menu(
    clean_lab: Lab, page: Page, workspace: al.Workspace
) -> None:
    page.goto(clean_lab.page_url(f"lab/workspaces/ext-{uuid.uuid4().hex[:8]}"))
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    name = f"menu-{uuid.uuid4().hex[:8]}"
    dialog = page.locator(".jp-Dialog")
    ok = dialog.locator(".jp-Dialog-button.jp-mod-accept")

    def menu(item: str) -> None:
        page.locator(".lm-MenuBar-itemLabel", has_text="Annolab").click()
        page.locator(".lm-Menu-itemLabel", has_text=item).click()

    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='annolab-sidebar']").click()
    menu("New Annotation Project from a Layout…")
    dialog.locator("input").fill(name)
    ok.click()
    dialog.locator("select").select_option("classify")
    ok.click()
    dialog.locator("input").fill("pos, neg")
    ok.click()
    # The sidebar, open beside the dialogs, shows the new project once it is made.
    counts = page.locator(f"#annolab-sidebar [data-project='{name}'] .annolab-Sidebar-counts")
    expect(counts).to_have_text("0/0 done · my queue: 0 done, 0 open")
    proj = workspace.project(name)
    assert (proj.layout_name, list(proj.labels.names)) == ("classify", ["pos", "neg"])
    proj.add_tasks(pl.DataFrame({"id": ["a"], "text": ["good"]}), id="id")
    proj.add_annotation("a", {"kind": "choice", "label": "pos"}, user="someone")
    menu("Export Annotation Project…")
    dialog.locator("select").select_option(name)
    ok.click()
    dialog.locator("input").fill(f"exports/{name}.jsonl")
    ok.click()
    expect(dialog).to_have_count(0)
    written = clean_lab.root_dir / "exports" / f"{name}.jsonl"
    deadline = time.monotonic() + 15
    while not written.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    [line] = written.read_text().splitlines()  # the one annotation, as proj.export writes it
    assert '"label": "pos"' in json.dumps(json.loads(line))


def test_spans_labelled_in_the_queue_tab_are_stored(
    clean_lab: Lab, page: Page, workspace: al.Workspace
) -> None:
    from tests.browser.test_ner_browser import RANGE_RECT_JS

    text = "Ada works at IBM"
    proj = workspace.create_project(f"ner-{uuid.uuid4().hex[:8]}", labels=["PER", "ORG"])
    proj.add_tasks(pl.DataFrame({"id": ["a"], "text": [text]}), id="id")
    page.goto(clean_lab.page_url(f"lab/workspaces/ext-{uuid.uuid4().hex[:8]}"))
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='annolab-sidebar']").click()
    page.locator(f"#annolab-sidebar [data-project='{proj.name}'] .annolab-Sidebar-open").click()
    tab = page.locator(f"#annolab-queue-{proj.name}")
    part = tab.locator(".annolab-QueueTab-part")
    expect(part.locator(".annolab-ner-text")).to_have_text(text)
    start = text.index("IBM")
    rect = part.evaluate(RANGE_RECT_JS, [start, start + 3])
    page.mouse.move(rect["x1"] + 1, rect["y1"])
    page.mouse.down()
    page.mouse.move(rect["x2"] - 1, rect["y2"], steps=6)
    page.mouse.up()
    page.keyboard.press("2")  # ORG's hotkey
    expect(part.locator(".annolab-ner-tag")).to_have_count(1)
    page.keyboard.press("Control+Enter")
    expect(tab).to_have_attribute("data-task", "")  # the queue is done
    expect(tab).to_have_attribute("data-open", "0")
    expect(tab.locator(".annolab-QueueTab-message")).to_contain_text("Nothing left")
    [payload] = proj.annotations()["payload"].to_list()
    assert json.loads(payload) == {
        "kind": "spans",
        "spans": [{"start": 13, "end": 16, "label": "ORG"}],
    }


# -- review and adjudication in the tab, and tabs restored after a reload -------------------


@pytest.fixture
def roles(workspace: al.Workspace) -> Iterator[Callable[[list[str]], None]]:
    """Sets the server's user's roles for one test; the default (annotator) afterwards."""
    yield lambda chosen: workspace.set_roles(LAB_USER, chosen)
    workspace.set_roles(LAB_USER, ["annotator"])


def _open_queue(clean_lab: Lab, page: Page, name: str) -> Locator:
    page.goto(clean_lab.page_url(f"lab/workspaces/ext-{uuid.uuid4().hex[:8]}"))
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='annolab-sidebar']").click()
    page.locator(f"#annolab-sidebar [data-project='{name}'] .annolab-Sidebar-open").click()
    return page.locator(f"#annolab-queue-{name}")


def test_a_reviewer_approves_and_rejects_in_the_tab(
    clean_lab: Lab, page: Page, workspace: al.Workspace, roles: Callable[[list[str]], None]
) -> None:
    proj = workspace.create_project(
        f"rev-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout="classify",
        workflow=al.workflows.review(fraction=1.0),
    )
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["great", "awful"]}), id="id")
    worker = proj.session("someone-else")
    for label in ("pos", "pos"):
        assert worker.next() is not None
        worker.submit({"kind": "choice", "label": label})
    roles(["reviewer"])  # a rejected task must not come back to this user to annotate
    tab = _open_queue(clean_lab, page, proj.name)
    expect(tab).to_have_attribute("data-step", "review")
    expect(tab).to_have_attribute("data-done", "0")
    expect(tab).to_have_attribute("data-open", "2")
    step = tab.locator(".annolab-QueueTab-step")
    expect(step.locator("h3")).to_have_text("Work under review (annotator hidden: blind workflow)")
    expect(step.locator(".annolab-QueueTab-line")).to_have_text("Label: pos")
    approved = tab.get_attribute("data-task")
    step.locator("[data-decision='approve']").click()
    expect(tab).to_have_attribute("data-done", "1")
    expect(tab).to_have_attribute("data-open", "1")
    rejected = tab.get_attribute("data-task")
    assert rejected not in (approved, "")
    # Reject without a reason is refused, saying why; nothing moves.
    step.locator("[data-decision='reject']").click()
    expect(step.locator(".annolab-QueueTab-error")).to_contain_text(
        "a rejection needs a reason saying what is wrong"
    )
    expect(tab).to_have_attribute("data-task", rejected or "")
    step.locator(".annolab-QueueTab-reason").fill("awful is not positive")
    step.locator("[data-decision='reject']").click()
    expect(tab).to_have_attribute("data-task", "")
    expect(tab).to_have_attribute("data-done", "2")
    expect(tab).to_have_attribute("data-open", "0")
    with workspace.engine.begin() as conn:
        decisions = conn.execute(
            sa.text(
                "SELECT t.external_id, r.decision::text, r.comment, t.status::text"
                " FROM reviews r JOIN annotations a ON a.id = r.annotation_id"
                " JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p ORDER BY 1"
            ),
            {"p": proj.id},
        ).all()
    assert [tuple(d) for d in decisions] == [
        (approved, "approve", "", "completed"),
        (rejected, "reject", "awful is not positive", "pending"),
    ]


def test_an_adjudicator_picks_an_answer_in_the_tab(
    clean_lab: Lab, page: Page, workspace: al.Workspace, roles: Callable[[list[str]], None]
) -> None:
    proj = workspace.create_project(
        f"adj-{uuid.uuid4().hex[:8]}",
        labels=["person", "location"],
        workflow=al.workflows.vote(annotators=2, metric="span_f1", threshold=0.9),
    )
    proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace in Paris"]}), id="id")
    for who, spans in {
        "ann": [(0, 3, "person"), (17, 22, "location")],
        "bea": [(0, 3, "person")],
    }.items():
        session = proj.session(f"{proj.name}-{who}")
        assert session.next() is not None
        session.submit(
            {
                "kind": "spans",
                "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans],
            }
        )
    roles(["adjudicator"])
    tab = _open_queue(clean_lab, page, proj.name)
    expect(tab).to_have_attribute("data-step", "adjudicate")
    expect(tab).to_have_attribute("data-open", "1")
    columns = tab.locator(".annolab-QueueTab-answer")
    expect(columns).to_have_count(2)
    # Each answer drawn read-only by the preview bundle, inside its own column.
    expect(columns.locator(".annolab-QueueTab-part.annolab-mod-readonly")).to_have_count(2)
    expect(columns.nth(0).locator(".annolab-QueueTab-who")).to_have_text("Annotator 1")
    notes = tab.locator(".annolab-QueueTab-note")
    expect(notes.filter(has_text="Not in every answer: 'Paris' location")).to_have_count(1)
    tab.locator("[data-decision='pick1']").click()
    expect(tab).to_have_attribute("data-task", "")
    expect(tab).to_have_attribute("data-done", "1")
    expect(tab).to_have_attribute("data-open", "0")
    with workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.payload::text, a.parent_id IS NOT NULL, t.status::text"
                " FROM annotations a JOIN tasks t ON t.id = a.task_id"
                " WHERE t.project_id = :p AND a.step = 'adjudicate'"
            ),
            {"p": proj.id},
        ).all()
    [(payload, linked, status)] = rows
    assert (linked, status) == (True, "completed")
    assert len(json.loads(payload)["spans"]) in (1, 2)


def test_an_open_queue_tab_comes_back_after_a_reload(
    clean_lab: Lab, page: Page, workspace: al.Workspace
) -> None:
    proj = workspace.create_project(
        f"back-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["great", "awful"]}), id="id")
    tab = _open_queue(clean_lab, page, proj.name)
    expect(tab.locator(".annolab-classify-name")).to_have_count(2)
    task = tab.get_attribute("data-task")
    assert task in ("a", "b")
    # The restorer saves the tab with its desk once the desk is known; then the page reloads.
    page.wait_for_timeout(1500)
    page.reload()
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    tab = page.locator(f"#annolab-queue-{proj.name}")
    expect(tab).to_have_attribute("data-task", task or "")
    tab.locator(".annolab-classify-name", has_text="neg").click()
    tab.locator(".annolab-action-submit").click()
    expect(tab).to_have_attribute("data-done", "1")
    [payload] = proj.annotations()["payload"].to_list()
    assert json.loads(payload) == {"kind": "choice", "label": "neg"}
