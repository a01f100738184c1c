"""annolab.widgets.rubric.Rubric in real JupyterLab in Chromium: a model's answer about a WNUT
2017 tweet scored by keyboard alone in a cell, and in ``project.annotate()`` down to the
database."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect

pytestmark = pytest.mark.browser

TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name, and what kind of place is each?\n\n{TWEET}"
OUTPUT = (
    "The tweet names two places:\n"
    "- Redondo Beach Blvd: a street in Los Angeles County\n"
    "- Compton: a city\n\n"
    "(Gardena is not mentioned.)"
)
CRITERIA = [
    {"name": "accuracy", "description": "Every place named, with the right kind", "scale": 5},
    {"name": "helpfulness", "description": "Would a reader want this answer?", "scale": 10},
    {"name": "tone", "description": "Plain and polite", "scale": 3},
]
SETUP = (
    "from annolab.widgets.rubric import Rubric\n"
    f"PROMPT, OUTPUT, CRITERIA = {PROMPT!r}, {OUTPUT!r}, {CRITERIA!r}\n"
)


def test_scored_by_keyboard_alone_in_a_cell(notebook: Notebook) -> None:
    widget = notebook.run(
        SETUP + "w = Rubric(OUTPUT, criteria=CRITERIA, prompt=PROMPT)\nw"
    ).widget()
    texts = widget.locator(".annolab-judge-text")
    assert texts.evaluate_all("els => els.map(e => e.textContent)") == [PROMPT, OUTPUT]
    rows = widget.locator(".annolab-rubric-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".annolab-rubric-row-description")).to_have_text(
        "Every place named, with the right kind"
    )
    expect(rows.nth(1).locator("button")).to_have_count(10)  # 1..scale
    keys = notebook.page.keyboard
    cells = notebook.cell_count()
    rows.first.focus()
    keys.press("7")  # off accuracy's 1..5 scale: nothing happens
    keys.press("2")
    expect(rows.nth(0).locator("[data-score='2']")).to_have_attribute("aria-checked", "true")
    keys.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    keys.press("0")  # 10 on a scale of 10
    keys.press("ArrowDown")
    keys.press("3")
    keys.press("Backspace")  # clears the row
    tone = rows.nth(2).locator("[data-score='3']")
    expect(tone).to_have_attribute("aria-checked", "false")
    keys.press("Control+z")
    expect(tone).to_have_attribute("aria-checked", "true")
    keys.press("Control+Shift+z")
    expect(tone).to_have_attribute("aria-checked", "false")
    keys.press("Control+Enter")  # tone not scored: refused in the widget
    expect(widget.locator(".annolab-error-text")).to_have_text(
        "Not submitted: value.scores.tone=None is not scored yet: focus its row and press a digit"
    )
    keys.press("1")
    keys.press("Tab")
    comment = widget.locator(".annolab-rubric-comment")
    expect(comment).to_be_focused()
    keys.type("Leaves out Gardena, 12 words")  # digits here are text, not scores
    keys.press("Control+Enter")
    expect(widget.locator(".annolab-error")).to_be_hidden()
    assert notebook.cell_count() == cells
    assert notebook.value("[w.submit_count, w.payload.to_dict()]") == [
        2,
        {
            "kind": "rubric",
            "scores": {"accuracy": 2, "helpfulness": 10, "tone": 1},
            "comment": "Leaves out Gardena, 12 words",
        },
    ]
    expect(widget.locator(".annolab-rubric-status")).to_have_text(
        "3 of 3 scored: accuracy 2/5, helpfulness 10/10, tone 1/3"
    )
    comment.focus()
    keys.press("Escape")  # leaves the comment first
    expect(rows.first).to_be_focused()
    keys.press("Escape")
    assert notebook.value("w.skip_count") == 1
    notebook.screenshot("rubric_cell", widget)
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("rubric_cell_dark", widget)
    assert notebook.page_errors == []


def test_a_click_scores_and_python_changes_show(notebook: Notebook) -> None:
    widget = notebook.run(SETUP + "w = Rubric(OUTPUT, criteria=CRITERIA)\nw").widget()
    widget.locator(".annolab-rubric-row").nth(2).locator("[data-score='2']").click()
    assert notebook.value("w.value") == {"scores": {"tone": 2}, "comment": ""}
    notebook.run("w.value = {'scores': {'accuracy': 5}, 'comment': 'fine'}")
    accuracy = widget.locator(".annolab-rubric-row").first.locator("[data-score='5']")
    expect(accuracy).to_have_attribute("aria-checked", "true")
    expect(widget.locator(".annolab-rubric-comment")).to_have_value("fine")
    notebook.run("w.read_only = True")
    expect(accuracy).to_be_disabled()
    expect(widget.locator(".annolab-actions")).to_be_hidden()


LAYOUT = {
    "name": "rubric-review",
    "inputs": [{"name": "prompt", "type": "text"}, {"name": "output", "type": "text"}],
    "questions": [
        {
            "kind": "rubric",
            "name": "quality",
            "prompt": "prompt",
            "field": "output",
            "criteria": [
                {"name": "accuracy", "scale": 5},
                {"name": "tone", "scale": 3},
            ],
        }
    ],
}
PROMPT_2 = "Who is the person in this tweet?\n\nWatching Ellen with my sister , she is so funny"
OUTPUT_2 = "Ellen is most likely Ellen DeGeneres, the host of a daytime talk show."


@pytest.mark.db
def test_scored_in_the_annotation_loop_and_stored(notebook: Notebook, db_url: str) -> None:
    name = f"rb-{uuid.uuid4().hex[:8]}"
    tasks = {
        "id": ["t0", "t1"],
        "text": [PROMPT, PROMPT_2],
        "prompt": [PROMPT, PROMPT_2],
        "output": [OUTPUT, OUTPUT_2],
    }
    area = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"layout = al.Layout.from_dict({LAYOUT!r})\n"
        f"proj = ws.create_project({name!r}, labels=['quality'], layout=layout)\n"
        f"proj.add_tasks(pl.DataFrame({tasks!r}), id='id')\n"
        f"loop = proj.annotate({name + '-lab'!r})\n"
        "loop"
    ).locator
    keys = notebook.page.keyboard
    for done, (output, scores, comment) in enumerate(
        [(OUTPUT, "23", "misses Gardena"), (OUTPUT_2, "53", "")]
    ):
        expect(
            area.get_by_text(f"{done} of 2 in your queue done; {2 - done} to go")
        ).to_be_visible()
        expect(area.locator(".annolab-rubric-output .annolab-judge-text")).to_have_text(output)
        area.locator(".annolab-rubric-row").first.focus()
        keys.press(scores[0])
        keys.press("ArrowDown")
        keys.press(scores[1])
        if comment:
            keys.press("Tab")
            keys.type(comment)
        keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    stored = notebook.value("proj.annotations().select('external_id', 'payload').rows()")
    assert [(row[0], json.loads(row[1])) for row in stored] == [
        (
            "t0",
            {"kind": "rubric", "scores": {"accuracy": 2, "tone": 3}, "comment": "misses Gardena"},
        ),
        ("t1", {"kind": "rubric", "scores": {"accuracy": 5, "tone": 3}, "comment": ""}),
    ]
    assert notebook.page_errors == []
