"""Telemetry in real JupyterLab: labelling in ``project.annotate()`` with keys, a click and two
Ctrl+Z, then submitting, stores one summary whose counts match what was done."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.lab import Notebook, expect

pytestmark = [pytest.mark.browser, pytest.mark.db]


def test_the_loop_stores_the_counts_of_what_the_annotator_did(
    notebook: Notebook, db_url: str
) -> None:
    name = f"tele-{uuid.uuid4().hex[:8]}"
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['positive', 'negative', 'mixed'],\n"
        "                          layout='classify')\n"
        "proj.add_tasks(pl.DataFrame({'id': ['t0', 't1'], 'text': ['so good', 'meh']}), id='id')\n"
        "loop = proj.annotate()\n"
        "loop"
    )
    area = output.locator
    keys = notebook.page.keyboard
    expect(area.locator(".annolab-classify-text")).to_have_text("so good")
    area.locator(".annolab-classify-item").click()  # one pointer press
    keys.press("1")  # positive: an edit
    keys.press("2")  # negative: an edit
    chosen = area.locator("[aria-checked='true']")
    keys.press("Control+z")  # back to positive
    keys.press("Control+z")  # back to nothing
    expect(chosen).to_have_count(0)
    keys.press("3")  # mixed: an edit
    keys.press("Control+Enter")  # submit & next
    expect(area.locator(".annolab-classify-text")).to_have_text("meh")
    notebook.wait_until_idle()
    assert notebook.value("proj.annotations().select('external_id', 'payload').rows()") == [
        ["t0", '{"kind": "choice", "label": "mixed"}']
    ]
    rows = notebook.value(
        "proj.telemetry().select('user', 'task', 'step', 'widget', 'reason', 'keys',"
        " 'pointer', 'edits', 'undos', 'redos', 'active_ms', 'idle_ms').rows(named=True)"
    )
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["user"], row["task"], row["step"], row["widget"], row["reason"]) == (
        "alice",
        "t0",
        "annotate",
        "classify",
        "submit",
    )
    assert row["undos"] == 2
    assert row["redos"] == 0
    assert row["edits"] == 3  # the undos' own changes are not edits
    assert row["pointer"] >= 1
    assert row["keys"] >= 6  # 1, 2, z, z, 3, Enter (and the Control presses)
    # Well under the 30 s idle threshold between inputs: all of it active.
    assert row["idle_ms"] == 0
    assert 0 < row["active_ms"] < 120_000
    assert notebook.page_errors == []
