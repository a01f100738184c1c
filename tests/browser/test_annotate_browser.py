"""``project.annotate()`` in real JupyterLab: the loop driven from the keyboard, checked in
the database from the next cell. Texts from WNUT 2017 (CC-BY 4.0)."""

from __future__ import annotations

import re
import uuid

import pytest

from annolab.datasets import wnut17
from tests.browser.lab import Notebook, expect

pytestmark = [pytest.mark.browser, pytest.mark.db]


def test_the_loop_confirms_skips_and_comes_back_to_the_skipped_task(
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
    header = area.locator(".annolab-loop-header")
    bar = area.locator(".widget-hprogress .progress-bar")

    def shown(text: str) -> None:
        expect(area.locator(".annolab-classify-text")).to_have_text(text)

    def bar_at(done: int, total: int) -> None:
        # ipywidgets sets the bar's width to 100 * value / max percent; the browser keeps six
        # digits of it (33.3333%), so the whole percent is compared.
        whole = 100 * done // total
        expect(bar).to_have_attribute("style", re.compile(rf"width: {whole}(\.\d+)?%"))

    expect(header).to_contain_text(f"{name} · task t0 · 1 of 3")
    expect(area.get_by_text("0 of 3 in your queue done; 3 to go")).to_be_visible()
    expect(area.get_by_text("Guidelines")).to_be_visible()
    bar_at(0, 3)
    shown(texts[0])
    item = area.locator(".annolab-classify-item")
    item.click()
    keys.press("1")
    keys.press("Control+Enter")  # submit & next
    expect(area.get_by_text(re.compile(r"^Submitted t0 at \d\d:\d\d:\d\d$"))).to_be_visible()
    expect(header).to_contain_text("task t1 · 2 of 3")
    bar_at(1, 3)
    shown(texts[1])

    item.click()
    keys.press("2")
    expect(area.locator(".annolab-action-save")).to_be_visible()
    keys.press("Control+s")  # a draft: the task stays on screen, and the loop says so
    expect(area.get_by_text(re.compile(r"^Draft saved \d\d:\d\d:\d\d$"))).to_be_visible()
    notebook.screenshot("annotate_loop", area)
    assert notebook.value(
        "proj.annotations().select('external_id', 'status', 'payload').rows()"
    ) == [
        ["t0", "submitted", '{"kind": "choice", "label": "positive"}'],
        ["t1", "draft", '{"kind": "choice", "label": "negative"}'],
    ]
    shown(texts[1])

    item.click()
    keys.press("Escape")  # skip: set aside, not gone
    shown(texts[2])
    expect(area.get_by_text("Skipped t1: it is kept in Back to skipped (1)")).to_be_visible()
    expect(area.get_by_text("1 of 3 in your queue done; 2 to go (1 skipped)")).to_be_visible()
    bar_at(1, 3)  # the denominator stays 3
    item.click()
    keys.press("3")
    area.locator(".annolab-action-submit").click()
    expect(area.get_by_text(re.compile(r"^No new tasks left\. You skipped 1"))).to_be_visible()
    bar_at(2, 3)
    assert notebook.value("[p.completed, p.total] if (p := proj.progress()) else None") == [2, 3]

    area.get_by_role("button", name="Back to skipped (1)").click()
    shown(texts[1])  # the skipped task, with the draft saved before the skip
    expect(header).to_contain_text("task t1 · 3 of 3")
    expect(area.get_by_text("Reopened t1")).to_be_visible()
    area.locator(".annolab-action-submit").click()
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    expect(area.get_by_text(re.compile(r"^Submitted t1 at "))).to_be_visible()
    bar_at(3, 3)
    assert notebook.value(
        "proj.annotations().filter(pl.col('status') == 'submitted')"
        ".sort('external_id').select('external_id', 'payload').rows()"
    ) == [
        ["t0", '{"kind": "choice", "label": "positive"}'],
        ["t1", '{"kind": "choice", "label": "negative"}'],
        ["t2", '{"kind": "choice", "label": "mixed"}'],
    ]
    assert notebook.page_errors == []


def test_predictions_imported_from_conll_are_offered_and_accepted_in_the_loop(
    notebook: Notebook, db_url: str
) -> None:
    # The dev set's second and third documents; the second names three locations.
    name = f"pre-{uuid.uuid4().hex[:8]}"
    output = notebook.run(
        "import annolab as al, polars as pl, tempfile, pathlib\n"
        "from annolab.datasets import WNUT17_LABELS\n"
        "from importlib.resources import files\n"
        "dev = (files('annolab') / 'data' / 'wnut17_dev.conll').read_text()\n"
        "path = pathlib.Path(tempfile.mkdtemp()) / 'model.conll'\n"
        "path.write_text('\\n\\n'.join(dev.split('\\n\\n')[1:3]) + '\\n\\n')\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=WNUT17_LABELS)\n"
        "report = proj.import_file(path, into='predictions', user='tagger')\n"
        "loop = proj.annotate()\n"
        "loop"
    )
    assert notebook.value("[report.tasks_added, report.annotations, report.suggestions]") == [
        2,
        0,
        2,
    ]
    predicted = notebook.value(
        "__import__('json').loads(proj.annotations()"
        ".filter(pl.col('external_id') == 'model-00001')['payload'][0])['spans']"
    )
    assert [s["label"] for s in predicted] == ["location"] * 3
    area = output.locator
    tags = area.locator(".annolab-ner-tag-suggestion")
    expect(tags).to_have_count(3)
    notebook.screenshot("annotate_predictions", area)
    area.get_by_role("button", name="Accept all suggestions").click()
    expect(tags).to_have_count(0)
    area.locator(".annolab-action-submit").click()
    notebook.wait_until_idle()
    mine = notebook.value(
        "proj.annotations().filter(pl.col('user') == 'alice')"
        ".select('external_id', 'kind', 'status', 'payload').rows()"
    )
    assert [row[:3] for row in mine] == [["model-00001", "human", "submitted"]]
    spans = [{k: s[k] for k in ("start", "end", "label")} for s in predicted]
    assert notebook.value(f"__import__('json').loads({mine[0][3]!r})['spans']") == spans
    assert notebook.page_errors == []
