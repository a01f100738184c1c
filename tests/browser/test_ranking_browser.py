"""annolab.widgets.Ranking in real JupyterLab in Chromium: three model answers about a WNUT
2017 tweet (CC-BY 4.0) ranked with the mouse and the keyboard alone in a cell, and in
``project.annotate()`` down to the database."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.browser.lab import Notebook, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name?\n\n{TWEET}"
ANSWERS = [
    "Redondo Beach Blvd and Compton.",
    "Redondo Beach, a <b>beach city</b> 🏖, and Compton.",
    "Redondo Beach Blvd (a street), Gardena and Compton (cities in Los Angeles County). "
    + "Each is in the South Bay or nearby; the tweet places the reader on the boulevard. " * 4,
]


def card(widget: Locator, id_: str) -> Locator:
    return widget.locator(f".annolab-ranking-card[data-id='{id_}']")


def shown_order(widget: Locator) -> list[str]:
    return [
        str(i)
        for i in widget.locator(".annolab-ranking-card").evaluate_all(
            "cards => cards.map(c => c.dataset.id)"
        )
    ]


def drag_above(notebook: Notebook, moving: Locator, target: Locator) -> None:
    """Drags ``moving`` with the mouse to just above ``target``'s top edge."""
    start = moving.locator(".annolab-ranking-head").bounding_box()
    goal = target.bounding_box()
    assert start is not None and goal is not None
    mouse = notebook.page.mouse
    mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    mouse.down()
    mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + 2, steps=12)
    mouse.up()


def test_drag_and_keys_rank_the_outputs(notebook: Notebook) -> None:
    output = notebook.run(
        "from annolab.widgets.ranking import Ranking\n"
        f"w = Ranking({ANSWERS!r}, prompt={PROMPT!r})\n"
        "w"
    )
    widget = output.widget()
    expect(widget.locator(".annolab-ranking-card")).to_have_count(3)
    expect(widget.locator(".annolab-ranking-prompt")).to_contain_text("Redondo Beach Blvd.")
    expect(card(widget, "1")).to_contain_text("<b>beach city</b> 🏖")  # markup shows as text
    assert widget.locator("b").count() == 0
    expect(widget.locator(".annolab-ranking-status")).to_have_text("Nothing ranked yet (3 outputs)")

    # The long answer is clamped until expanded.
    toggle = card(widget, "2").locator(".annolab-ranking-toggle")
    expect(toggle).to_have_text("Show more")
    toggle.click()
    expect(toggle).to_have_text("Show less")

    # The mouse: the complete answer dragged to the top ranks it first.
    drag_above(notebook, card(widget, "2"), card(widget, "0"))
    expect(card(widget, "2")).to_have_attribute("data-rank", "1")
    assert notebook.value("w.value") == ["2"]
    notebook.screenshot("ranking-dragged", widget)

    keys = notebook.page.keyboard
    card(widget, "0").click()  # a click without a move focuses, it does not drag
    expect(card(widget, "0")).to_be_focused()
    keys.press("2")  # rank 2
    expect(card(widget, "0")).to_have_attribute("data-rank", "2")
    keys.press("Enter")  # the order shown becomes the ranking
    expect(widget.locator(".annolab-ranking-status")).to_have_text("Ranked: 1. 2, 2. 0, 3. 1")
    assert notebook.value("w.value") == ["2", "0", "1"]

    card(widget, "0").focus()
    keys.press("Alt+ArrowUp")
    expect(card(widget, "0")).to_have_attribute("data-rank", "1")
    expect(card(widget, "0")).to_be_focused()
    keys.press("ArrowDown")  # focus moves to the card below, which moves down with Shift
    expect(card(widget, "2")).to_be_focused()
    keys.press("Shift+ArrowDown")
    assert shown_order(widget) == ["0", "1", "2"]
    assert notebook.value("w.value") == ["0", "1", "2"]
    card(widget, "2").focus()  # reading the value ran a cell, which took the focus
    keys.press("Control+z")
    expect(card(widget, "2")).to_have_attribute("data-rank", "2")
    assert notebook.value("[w.value, w.payload.to_dict()]") == [
        ["0", "2", "1"],
        {"kind": "ranking", "order": ["0", "2", "1"]},
    ]
    card(widget, "2").focus()
    keys.press("Delete")  # unranks the focused card: a submit is refused, naming it
    keys.press("Control+Enter")
    expect(widget.locator(".annolab-error")).to_contain_text("not ranked yet: 2")
    assert notebook.value("[w.value, w.submit_count]") == [["0", "1"], 1]
    assert notebook.page_errors == []


@pytest.mark.db
def test_a_ranking_is_stored_from_the_annotation_loop(notebook: Notebook, db_url: str) -> None:
    name = f"rank-{uuid.uuid4().hex[:8]}"
    layout = {
        "name": "rank-answers",
        "inputs": [{"name": "text", "type": "text"}, {"name": "outputs", "type": "list"}],
        "questions": [{"kind": "ranking", "name": "best", "prompt": "text", "field": "outputs"}],
    }
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['quality'], layout={layout!r})\n"
        "proj.add_tasks(pl.DataFrame({'id': ['q1'], 'text': "
        f"[{PROMPT!r}], 'outputs': [{ANSWERS!r}]}}), id='id')\n"
        "loop = proj.annotate()\n"
        "loop"
    )
    area = output.locator
    widget = area.locator(".annolab-ranking")
    expect(widget.locator(".annolab-ranking-card")).to_have_count(3)
    expect(widget.locator(".annolab-ranking-prompt")).to_contain_text("Gardena / Compton")
    keys = notebook.page.keyboard
    drag_above(notebook, card(widget, "2"), card(widget, "0"))
    expect(card(widget, "2")).to_have_attribute("data-rank", "1")
    card(widget, "1").click()
    keys.press("3")  # right after the last ranked: rank 2
    expect(card(widget, "1")).to_have_attribute("data-rank", "2")
    keys.press("Control+Enter")  # one output not ranked: refused, the task stays
    expect(widget.locator(".annolab-error")).to_contain_text("not ranked yet: 0")
    keys.press("Enter")
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    assert notebook.value("proj.annotations().select('external_id', 'payload').rows()") == [
        ["q1", '{"kind": "ranking", "order": ["2", "1", "0"]}']
    ]
    assert notebook.page_errors == []
