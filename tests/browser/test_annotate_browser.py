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
