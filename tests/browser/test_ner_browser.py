"""annolab.widgets.NER rendered by real JupyterLab in Chromium: mouse, keyboard, undo, Python."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

TEXT = "Ada Lovelace met Charles Babbage in London 🇬🇧 and 東京都 😀 today."
LABELS = ["PER", "LOC"]

# The client rectangle of the UTF-16 range [start, end) of the widget's text, found through its
# text nodes (tags are not text). Used to drag the mouse over exact characters.
RANGE_RECT_JS = """(el, [start, end]) => {
  const root = el.querySelector(".annolab-ner-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest(".annolab-ner-tag")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  let seen = 0;
  const points = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const len = node.data.length;
    for (const [i, want] of [start, end].entries()) {
      if (points[i] === undefined && want >= seen && want <= seen + len
          && !(i === 0 && want === seen + len)) points[i] = [node, want - seen];
    }
    seen += len;
  }
  const range = document.createRange();
  range.setStart(...points[0]);
  range.setEnd(...points[1]);
  const rects = range.getClientRects();
  const first = rects[0], last = rects[rects.length - 1];
  return {x1: first.left, y1: (first.top + first.bottom) / 2,
          x2: last.right, y2: (last.top + last.bottom) / 2};
}"""

SHOWN_TEXT_JS = """el => {
  const copy = el.querySelector(".annolab-ner-content").cloneNode(true);
  for (const tag of copy.querySelectorAll(".annolab-ner-tag")) tag.remove();
  return copy.textContent;
}"""


def utf16(text: str, index: int) -> int:
    """The UTF-16 offset of the code-point offset ``index``."""
    return len(text[:index].encode("utf-16-le")) // 2


def show_ner(notebook: Notebook, text: str = TEXT, **kwargs: Any) -> Locator:
    """Displays ``w = NER(text, labels=..., **kwargs)`` in a new cell; returns the widget."""
    kwargs.setdefault("labels", LABELS)
    args = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    literal = json.dumps(text, ensure_ascii=False)
    output = notebook.run(f"from annolab.widgets import NER\nw = NER({literal}, {args})\nw")
    widget = output.widget()
    expect(widget.locator(".annolab-ner-text")).to_be_visible()
    return widget


def drag_over(notebook: Notebook, widget: Locator, text: str, part: str) -> None:
    """Selects the first ``part`` of ``text`` by dragging the mouse over it."""
    start = text.index(part)
    rect = widget.evaluate(RANGE_RECT_JS, [utf16(text, start), utf16(text, start + len(part))])
    mouse = notebook.page.mouse
    mouse.move(rect["x1"] + 1, rect["y1"])
    mouse.down()
    mouse.move((rect["x1"] + rect["x2"]) / 2, rect["y2"], steps=4)
    mouse.move(rect["x2"] - 1, rect["y2"], steps=4)
    mouse.up()


def click_at(notebook: Notebook, widget: Locator, text: str, index: int) -> None:
    """Clicks just before the code point ``index`` of ``text``, placing the caret there."""
    rect = widget.evaluate(RANGE_RECT_JS, [utf16(text, index), utf16(text, index + 1)])
    notebook.page.mouse.click(rect["x1"] + 1, rect["y1"])


def python_value(notebook: Notebook) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = notebook.value("w.value")
    return value


def span(text: str, part: str, label: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label}


def test_mouse_selection_and_hotkey_make_a_span_in_code_points(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    drag_over(notebook, widget, TEXT, "東京都")
    notebook.page.keyboard.press("2")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["東京都"])
    assert python_value(notebook) == [span(TEXT, "東京都", "LOC")]
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_keyboard_only_select_label_delete_undo_redo(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    click_at(notebook, widget, TEXT, TEXT.index("Charles"))
    keys = notebook.page.keyboard
    keys.press("Control+Shift+ArrowRight")
    keys.press("Control+Shift+ArrowRight")
    keys.press("1")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["Charles Babbage"])
    assert python_value(notebook) == [span(TEXT, "Charles Babbage", "PER")]
    notebook.screenshot("ner-keyboard-added", widget)

    # The new span has focus; Esc lets go of it, Tab from the start of the text finds it again.
    widget.locator(".annolab-ner-text").focus()
    keys.press("Escape")
    expect(widget.locator(".annolab-ner-focused")).to_have_count(0)
    keys.press("Control+Home")
    keys.press("Tab")
    expect(widget.locator(".annolab-ner-describe")).to_contain_text("PER “Charles Babbage”")
    keys.press("Delete")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(0)
    assert python_value(notebook) == []

    widget.locator(".annolab-ner-text").focus()
    keys.press("Control+z")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["Charles Babbage"])
    assert python_value(notebook) == [span(TEXT, "Charles Babbage", "PER")]
    widget.locator(".annolab-ner-text").focus()
    keys.press("Control+Shift+z")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(0)
    assert python_value(notebook) == []


def test_shift_arrows_select_graphemes_across_emoji(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    click_at(notebook, widget, TEXT, TEXT.index("London"))
    keys = notebook.page.keyboard
    # "London 🇬🇧" is 9 code points (a flag is two) and 4 UTF-16 units more, but 8 graphemes:
    # 8 steps end after the flag, not inside it.
    for _ in range(8):
        keys.press("Shift+ArrowRight")
    keys.press("2")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(1)
    assert python_value(notebook) == [span(TEXT, "London 🇬🇧", "LOC")]


def test_click_a_span_to_relabel_it_or_delete_it(notebook: Notebook) -> None:
    widget = show_ner(notebook, value=[span(TEXT, "London", "PER")])
    widget.locator("mark.annolab-ner-mark").click()
    expect(widget.locator(".annolab-ner-describe")).to_contain_text("PER “London”")
    notebook.page.keyboard.press("2")
    expect(widget.locator(".annolab-ner-tag")).to_have_text(["LOC"])
    assert python_value(notebook) == [span(TEXT, "London", "LOC")]
    widget.locator("mark.annolab-ner-mark").click()
    widget.get_by_role("button", name="Delete the span (Delete)").click()
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(0)
    assert python_value(notebook) == []


def test_suggestions_accept_reject_one_by_one_and_all(notebook: Notebook) -> None:
    suggestions = [
        {**span(TEXT, "Ada Lovelace", "PER"), "score": 0.97},
        {**span(TEXT, "Charles Babbage", "PER"), "score": 0.61},
        {**span(TEXT, "London", "LOC"), "score": 0.88},
        {**span(TEXT, "東京都", "LOC"), "score": 0.42},
    ]
    widget = show_ner(notebook, suggestions=suggestions)
    tags = widget.locator(".annolab-ner-tag-suggestion")
    expect(tags).to_have_count(4)
    expect(tags.first).to_contain_text("0.97")
    notebook.screenshot("ner-suggestions", widget)

    # Accept one with its ✓, reject one from the keyboard (Tab to it, Delete).
    widget.get_by_role("button", name="Accept PER suggestion: Ada Lovelace").click()
    expect(widget.locator(".annolab-ner-tag:not(.annolab-ner-tag-suggestion)")).to_have_text(
        ["PER"]
    )
    widget.locator(".annolab-ner-text").focus()
    keys = notebook.page.keyboard
    keys.press("Escape")  # let go of the accepted span
    keys.press("Control+Home")
    keys.press("Tab")  # the accepted span
    keys.press("Tab")  # the suggestion "Charles Babbage"
    expect(widget.locator(".annolab-ner-describe")).to_contain_text("Suggested PER 0.61")
    keys.press("Delete")
    expect(tags).to_have_count(2)
    # Enter accepts the focused suggestion (focus moved on to "London").
    expect(widget.locator(".annolab-ner-describe")).to_contain_text("Suggested LOC 0.88")
    keys.press("Enter")
    expect(tags).to_have_count(1)
    assert notebook.value("[w.value, w.suggestions]") == [
        [span(TEXT, "Ada Lovelace", "PER"), span(TEXT, "London", "LOC")],
        [{**span(TEXT, "東京都", "LOC"), "score": 0.42}],
    ]
    widget.get_by_role("button", name="Accept all suggestions").click()
    expect(tags).to_have_count(0)
    assert len(python_value(notebook)) == 3
    widget.locator(".annolab-ner-text").focus()
    keys.press("Control+z")
    expect(tags).to_have_count(1)
    widget.get_by_role("button", name="Reject all suggestions").click()
    expect(tags).to_have_count(0)
    assert notebook.value("[len(w.value), w.suggestions]") == [2, []]


def test_refused_overlap_shows_python_message_and_keeps_value(notebook: Notebook) -> None:
    widget = show_ner(notebook, value=[span(TEXT, "Charles Babbage", "PER")])
    drag_over(notebook, widget, TEXT, "Babbage in London")
    notebook.page.keyboard.press("2")
    alert = widget.get_by_role("alert")
    expect(alert).to_be_visible()
    # A sentence quoting the text, not a Python dict.
    expect(alert.locator(".annolab-error-text")).to_have_text(
        "Spans 'Charles Babbage' (PER, 17-32) and 'Babbage in London' (LOC, 25-42) overlap: "
        "remove or shorten one"
    )
    notebook.screenshot("ner-overlap-refused", widget)
    assert python_value(notebook) == [span(TEXT, "Charles Babbage", "PER")]
    widget.get_by_role("button", name="Dismiss error").click()
    expect(alert).to_be_hidden()
    assert notebook.value("w.error") == ""


def test_allowed_overlaps_are_stacked(notebook: Notebook) -> None:
    value = [span(TEXT, "Charles Babbage in London", "LOC"), span(TEXT, "Charles Babbage", "PER")]
    widget = show_ner(notebook, value=value, allow_overlap=True)
    drag_over(notebook, widget, TEXT, "Babbage")
    notebook.page.keyboard.press("2")
    expect(widget.locator(".annolab-ner-tag")).to_have_count(3)
    expect(widget.locator("mark.annolab-ner-stacked").first).to_be_visible()
    notebook.screenshot("ner-overlap-stacked", widget)
    assert len(python_value(notebook)) == 3


def test_keys_typed_in_the_widget_do_not_run_notebook_commands(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    notebook.value("1")  # another cell is now the active one, as after any run
    cells = notebook.cell_count()
    types = "p => window.__annolab.panel(p).content.widgets.map(c => c.model.type)"
    before = notebook.page.evaluate(types, notebook.path)
    widget.locator(".annolab-ner-text").click()
    keys = notebook.page.keyboard
    # Command mode: a/b insert, d d deletes, m makes markdown, x cuts, z undoes, y makes code;
    # Shift+Enter and Ctrl+Enter run the cell.
    for key in ["a", "b", "d", "d", "m", "x", "z", "y", "Shift+Enter", "Control+Enter"]:
        keys.press(key)
    expect(widget.locator(".annolab-ner-text")).to_be_focused()
    assert notebook.cell_count() == cells
    assert notebook.page.evaluate(types, notebook.path) == before
    # Ctrl+Enter submitted instead of running the cell.
    assert notebook.value("w.submit_count") == 1
    cells = notebook.cell_count()
    # Once focus leaves the widget, the notebook's shortcuts work again.
    notebook.page.locator(".jp-Cell .jp-InputPrompt").first.click()
    keys.press("b")
    expect(notebook.page.locator(".jp-Notebook .jp-Cell")).to_have_count(cells + 1)


def test_submit_and_skip_fire_every_time(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    notebook.run(
        "events = []\n"
        "w.on_submit(lambda w: events.append('submit'))\n"
        "w.on_skip(lambda w: events.append('skip'))"
    )
    text = widget.locator(".annolab-ner-text")
    text.focus()
    keys = notebook.page.keyboard
    keys.press("Control+Enter")
    keys.press("Control+Enter")
    keys.press("Escape")  # nothing selected or focused: skip
    widget.get_by_role("button", name="Submit").click()
    widget.get_by_role("button", name="Skip").click()
    # ipywidgets holds a state change back while the previous one is in flight, so the last
    # may reach the kernel after the cell that reads `events`: read until all five are there.
    expected = ["submit", "submit", "skip", "submit", "skip"]
    for _ in range(10):
        if notebook.value("events") == expected:
            break
    assert notebook.value("events") == expected


def test_user_text_and_label_names_stay_inert(notebook: Notebook) -> None:
    text = "<img src=x onerror=alert(1)> and <script>alert(2)</script> end"
    labels = ["<img src=y onerror=alert(3)>", {"name": "<b>bold</b>", "description": "<i>x</i>"}]
    value = [span(text, "<script>alert(2)</script>", "<img src=y onerror=alert(3)>")]
    widget = show_ner(notebook, text, labels=labels, value=value)
    expect(widget.locator(".annolab-ner-tag")).to_have_text(["<img src=y onerror=alert(3)>"])
    assert widget.evaluate(SHOWN_TEXT_JS) == text
    assert widget.locator("img, script, b, i").count() == 0
    notebook.page.wait_for_timeout(300)
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_second_view_shows_the_same_spans(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    drag_over(notebook, widget, TEXT, "Ada Lovelace")
    notebook.page.keyboard.press("1")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_count(1)
    again = notebook.run("w").widget()
    expect(again.locator("mark.annolab-ner-mark")).to_have_text(["Ada Lovelace"])
    # A view composing several widgets hides their own Submit and Skip.
    notebook.run("w.show_submit = False")
    expect(again.get_by_role("button", name="Submit")).to_be_hidden()
    expect(again.get_by_role("button", name="Skip")).to_be_hidden()
    expect(again.get_by_role("button", name="Undo")).to_be_visible()


def test_light_and_dark_themes(notebook: Notebook) -> None:
    value = [span(TEXT, "Ada Lovelace", "PER"), span(TEXT, "東京都", "LOC")]
    suggestions = [{**span(TEXT, "London", "LOC"), "score": 0.88}]
    widget = show_ner(notebook, value=value, suggestions=suggestions)
    widget.locator("mark.annolab-ner-mark").first.click()
    notebook.screenshot("ner-light", widget)
    light = widget.locator(".annolab-ner").evaluate("el => getComputedStyle(el).backgroundColor")
    notebook.set_theme(DARK_THEME)
    dark = widget.locator(".annolab-ner").evaluate("el => getComputedStyle(el).backgroundColor")
    notebook.screenshot("ner-dark", widget)
    assert light != dark


# 100,000 tokens (some emoji and CJK, so offsets need converting) and a span on every 20th.
BIG_DOCUMENT = """
import random
from annolab.widgets import NER
rng = random.Random(7)
vocab = ["alpha", "beta", "東京", "😀", "Zürich", "x"] + [f"w{i}" for i in range(500)]
tokens = [rng.choice(vocab) for _ in range(100_000)]
starts, at = [], 0
for token in tokens:
    starts.append(at)
    at += len(token) + 1
text = " ".join(tokens)
labels = ("PER", "ORG", "LOC")
value = [{"start": starts[i], "end": starts[i] + len(tokens[i]), "label": labels[i % 3]}
         for i in range(0, 100_000, 20)]
w = NER(text, labels=["PER", "ORG", "LOC"], value=value)
print(len(text), len(w.value))
"""

# Runs the cell holding `w` and reports, from the page, the milliseconds from Shift+Enter to
# the widget having laid out its text.
TIME_DISPLAY_JS = """() => new Promise((resolve) => {
  const t0 = performance.now();
  const seen = new Set(document.querySelectorAll(".annolab-ner"));
  const observer = new MutationObserver(() => {
    for (const el of document.querySelectorAll(".annolab-ner[data-render-ms]")) {
      if (!seen.has(el)) {
        observer.disconnect();
        resolve({wall: performance.now() - t0, render: Number(el.dataset.renderMs)});
      }
    }
  });
  observer.observe(document.body, {childList: true, subtree: true});
  window.__annolab.execute("notebook:run-cell-and-select-next");
})"""


def test_long_document_renders_and_patches_within_budget(notebook: Notebook) -> None:
    out = notebook.run(BIG_DOCUMENT.strip(), timeout=120)
    assert out.text.split()[1] == "5000"
    # A cell that shows `w`, run from the page so the clock starts at the key press.
    index = notebook.page.evaluate("p => window.__annolab.ensureEmptyLastCell(p)", notebook.path)
    cell = notebook.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor .cm-content").click()
    notebook.page.keyboard.insert_text("w")
    timing = notebook.page.evaluate(TIME_DISPLAY_JS)
    widget = notebook.widget(-1)
    print(
        f"\nfirst render: {timing['render']:.0f} ms in the widget, {timing['wall']:.0f} ms "
        "from Shift+Enter"
    )
    # The targets (first render < 500 ms, span to Python < 100 ms) are held by
    # benchmarks/widgets_browser.py, not here: a loaded CI machine must not fail a test on time.
    assert timing["render"] > 0
    marks = widget.locator("mark.annolab-ner-mark")
    expect(marks.first).to_be_visible()
    # Only the blocks near the viewport carry span elements.
    assert marks.count() < 500
    notebook.screenshot("ner-long-document", widget)

    # New spans from the keyboard near the end of the document, each timed from the key press
    # to Python's answer (sent after `value` changed). The median is held to the target, so
    # one slow trip (a garbage collection in the kernel) does not fail the test.
    text = widget.locator(".annolab-ner-text")
    text.focus()
    keys = notebook.page.keyboard
    keys.press("Control+End")
    root = widget.locator(".annolab-ner")
    trips = []
    for _ in range(5):
        keys.press("Escape")  # let go of the span made last
        keys.press("Control+ArrowLeft")
        keys.press("Control+ArrowLeft")
        keys.press("Control+Shift+ArrowLeft")
        answered = int(root.get_attribute("data-patches") or "0")
        keys.press("1")
        expect(root).to_have_attribute("data-patches", str(answered + 1))
        trips.append(float(root.get_attribute("data-patch-ms") or "nan"))
    print(f"key press to Python and back: {trips} ms")
    assert all(trip > 0 for trip in trips)
    assert notebook.value("len(w.value)") == 5005


# --- a day of labelling: keys past nine, the shortcut list, focus, sizes -----------------------

ELEVEN = ["PER", "ORG", "LOC", "MISC", "DATE", "TIME", "MONEY", "PCT", "QTY", "LAW", "EVENT"]

# Every element a pointer can hit, and every element that shows text of its own, with its size.
MEASURE_JS = """(el, selector) => [...el.querySelectorAll(selector)]
  .filter((n) => n.getClientRects().length > 0 && getComputedStyle(n).visibility !== "hidden")
  .map((n) => {
    const r = n.getBoundingClientRect();
    return {what: n.className || n.tagName, text: (n.textContent || "").slice(0, 20),
            width: r.width, height: r.height, font: parseFloat(getComputedStyle(n).fontSize)};
  })"""
TARGETS = "button, [role=radio], [role=checkbox], .annolab-ner-tag, .annolab-chip"
TEXTS = "span, kbd, button, td, div, mark"


def small_targets(widget: Locator, selector: str = TARGETS) -> list[dict[str, Any]]:
    """The interactive elements under 24x24 CSS px (WCAG 2.2 target size, minimum)."""
    found: list[dict[str, Any]] = widget.evaluate(MEASURE_JS, selector)
    assert found, f"nothing matched {selector}"
    return [t for t in found if t["width"] < 24 or t["height"] < 24]


def small_texts(widget: Locator) -> list[dict[str, Any]]:
    """Elements holding text set smaller than 12 px."""
    found: list[dict[str, Any]] = widget.evaluate(MEASURE_JS, TEXTS)
    return [t for t in found if t["text"].strip() and t["font"] < 12]


def test_the_eleventh_label_has_a_key_shown_in_its_chip(notebook: Notebook) -> None:
    widget = show_ner(notebook, labels=ELEVEN)
    # Past the digits, a letter of the name: LAW gets "l", EVENT "e".
    expect(widget.get_by_role("button", name="EVENT (key e)")).to_be_visible()
    expect(widget.locator(".annolab-ner-label kbd")).to_have_text([*"123456789", "l", "e"])
    drag_over(notebook, widget, TEXT, "London")
    notebook.page.keyboard.press("e")
    expect(widget.locator("mark.annolab-ner-mark")).to_have_text(["London"])
    assert python_value(notebook) == [span(TEXT, "London", "EVENT")]
    # Eleven colours, none repeated.
    colors = widget.locator(".annolab-ner-label").evaluate_all(
        "bs => bs.map((b) => getComputedStyle(b).backgroundColor)"
    )
    assert len(set(colors)) == 11
    assert notebook.page_errors == []


def test_question_mark_opens_the_shortcut_list_and_esc_closes_it(notebook: Notebook) -> None:
    widget = show_ner(notebook, labels=ELEVEN)
    widget.locator(".annolab-ner-text").focus()
    keys = notebook.page.keyboard
    keys.press("?")
    dialog = widget.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl+S")
    expect(dialog).to_contain_text("Tab / Shift+Tab")
    # One row per label, with its key: the eleventh too.
    expect(dialog.locator(".annolab-help-chip")).to_have_count(11)
    row = dialog.locator("tr", has=notebook.page.locator(".annolab-help-chip", has_text="EVENT"))
    expect(row.locator("kbd")).to_have_text("e")
    notebook.screenshot("ner-shortcuts", widget)
    assert small_targets(dialog, "button") == []
    # Esc closes the list and does not skip the task; focus is back in the text.
    keys.press("Escape")
    expect(dialog).to_be_hidden()
    expect(widget.locator(".annolab-ner-text")).to_be_focused()
    assert notebook.value("w.skip_count") == 0
    widget.locator(".annolab-ner-text").focus()  # reading the value ran a cell
    keys.press("?")
    expect(dialog).to_be_visible()
    keys.press("?")
    expect(dialog).to_be_hidden()
    assert notebook.page_errors == []


def test_after_labelling_the_next_digit_does_not_relabel_the_span(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    drag_over(notebook, widget, TEXT, "Ada Lovelace")
    keys = notebook.page.keyboard
    keys.press("1")
    expect(widget.locator(".annolab-ner-tag")).to_have_text(["PER"])
    expect(widget.locator(".annolab-ner-text")).to_be_focused()
    keys.press("2")  # a slip, or the label for the next span: never a silent relabel
    expect(widget.locator(".annolab-ner-status")).to_contain_text("LOC")
    assert python_value(notebook) == [span(TEXT, "Ada Lovelace", "PER")]
    # The next selection takes the label picked with "2".
    drag_over(notebook, widget, TEXT, "London")
    expect(widget.locator(".annolab-ner-tag")).to_have_text(["PER", "LOC"])
    assert python_value(notebook) == [
        span(TEXT, "Ada Lovelace", "PER"),
        span(TEXT, "London", "LOC"),
    ]
    # A span focused on purpose (click) is still relabelled by a key.
    widget.locator("mark.annolab-ner-mark", has_text="London").click()
    expect(widget.locator(".annolab-ner-describe")).to_contain_text("LOC “London”")
    keys.press("1")
    expect(widget.locator(".annolab-ner-tag")).to_have_text(["PER", "PER"])


def test_targets_are_at_least_24_px_and_text_at_least_12_px(notebook: Notebook) -> None:
    suggestions = [
        {**span(TEXT, "Charles Babbage", "PER"), "score": 0.61},
        {**span(TEXT, "London", "LOC"), "score": 0.88},
    ]
    widget = show_ner(notebook, value=[span(TEXT, "Ada Lovelace", "PER")], suggestions=suggestions)
    expect(widget.locator(".annolab-ner-tag-suggestion")).to_have_count(2)
    expect(widget.locator(".annolab-ner-accept")).to_have_count(2)
    assert small_targets(widget) == []
    assert small_texts(widget) == []
    notebook.screenshot("ner-sizes", widget)


def test_ctrl_s_saves_the_draft_and_the_notebook(notebook: Notebook) -> None:
    widget = show_ner(notebook)
    tab = notebook.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current")
    expect(tab).to_have_class(re.compile(r"\bjp-mod-dirty\b"))  # the cell that ran changed it
    widget.locator(".annolab-ner-text").focus()
    notebook.page.keyboard.press("Control+s")
    # The notebook is saved, as Ctrl+S does everywhere else in JupyterLab...
    expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"))
    # ... and the widget stored a draft (its nonce, which the loop listens to).
    assert notebook.value("w.draft_count") == 1
    assert notebook.dialogs == []
