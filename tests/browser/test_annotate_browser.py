"""``project.annotate()`` in real JupyterLab: the loop driven from the keyboard, checked in
the database from the next cell. Texts from WNUT 2017 (CC-BY 4.0)."""

from __future__ import annotations

import uuid

import pytest

from annolab.datasets import wnut17
from tests.browser.lab import Notebook, expect

pytestmark = [pytest.mark.browser, pytest.mark.db]


def test_the_loop_submits_drafts_skips_and_ends_from_the_keyboard(
    notebook: Notebook, db_url: str
) -> None:
    texts = wnut17()["text"].head(3).to_list()
    name = f"loop-{uuid.uuid4().hex[:8]}"
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['positive', 'negative', 'mixed'],\n"
        "                          layout='classify', guidelines='The writer\\'s mood.')\n"
        f"proj.add_tasks(pl.DataFrame({{'id': ['t0', 't1', 't2'], 'text': {texts!r}}}), id='id')\n"
        "loop = proj.annotate()\n"
        "loop"
    )
    area = output.locator
    keys = notebook.page.keyboard

    def shown(text: str) -> None:
        expect(area.locator(".annolab-classify-text")).to_have_text(text)

    expect(area.get_by_text("0 of 3 in your queue done; 3 to go")).to_be_visible()
    shown(texts[0])
    item = area.locator(".annolab-classify-item")
    item.click()
    keys.press("1")
    keys.press("Control+Enter")  # submit & next
    expect(area.get_by_text("1 of 3 in your queue done; 2 to go")).to_be_visible()
    shown(texts[1])

    item.click()
    keys.press("2")
    expect(area.locator(".annolab-action-save")).to_be_visible()
    notebook.screenshot("annotate_loop", area)
    keys.press("Control+s")  # a draft: the task stays on screen
    notebook.wait_until_idle()
    assert notebook.value(
        "proj.annotations().select('external_id', 'status', 'payload').rows()"
    ) == [
        ["t0", "submitted", '{"kind": "choice", "label": "positive"}'],
        ["t1", "draft", '{"kind": "choice", "label": "negative"}'],
    ]
    shown(texts[1])

    item.click()
    keys.press("Escape")  # skip
    shown(texts[2])
    item.click()
    keys.press("3")
    area.locator(".annolab-action-submit").click()
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    assert notebook.value(
        "proj.annotations().filter(pl.col('status') == 'submitted')"
        ".select('external_id', 'payload').rows()"
    ) == [
        ["t0", '{"kind": "choice", "label": "positive"}'],
        ["t2", '{"kind": "choice", "label": "mixed"}'],
    ]
    assert notebook.page_errors == []
