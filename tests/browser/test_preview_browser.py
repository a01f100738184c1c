"""annolab.widgets.Preview rendered by real JupyterLab in Chromium."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

# Astral characters (an emoji ZWJ sequence, a flag, a lone emoji) before and inside the spans:
# each is one Python code point but two UTF-16 units in the page.
TEXT = "👩‍🔬 Ada Lovelace met 🇬🇧 Babbage in 東京都 😀 today."
LABELS = ["PER", "LOC", {"name": "FLAG", "color": "#feca74"}]
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"

# The text a Preview shows, without its label tags.
SHOWN_TEXT_JS = """el => {
  const copy = el.querySelector(".annolab-preview-text").cloneNode(true);
  for (const tag of copy.querySelectorAll(".annolab-tag")) tag.remove();
  return copy.textContent;
}"""
# Relative luminance (0 black .. 1 white) of an element's computed colours.
LUMINANCE_JS = """(el, prop) => {
  const [r, g, b] = getComputedStyle(el)[prop].match(/[\\d.]+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


def span(text: str, part: str, label: str) -> dict[str, Any]:
    """A span over the first occurrence of ``part``, in code points (Python's offsets)."""
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label}


def show_preview(
    notebook: Notebook, text: str, spans: list[dict[str, Any]], labels: list[Any]
) -> Locator:
    """Displays ``w = Preview(...)`` in a new cell; returns the rendered widget."""
    output = notebook.run(
        "from annolab.widgets import Preview\n"
        f"w = Preview({json.dumps(text, ensure_ascii=False)}, spans={spans!r}, "
        f"labels={labels!r})\n"
        "w"
    )
    return output.widget()


def test_spans_after_emoji_and_cjk_highlight_the_right_text(notebook: Notebook) -> None:
    spans = [
        span(TEXT, "Ada Lovelace", "PER"),
        span(TEXT, "🇬🇧", "FLAG"),
        span(TEXT, "東京都", "LOC"),
    ]
    widget = show_preview(notebook, TEXT, spans, LABELS)

    marks = widget.locator("mark.annolab-span")
    expect(marks).to_have_text(["Ada Lovelace", "🇬🇧", "東京都"])
    expect(widget.locator(".annolab-tag")).to_have_text(["PER", "FLAG", "LOC"])
    assert [marks.nth(i).get_attribute("data-label") for i in range(3)] == ["PER", "FLAG", "LOC"]
    # Around the spans the whole text is there, no emoji cut in half.
    assert widget.evaluate(SHOWN_TEXT_JS) == TEXT
    notebook.screenshot("preview-light", widget)
    assert notebook.page_errors == []


def test_preview_follows_the_dark_theme(notebook: Notebook) -> None:
    widget = show_preview(notebook, TEXT, [span(TEXT, "東京都", "LOC")], LABELS)
    root = widget.locator(".annolab-preview")
    assert root.evaluate(LUMINANCE_JS, "backgroundColor") > 0.9

    notebook.set_theme(DARK_THEME)

    assert root.evaluate(LUMINANCE_JS, "backgroundColor") < 0.15
    assert root.evaluate(LUMINANCE_JS, "color") > 0.7
    # A highlight keeps its label colour, with dark text on it to stay readable.
    mark = widget.locator("mark.annolab-span")
    assert mark.evaluate(LUMINANCE_JS, "backgroundColor") > 0.5
    assert mark.evaluate(LUMINANCE_JS, "color") < 0.2
    notebook.screenshot("preview-dark", widget)
    notebook.screenshot("preview-dark-page")
    assert notebook.page_errors == []


def test_setting_spans_from_python_redraws_the_page(notebook: Notebook) -> None:
    widget = show_preview(notebook, TEXT, [span(TEXT, "Ada Lovelace", "PER")], LABELS)
    expect(widget.locator("mark.annolab-span")).to_have_text(["Ada Lovelace"])

    new_spans = [span(TEXT, "Babbage", "PER"), span(TEXT, "東京都 😀", "LOC")]
    notebook.run(f"w.spans = {new_spans!r}")

    expect(widget.locator("mark.annolab-span")).to_have_text(["Babbage", "東京都 😀"])
    expect(widget.locator(".annolab-preview")).to_have_attribute(
        "aria-label", "Text preview with 2 labelled spans"
    )
    # The view was redrawn in place: still one preview in the notebook.
    expect(notebook.page.locator(".annolab-preview")).to_have_count(1)
    assert notebook.value("[[s['start'], s['end'], s['label']] for s in w.spans]") == [
        [s["start"], s["end"], s["label"]] for s in new_spans
    ]
    assert notebook.page_errors == []


def test_markup_in_text_and_label_names_renders_as_literal_text(notebook: Notebook) -> None:
    text = f"Before {XSS_IMG} middle {XSS_SCRIPT} after"
    spans = [span(text, XSS_IMG, XSS_SCRIPT), span(text, XSS_SCRIPT, XSS_IMG)]
    widget = show_preview(notebook, text, spans, [XSS_IMG, XSS_SCRIPT])

    expect(widget.locator("mark.annolab-span")).to_have_text([XSS_IMG, XSS_SCRIPT])
    expect(widget.locator(".annolab-tag")).to_have_text([XSS_SCRIPT, XSS_IMG])
    assert widget.evaluate(SHOWN_TEXT_JS) == text
    expect(widget.locator("img, script")).to_have_count(0)
    expect(notebook.page.locator('img[src="x"]')).to_have_count(0)
    # An injected <img src=x> would fail to load at once and run its onerror; give it time.
    notebook.page.wait_for_timeout(300)
    assert notebook.dialogs == []
    assert notebook.console_errors == []  # a failed load of "x" would show here
    assert notebook.page_errors == []
    notebook.screenshot("preview-xss", widget)
