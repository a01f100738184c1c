"""annolab.widgets.correction.Correction in real JupyterLab in Chromium: a model's answer about
a WNUT 2017 tweet corrected by keyboard and mouse in a cell with the live diff, and in
``project.annotate()`` down to the database."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect

pytestmark = pytest.mark.browser

# A WNUT 2017 tweet (dev set; CC-BY 4.0, Derczynski et al. 2017, "Results of the WNUT2017
# Shared Task on Novel and Emerging Entity Recognition") and a model's answer that leaves out
# one of the places it names.
TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name?\n\n{TWEET}"
ORIGINAL = "The tweet names Redondo Beach Blvd and Compton."
CORRECTED = "The tweet names Redondo Beach Blvd, Gardena and Compton."
SETUP = (
    "from annolab.widgets.correction import Correction\n"
    f"PROMPT, ORIGINAL = {PROMPT!r}, {ORIGINAL!r}\n"
)
CARET_JS = "(el, at) => { el.focus(); el.setSelectionRange(at, at); }"


def test_corrected_by_keyboard_and_mouse_with_a_live_diff(notebook: Notebook) -> None:
    output = notebook.run(SETUP + "w = Correction(ORIGINAL, prompt=PROMPT, max_chars=60)\nw")
    widget = output.widget()
    editor = widget.locator(".annolab-correction-editor")
    diff = widget.locator(".annolab-correction-diff")
    expect(widget.locator(".annolab-correction-prompt")).to_have_text(PROMPT)
    expect(editor).to_have_value(ORIGINAL)
    expect(widget.locator(".annolab-correction-summary")).to_have_text("No changes")
    expect(widget.locator(".annolab-correction-counter")).to_have_text("47 / 60")

    keys = notebook.page.keyboard
    editor.evaluate(CARET_JS, ORIGINAL.index(" and"))
    keys.type(", Gardena")  # "1", "a" and the like are text here, never notebook commands
    expect(diff.locator("ins")).to_have_text([", Gardena"])
    expect(diff.locator("del")).to_have_count(0)
    expect(widget.locator(".annolab-correction-summary")).to_have_text("+9 -0 characters")
    assert diff.locator("ins").evaluate("e => getComputedStyle(e).textDecorationLine") == (
        "underline"
    )
    assert (
        float(widget.evaluate("el => el.querySelector('.annolab-correction').dataset.diffMs")) < 20
    )
    keys.press("Escape")  # leaves the text box (sending the text); the next Esc would skip
    expect(editor).not_to_be_focused()
    assert notebook.value("[w.value, w.skip_count]") == [CORRECTED, 0]

    # A deletion, struck through; the mouse selects the words.
    editor.evaluate(
        "(el, [a, b]) => { el.focus(); el.setSelectionRange(a, b); }",
        [CORRECTED.index(" and Compton"), CORRECTED.index(".")],
    )
    keys.press("Backspace")
    expect(diff.locator("del")).to_have_text([" and Compton"])
    assert diff.locator("del").evaluate("e => getComputedStyle(e).textDecorationLine") == (
        "line-through"
    )
    keys.press("Control+z")  # the text box's own undo
    expect(editor).to_have_value(CORRECTED)

    # Too long: counted in the page, refused at submit.
    keys.press("End")
    keys.type(" Also Los Angeles County.")
    expect(widget.locator(".annolab-correction-counter")).to_have_text("81 / 60: 21 over")
    keys.press("Control+Enter")
    expect(widget.locator(".annolab-error-text")).to_contain_text(
        "Not submitted: value='The tweet names"
    )
    for _ in range(len(" Also Los Angeles County.")):
        keys.press("Backspace")
    cells = notebook.cell_count()
    keys.press("Control+Enter")
    assert notebook.cell_count() == cells
    assert notebook.value("[w.submit_count, w.error, w.payload.to_dict()]") == [
        2,
        "",
        {"kind": "correction", "text": CORRECTED},
    ]
    notebook.screenshot("correction_cell", widget)

    # Reset to original, by the mouse.
    widget.get_by_role("button", name="Reset to original").click()
    expect(editor).to_have_value(ORIGINAL)
    expect(widget.locator(".annolab-correction-summary")).to_have_text("No changes")
    assert notebook.value("w.value") is None
    # Esc twice from the text box: out of it, then skip.
    editor.focus()
    keys.press("Escape")
    keys.press("Escape")
    assert notebook.value("w.skip_count") == 1
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("correction_cell_dark", widget)
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_a_read_only_view_shows_the_diff_and_edits_nothing(notebook: Notebook) -> None:
    output = notebook.run(
        SETUP
        + f"w = Correction(ORIGINAL, value={CORRECTED!r}, read_only=True, show_submit=False)\nw"
    )
    widget = output.widget()
    expect(widget.locator(".annolab-correction-diff ins")).to_have_text([", Gardena"])
    expect(widget.locator(".annolab-correction-editor")).to_be_hidden()
    expect(widget.locator(".annolab-correction-reset")).to_be_hidden()
    expect(widget.locator(".annolab-actions")).to_be_hidden()


def test_texts_stay_inert(notebook: Notebook) -> None:
    text = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    notebook.run(SETUP + f"w = Correction({text!r}, prompt={text!r}, value={text + '!'!r})\nw")
    widget = notebook.widget()
    expect(widget.locator(".annolab-correction-prompt")).to_have_text(text)
    expect(widget.locator(".annolab-correction-diff ins")).to_have_text(["!"])
    assert widget.locator("img, script").count() == 0
    assert notebook.dialogs == [] and notebook.page_errors == []


LAYOUT = {
    "name": "answer-correction",
    "inputs": [{"name": "prompt", "type": "text"}, {"name": "output", "type": "text"}],
    "questions": [
        {
            "kind": "correction",
            "name": "correction",
            "prompt": "prompt",
            "field": "output",
            "max_chars": 200,
        }
    ],
}
# A second WNUT 2017 tweet (dev set) and an answer with nothing to correct.
PROMPT_2 = "Who is the person in this tweet?\n\nWatching Ellen with my sister , she is so funny"
ORIGINAL_2 = "Ellen, most likely Ellen DeGeneres."


@pytest.mark.db
def test_corrected_in_the_annotation_loop_and_stored(notebook: Notebook, db_url: str) -> None:
    name = f"corr-{uuid.uuid4().hex[:8]}"
    tasks = {
        "id": ["t0", "t1"],
        "text": [ORIGINAL, ORIGINAL_2],
        "prompt": [PROMPT, PROMPT_2],
        "output": [ORIGINAL, ORIGINAL_2],
    }
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['correction'], layout={LAYOUT!r})\n"
        f"proj.add_tasks(pl.DataFrame({tasks!r}), id='id')\n"
        f"loop = proj.annotate({name + '-lab'!r})\n"
        "loop"
    )
    area = output.locator
    keys = notebook.page.keyboard
    expect(area.get_by_text("0 of 2 in your queue done; 2 to go")).to_be_visible()
    editor = area.locator(".annolab-correction-editor")
    expect(editor).to_have_value(ORIGINAL)
    editor.evaluate(CARET_JS, ORIGINAL.index(" and"))
    keys.type(", Gardena")
    keys.press("Control+Enter")
    expect(area.get_by_text("1 of 2 in your queue done; 1 to go")).to_be_visible()
    expect(editor).to_have_value(ORIGINAL_2)
    editor.focus()
    keys.press("Control+Enter")  # untouched: the answer stands as it is
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    stored = notebook.value("proj.annotations().select('external_id', 'payload').rows()")
    assert [(row[0], json.loads(row[1])) for row in stored] == [
        ("t0", {"kind": "correction", "text": CORRECTED}),
        ("t1", {"kind": "correction", "text": ORIGINAL_2}),
    ]
    assert notebook.page_errors == []
