"""annolab.widgets.pairwise.Pairwise in real JupyterLab in Chromium: two model answers to a
question about a WNUT 2017 tweet judged by keyboard alone in a cell, and in
``project.annotate()`` down to the database."""

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
ANSWER_A = (
    "The tweet names three places:\n"
    "- Redondo Beach Blvd: a street (a boulevard in the South Bay of Los Angeles)\n"
    "- Gardena: a city in Los Angeles County\n"
    "- Compton: a city in Los Angeles County"
)
ANSWER_B = "It mentions Redondo Beach, a beach city, and Compton.   Both are in California."
CRITERIA = [
    {"name": "accuracy", "description": "Every place named, with the right kind"},
    {"name": "concision", "description": "No padding"},
]
SETUP = (
    "from annolab.widgets.pairwise import Pairwise\n"
    f"PROMPT, A, B, CRITERIA = {PROMPT!r}, {ANSWER_A!r}, {ANSWER_B!r}, {CRITERIA!r}\n"
)


def test_judged_by_keyboard_alone_in_a_cell(notebook: Notebook) -> None:
    output = notebook.run(SETUP + "w = Pairwise(A, B, prompt=PROMPT, criteria=CRITERIA)\nw")
    widget = output.widget()
    a_pane = widget.locator(".annolab-pairwise-a")
    b_pane = widget.locator(".annolab-pairwise-b")
    # The outputs are shown as given: newlines and runs of spaces kept.
    texts = widget.locator(".annolab-judge-text")
    assert texts.evaluate_all("els => els.map(e => e.textContent)") == [PROMPT, ANSWER_A, ANSWER_B]
    assert (
        b_pane.locator(".annolab-judge-text").evaluate("e => getComputedStyle(e).whiteSpace")
        == "pre-wrap"
    )
    # Side by side in a wide cell.
    a_box, b_box = a_pane.bounding_box(), b_pane.bounding_box()
    assert a_box is not None and b_box is not None
    assert b_box["x"] > a_box["x"] + a_box["width"] - 1
    assert abs(b_box["y"] - a_box["y"]) < 1

    rows = widget.locator(".annolab-pairwise-row")
    expect(rows).to_have_count(3)  # overall, accuracy, concision
    keys = notebook.page.keyboard
    cells = notebook.cell_count()
    rows.first.focus()
    keys.press("2")
    expect(b_pane).to_have_attribute("data-mark", "chosen")
    keys.press("a")  # JupyterLab's "a" (insert a cell above) must not fire
    expect(a_pane).to_have_attribute("data-mark", "chosen")
    expect(a_pane.locator(".annolab-judge-title")).to_have_text("A · Chosen")
    expect(b_pane).to_have_attribute("data-mark", "")
    keys.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    keys.press("1")
    keys.press("ArrowDown")
    keys.press("b")
    verdict = rows.nth(2).locator("[data-verdict='b']")
    expect(verdict).to_have_attribute("aria-checked", "true")
    keys.press("Control+z")
    expect(verdict).to_have_attribute("aria-checked", "false")
    keys.press("Control+Shift+z")
    expect(verdict).to_have_attribute("aria-checked", "true")
    keys.press("Tab")
    box = widget.locator(".annolab-pairwise-rationale")
    expect(box).to_be_focused()
    keys.type("B drops Gardena and the boulevard")  # letters here are text, not verdicts
    keys.press("Control+Enter")
    assert notebook.cell_count() == cells
    assert notebook.value("[w.submit_count, w.error, w.payload.to_dict()]") == [
        1,
        "",
        {
            "kind": "pairwise",
            "choice": "a",
            "rationale": "B drops Gardena and the boulevard",
            "criteria": {"accuracy": "a", "concision": "b"},
        },
    ]
    # Escape leaves the rationale box first; from a row it skips.
    box.focus()
    keys.press("Escape")
    expect(rows.first).to_be_focused()
    keys.press("Escape")
    assert notebook.value("w.skip_count") == 1
    notebook.screenshot("pairwise_cell", widget)
    assert notebook.page_errors == []


def test_an_incomplete_submit_is_refused_and_disabled_verdicts_are_not_shown(
    notebook: Notebook,
) -> None:
    output = notebook.run(
        SETUP + "w = Pairwise(A, B, criteria=CRITERIA, tie=False, rationale='required')\nw"
    )
    widget = output.widget()
    overall = widget.locator(".annolab-pairwise-row").first
    expect(overall.locator("button")).to_have_text(
        ["A is better (1)", "B is better (2)", "Both bad (x)"]
    )
    expect(widget.locator(".annolab-pairwise-prompt")).to_have_count(0)  # no prompt given
    overall.focus()
    keys = notebook.page.keyboard
    keys.press("t")  # no tie here: nothing happens
    keys.press("Control+Enter")
    error = widget.locator(".annolab-error-text")
    expect(error).to_have_text(
        "Not submitted: value.choice=None is not chosen yet: choose A (1), B (2), both bad (x)"
    )
    keys.press("x")
    expect(widget.locator(".annolab-pairwise-a")).to_have_attribute("data-mark", "bad")
    keys.press("Control+Enter")
    expect(error).to_have_text("Not submitted: value.rationale='' is required; say why")
    assert notebook.value("[w.submit_count, w.value]") == [
        2,
        {"choice": "both_bad", "rationale": "", "criteria": {}},
    ]
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("pairwise_refused_dark", widget)
    assert notebook.page_errors == []


def test_a_read_only_view_marks_the_chosen_output(notebook: Notebook) -> None:
    output = notebook.run(
        SETUP + "w = Pairwise(A, B, prompt=PROMPT, read_only=True, show_submit=False,\n"
        "             value={'choice': 'b', 'rationale': 'shorter'})\nw"
    )
    widget = output.widget()
    expect(widget.locator(".annolab-pairwise-b .annolab-judge-title")).to_have_text("B · Chosen")
    expect(widget.locator(".annolab-pairwise-rationale")).to_have_value("shorter")
    expect(widget.locator(".annolab-pairwise-verdict").first).to_be_disabled()
    expect(widget.locator(".annolab-actions")).to_be_hidden()
    widget.locator(".annolab-pairwise-row").first.focus()
    notebook.page.keyboard.press("1")
    assert notebook.value("w.value['choice']") == "b"


def test_outputs_stack_in_a_narrow_cell(notebook: Notebook) -> None:
    output = notebook.run(
        SETUP + "import ipywidgets\nw = Pairwise(A, B, prompt=PROMPT)\n"
        "ipywidgets.Box([w], layout=ipywidgets.Layout(width='360px'))"
    )
    pane_a = output.locator.locator(".annolab-pairwise-a")
    pane_b = output.locator.locator(".annolab-pairwise-b")
    expect(pane_b).to_be_visible()
    a_box, b_box = pane_a.bounding_box(), pane_b.bounding_box()
    assert a_box is not None and b_box is not None
    assert b_box["y"] >= a_box["y"] + a_box["height"]  # B below A
    # A long output scrolls inside its pane instead of growing the page.
    long_text = notebook.run("w2 = Pairwise(A * 40, B)\nw2").widget().locator(".annolab-judge-text")
    overflow = long_text.nth(0).evaluate(
        "e => [getComputedStyle(e).overflowY, e.scrollHeight > e.clientHeight]"
    )
    assert overflow == ["auto", True]


LAYOUT = {
    "name": "preference",
    "inputs": [
        {"name": "prompt", "type": "text"},
        {"name": "a", "type": "text"},
        {"name": "b", "type": "text"},
    ],
    "questions": [
        {
            "kind": "pairwise",
            "name": "better",
            "prompt": "prompt",
            "a": "a",
            "b": "b",
            "criteria": [{"name": "accuracy"}],
        }
    ],
}
# A second task: two answers to a question about another WNUT 2017 tweet.
PROMPT_2 = "Who is the person in this tweet?\n\nWatching Ellen with my sister , she is so funny"
ANSWER_2A = "Ellen is most likely Ellen DeGeneres, the host of a daytime talk show."
ANSWER_2B = "Ellen is the writer's sister."


@pytest.mark.db
def test_judged_in_the_annotation_loop_and_stored(notebook: Notebook, db_url: str) -> None:
    name = f"pw-{uuid.uuid4().hex[:8]}"
    tasks = {
        "id": ["t0", "t1"],
        "text": [PROMPT, PROMPT_2],
        "prompt": [PROMPT, PROMPT_2],
        "a": [ANSWER_A, ANSWER_2A],
        "b": [ANSWER_B, ANSWER_2B],
    }
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"layout = al.Layout.from_dict({LAYOUT!r})\n"
        f"proj = ws.create_project({name!r}, labels=['better'], layout=layout)\n"
        f"proj.add_tasks(pl.DataFrame({tasks!r}), id='id')\n"
        f"loop = proj.annotate({name + '-lab'!r})\n"
        "loop"
    )
    area = output.locator
    keys = notebook.page.keyboard
    expect(area.get_by_text("0 of 2 in your queue done; 2 to go")).to_be_visible()
    expect(area.locator(".annolab-pairwise-a .annolab-judge-text")).to_have_text(ANSWER_A)
    area.locator(".annolab-pairwise-row").first.focus()
    keys.press("1")
    keys.press("ArrowDown")
    keys.press("1")
    keys.press("Tab")
    keys.type("A names Gardena too")
    keys.press("Control+Enter")
    expect(area.get_by_text("1 of 2 in your queue done; 1 to go")).to_be_visible()
    expect(area.locator(".annolab-pairwise-b .annolab-judge-text")).to_have_text(ANSWER_2B)
    row = area.locator(".annolab-pairwise-row").first
    row.focus()
    keys.press("Control+Enter")  # no verdict yet: refused, nothing stored
    expect(area.locator(".annolab-error-text")).to_contain_text("is not chosen yet")
    row.focus()
    keys.press("t")
    keys.press("ArrowDown")
    keys.press("x")
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    stored = notebook.value("proj.annotations().select('external_id', 'payload').rows()")
    assert [(row[0], json.loads(row[1])) for row in stored] == [
        (
            "t0",
            {
                "kind": "pairwise",
                "choice": "a",
                "rationale": "A names Gardena too",
                "criteria": {"accuracy": "a"},
            },
        ),
        (
            "t1",
            {
                "kind": "pairwise",
                "choice": "tie",
                "rationale": "",
                "criteria": {"accuracy": "both_bad"},
            },
        ),
    ]
    assert notebook.page_errors == []
