"""annolab.widgets.errors.Errors in real JupyterLab in Chromium: the errors in a model's NER
output for a WNUT 2017 tweet marked by mouse and keyboard in a cell, with comments, and in
``project.annotate()`` down to the database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect
from tests.browser.test_ner_browser import click_at, drag_over

pytestmark = pytest.mark.browser

# A WNUT 2017 tweet (train set; CC-BY 4.0, Derczynski et al. 2017, "Results of the WNUT2017
# Shared Task on Novel and Emerging Entity Recognition"): "@paulwalk It 's the view from where
# I 'm living for two weeks . Empire State Building = ESB . Pretty bad storm here last
# evening ." A plausible model NER output for it, rendered as text, and the expected output.
OUTPUT = "PERSON: Empire State Building\nLOCATION: ESB .\nEVENT: bad storm"
REFERENCE = "LOCATION: Empire State Building\nLOCATION: ESB"
TAXONOMY = ["mislabeling", "missing_entity", "incorrect_boundary", "hallucination"]
SETUP = (
    "from annolab.widgets.errors import Errors\n"
    f"OUTPUT, REFERENCE, TAXONOMY = {OUTPUT!r}, {REFERENCE!r}, {TAXONOMY!r}\n"
)


def error(part: str, label: str, comment: str = "", text: str = OUTPUT) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label, "comment": comment}


def test_errors_marked_and_commented_by_mouse_and_keyboard(notebook: Notebook) -> None:
    output = notebook.run(SETUP + "w = Errors(OUTPUT, labels=TAXONOMY, reference=REFERENCE)\nw")
    widget = output.widget()
    expect(widget.locator(".annolab-ner-text")).to_be_visible()
    reference = widget.locator(".annolab-errors-reference")
    expect(reference.locator(".annolab-errors-reference-text")).to_have_text(REFERENCE)
    expect(widget.locator(".annolab-errors-legend dt")).to_have_text(
        ["1 mislabeling", "2 missing_entity", "3 incorrect_boundary", "4 hallucination"]
    )
    keys = notebook.page.keyboard

    # Mouse: drag over the wrong type, press its error type's key.
    drag_over(notebook, widget, OUTPUT, "PERSON")
    keys.press("1")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["PERSON"])
    # The new span has focus: c opens its comment, Enter keeps it and goes back to the text.
    comment = widget.locator(".annolab-errors-comment-input")
    expect(widget.locator(".annolab-errors-comment-caption")).to_have_text("mislabeling “PERSON”")
    keys.press("c")
    expect(comment).to_be_focused()
    keys.type("a building is a location, 1 of 2")  # digits here are text, not error types
    keys.press("Enter")
    expect(widget.locator(".annolab-ner-text")).to_be_focused()
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(1)
    assert notebook.value("w.value") == [
        error("PERSON", "mislabeling", "a building is a location, 1 of 2")
    ]

    # Keyboard: from the start of the last line, Shift+End selects it; 4 marks it.
    click_at(notebook, widget, OUTPUT, OUTPUT.index("EVENT"))
    keys.press("Shift+End")
    keys.press("4")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["PERSON", "EVENT: bad storm"])
    # Esc in the comment drops what was typed.
    keys.press("c")
    keys.type("never kept")
    keys.press("Escape")
    expect(comment).to_have_value("")
    expect(widget.locator(".annolab-ner-text")).to_be_focused()
    # Shift+Tab back to the first error: the field shows its comment; a new type keeps it.
    keys.press("Shift+Tab")
    expect(comment).to_have_value("a building is a location, 1 of 2")
    keys.press("3")
    expect(widget.locator(".annolab-ner-tag-label")).to_have_text(
        ["incorrect_boundary", "hallucination"]
    )
    assert notebook.value("w.value") == [
        error("PERSON", "incorrect_boundary", "a building is a location, 1 of 2"),
        error("EVENT: bad storm", "hallucination"),
    ]
    # Undo the relabel: the comment comes back with the span.
    widget.locator(".annolab-ner-text").focus()  # the cell that read the value had it
    keys.press("Control+z")
    expect(widget.locator(".annolab-ner-tag-label")).to_have_text(["mislabeling", "hallucination"])
    assert notebook.value("w.value[0]") == error(
        "PERSON", "mislabeling", "a building is a location, 1 of 2"
    )
    cells = notebook.cell_count()
    widget.locator(".annolab-ner-text").focus()
    keys.press("Control+Enter")  # submits; the notebook's Ctrl+Enter (run the cell) stays out
    assert notebook.cell_count() == cells
    assert notebook.value("[w.submit_count, w.payload.to_dict()]") == [
        1,
        {
            "kind": "errors",
            "spans": [
                error("PERSON", "mislabeling", "a building is a location, 1 of 2"),
                error("EVENT: bad storm", "hallucination"),
            ],
        },
    ]
    # The reference folds away.
    reference.locator("summary").click()
    expect(reference.locator(".annolab-errors-reference-text")).to_be_hidden()
    notebook.screenshot("errors_cell", widget)
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("errors_cell_dark", widget)
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_output_and_comments_stay_inert(notebook: Notebook) -> None:
    text = "<img src=x onerror=alert(1)> said <script>alert(2)</script>"
    notebook.run(
        SETUP + f"w = Errors({text!r}, labels=TAXONOMY, reference={text!r},\n"
        "           value=[{'start': 0, 'end': 28, 'label': 'hallucination',\n"
        "                   'comment': '<b onmouseover=alert(3)>x</b>'}])\nw"
    )
    widget = notebook.widget()
    expect(widget.locator(".annolab-errors-reference-text")).to_have_text(text)
    widget.locator(".annolab-ner-text").focus()
    notebook.page.keyboard.press("Tab")
    expect(widget.locator(".annolab-errors-comment-input")).to_have_value(
        "<b onmouseover=alert(3)>x</b>"
    )
    assert widget.locator("img, script, b").count() == 0
    assert notebook.dialogs == [] and notebook.page_errors == []


LAYOUT = {
    "name": "ner-output-review",
    "inputs": [{"name": "text", "type": "text"}, {"name": "reference", "type": "text"}],
    "questions": [
        {
            "kind": "errors",
            "name": "errors",
            "field": "text",
            "reference": "reference",
            "labels": TAXONOMY,
            "allow_overlap": True,
        }
    ],
}
# A second WNUT 2017 tweet (train set): "Lucid Dementia Playing in Austin Tonite at The Scoot
# Inn at 1am !" and a model output that gets it right but for one missing entity.
OUTPUT_2 = "GROUP: Lucid Dementia\nLOCATION: Austin"
REFERENCE_2 = "GROUP: Lucid Dementia\nLOCATION: Austin\nLOCATION: The Scoot Inn"


@pytest.mark.db
def test_errors_marked_in_the_annotation_loop_and_stored(notebook: Notebook, db_url: str) -> None:
    name = f"err-{uuid.uuid4().hex[:8]}"
    tasks = {"id": ["t0", "t1"], "text": [OUTPUT, OUTPUT_2], "reference": [REFERENCE, REFERENCE_2]}
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels={TAXONOMY!r}, layout={LAYOUT!r})\n"
        f"proj.add_tasks(pl.DataFrame({tasks!r}), id='id')\n"
        f"loop = proj.annotate({name + '-lab'!r})\n"
        "loop"
    )
    area = output.locator
    keys = notebook.page.keyboard
    expect(area.get_by_text("0 of 2 in your queue done; 2 to go")).to_be_visible()
    widget = area.locator(".annolab-errors")
    expect(widget.locator(".annolab-errors-reference-text")).to_have_text(REFERENCE)
    drag_over(notebook, widget, OUTPUT, "PERSON")
    keys.press("1")
    keys.press("c")
    keys.type("a building is a location")
    keys.press("Enter")
    keys.press("Control+Enter")
    expect(area.get_by_text("1 of 2 in your queue done; 1 to go")).to_be_visible()
    expect(widget.locator(".annolab-errors-reference-text")).to_have_text(REFERENCE_2)
    # The missing entity is marked where it should have been: at the end of the output.
    click_at(notebook, widget, OUTPUT_2, OUTPUT_2.index("Austin"))
    keys.press("Shift+End")
    keys.press("2")
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    stored = notebook.value("proj.annotations().select('external_id', 'payload').rows()")
    first = error("PERSON", "mislabeling", "a building is a location")
    second = error("Austin", "missing_entity", text=OUTPUT_2)
    assert [(row[0], json.loads(row[1])) for row in stored] == [
        ("t0", {"kind": "errors", "spans": [first]}),
        ("t1", {"kind": "errors", "spans": [second]}),
    ]
    assert notebook.page_errors == []


LONG_OUTPUT = """
from annolab.widgets.errors import Errors
lines = [f"PERSON: Empire State Building {i}" for i in range(3000)]
text = "\\n".join(lines)
starts, at = [], 0
for line in lines:
    starts.append(at)
    at += len(line) + 1
value = [{"start": s, "end": s + 6, "label": "mislabeling", "comment": f"row {i}"}
         for i, s in enumerate(starts[:-1])]
w = Errors(text, labels=TAXONOMY, value=value)
print(len(text), len(w.value))
"""


def test_a_long_output_draws_only_what_is_near_and_edits_at_the_end(notebook: Notebook) -> None:
    out = notebook.run(SETUP + LONG_OUTPUT.strip(), timeout=120)
    assert out.text.split()[1] == "2999"
    widget = notebook.run("w").widget()
    marks = widget.locator("mark.annolab-ner-mark")
    expect(marks.first).to_be_visible()
    # The NER view draws only the blocks near the viewport.
    assert marks.count() < 500
    render_ms = float(widget.locator(".annolab-ner").get_attribute("data-render-ms") or "nan")
    print(f"\nfirst render of 2,999 errors over {out.text.split()[0]} characters: {render_ms} ms")
    assert render_ms > 0
    # The last line has no error yet: mark its type, then comment on it, by keyboard.
    text = widget.locator(".annolab-ner-text")
    text.focus()
    keys = notebook.page.keyboard
    keys.press("Control+End")
    keys.press("Home")
    keys.press("Shift+End")
    keys.press("4")
    keys.press("c")
    keys.type("last line made up")
    keys.press("Enter")
    long_text = "\n".join(f"PERSON: Empire State Building {i}" for i in range(3000))
    last = long_text.rindex("\n") + 1
    assert notebook.value("[len(w.value), w.value[-1]]") == [
        3000,
        {
            "start": last,
            "end": len(long_text),
            "label": "hallucination",
            "comment": "last line made up",
        },
    ]
