"""annolab.widgets.Classify rendered by real JupyterLab in Chromium."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

LABELS = ["positive", "negative", "mixed"]

# A 64x40 PNG made in the kernel without Pillow: a red-to-blue gradient.
MAKE_PNG = """
import struct, zlib
def png(width, height):
    rows = b"".join(b"\\x00" + bytes(v for x in range(width)
                                   for v in (255 * x // width, 80, 255 - 255 * x // width))
                    for _ in range(height))
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
"""


def literal(text: str) -> str:
    """A Python string literal of ``text`` with its emoji as they are (not as surrogates)."""
    return repr(text)


def show_classify(notebook: Notebook, item: str, **kwargs: Any) -> Locator:
    """Displays ``w = Classify(<item expression>, labels=..., **kwargs)``; returns the widget."""
    kwargs.setdefault("labels", LABELS)
    args = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    output = notebook.run(f"from annolab.widgets import Classify\nw = Classify({item}, {args})\nw")
    widget = output.widget()
    expect(widget.locator(".annolab-classify-item")).to_be_visible()
    return widget


def option(widget: Locator, name: str) -> Locator:
    return widget.locator(".annolab-classify-option", has_text=name)


def test_single_choice_by_hotkey_and_click_reaches_python(notebook: Notebook) -> None:
    widget = show_classify(notebook, literal("Great phone, awful battery 🔋."))
    expect(widget.locator(".annolab-classify-text")).to_have_text("Great phone, awful battery 🔋.")
    widget.locator(".annolab-classify-item").click()
    notebook.page.keyboard.press("2")
    expect(option(widget, "negative")).to_have_attribute("aria-checked", "true")
    assert notebook.value("w.value") == "negative"
    option(widget, "mixed").click()
    expect(option(widget, "mixed")).to_have_attribute("aria-checked", "true")
    expect(option(widget, "negative")).to_have_attribute("aria-checked", "false")
    assert notebook.value("[w.value, w.payload.to_dict()]") == [
        "mixed",
        {"kind": "choice", "label": "mixed"},
    ]


def test_keyboard_arrows_space_undo_redo(notebook: Notebook) -> None:
    widget = show_classify(notebook, literal("Meh."))
    option(widget, "positive").focus()
    keys = notebook.page.keyboard
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    expect(option(widget, "mixed")).to_be_focused()
    keys.press("Space")
    expect(option(widget, "mixed")).to_have_attribute("aria-checked", "true")
    keys.press("1")
    expect(option(widget, "positive")).to_have_attribute("aria-checked", "true")
    keys.press("Control+z")
    expect(option(widget, "mixed")).to_have_attribute("aria-checked", "true")
    assert notebook.value("w.value") == "mixed"
    widget.locator(".annolab-classify-item").focus()
    keys.press("Control+Shift+z")
    expect(option(widget, "positive")).to_have_attribute("aria-checked", "true")
    assert notebook.value("w.value") == "positive"
    widget.locator(".annolab-classify-item").focus()
    keys.press("Delete")
    expect(widget.locator("[aria-checked=true]")).to_have_count(0)
    assert notebook.value("w.value") is None


def test_multi_label_toggles_and_suggestions(notebook: Notebook) -> None:
    suggestions = [{"label": "mixed", "score": 0.71}, {"label": "negative", "score": 0.2}]
    widget = show_classify(notebook, literal("Fast but hot."), multi=True, suggestions=suggestions)
    expect(option(widget, "mixed")).to_contain_text("suggested 0.71")
    notebook.screenshot("classify-multi-suggestions", widget)
    widget.get_by_role("button", name="Accept suggestion: mixed (0.71)").click()
    expect(option(widget, "mixed")).to_have_attribute("aria-checked", "true")
    widget.locator(".annolab-classify-item").click()
    notebook.page.keyboard.press("1")
    notebook.page.keyboard.press("2")
    notebook.page.keyboard.press("2")
    expect(widget.get_by_role("checkbox", checked=True)).to_have_count(2)
    assert notebook.value("[w.value, w.payload.to_dict()]") == [
        ["mixed", "positive"],
        {"kind": "choices", "labels": ["mixed", "positive"]},
    ]


def test_image_bytes_travel_as_binary_and_show(notebook: Notebook) -> None:
    notebook.run(MAKE_PNG.strip())
    widget = show_classify(notebook, "png(64, 40)", labels=["cat", "dog"])
    image = widget.locator("img.annolab-classify-image")
    expect(image).to_be_visible()
    assert image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [
        True,
        64,
        40,
    ]
    assert image.evaluate("img => img.src.startsWith('blob:')")
    notebook.page.keyboard.press("Tab")  # focus is not in the widget: nothing happens
    widget.locator(".annolab-classify-item").click()
    notebook.page.keyboard.press("2")
    assert notebook.value("w.value") == "dog"
    notebook.screenshot("classify-image", widget)


def test_record_is_a_table_of_text(notebook: Notebook) -> None:
    record = {"title": "Dune", "year": 1965, "tags": ["sf", "desert"], "<b>k</b>": "<i>v</i>"}
    widget = show_classify(notebook, repr(record), labels=["keep", "drop"])
    rows = widget.locator(".annolab-classify-record tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(2)).to_have_text('tags["sf", "desert"]')
    expect(rows.nth(3)).to_have_text("<b>k</b><i>v</i>")
    assert widget.locator("b, i").count() == 0
    notebook.screenshot("classify-record", widget)


def test_keys_typed_in_the_widget_do_not_run_notebook_commands(notebook: Notebook) -> None:
    widget = show_classify(notebook, literal("Text."))
    notebook.value("1")  # another cell becomes the active one
    cells = notebook.cell_count()
    widget.locator(".annolab-classify-item").click()
    for key in ["a", "b", "d", "d", "m", "x", "z", "Shift+Enter", "Control+Enter"]:
        notebook.page.keyboard.press(key)
    assert notebook.cell_count() == cells
    assert notebook.value("[w.submit_count, w.skip_count]") == [1, 0]


def test_label_names_and_text_stay_inert(notebook: Notebook) -> None:
    labels = ["<img src=x onerror=alert(1)>", {"name": "<script>alert(2)</script>"}]
    text = "<img src=y onerror=alert(3)><script>alert(4)</script>"
    widget = show_classify(notebook, literal(text), labels=labels)
    expect(widget.locator(".annolab-classify-text")).to_have_text(text)
    expect(widget.locator(".annolab-classify-name")).to_have_text(
        ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>"]
    )
    assert widget.locator("img, script").count() == 0
    notebook.page.wait_for_timeout(300)
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_light_and_dark_themes(notebook: Notebook) -> None:
    widget = show_classify(
        notebook,
        literal("The screen is lovely; the battery dies by noon."),
        suggestions=[{"label": "mixed", "score": 0.71}],
        value="negative",
    )
    notebook.screenshot("classify-light", widget)
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("classify-dark", widget)
    color = widget.locator(".annolab-classify-text").evaluate("el => getComputedStyle(el).color")
    assert color != "rgba(0, 0, 0, 0.87)"


CHIP_STYLE_JS = """el => {
  const s = getComputedStyle(el);
  return [s.borderRadius, s.fontWeight, s.minHeight, s.paddingLeft];
}"""


def test_chips_are_the_shared_style_24_px_and_keyed_past_nine(notebook: Notebook) -> None:
    labels = [f"topic{i}" for i in range(9)] + ["sports", "weather"]
    widget = show_classify(notebook, literal("Rain stops play."), labels=labels)
    chips = widget.locator(".annolab-classify-option.annolab-chip")
    expect(chips).to_have_count(11)
    expect(chips.locator("kbd")).to_have_text([*"123456789", "s", "w"])
    # The same chip as NER and BBox (common/chrome.css), each in its own colour.
    styles = chips.evaluate_all(f"cs => cs.map({CHIP_STYLE_JS})")
    assert {tuple(s) for s in styles} == {("14px", "600", "28px", "10px")}
    colors = chips.evaluate_all("cs => cs.map((c) => getComputedStyle(c).backgroundColor)")
    assert len(set(colors)) == 11
    sizes = widget.evaluate(
        """el => [...el.querySelectorAll("button, [role=radio], [role=checkbox]")]
          .filter((b) => b.getClientRects().length)
          .map((b) => { const r = b.getBoundingClientRect();
                        return [b.textContent, r.width, r.height]; })"""
    )
    assert sizes and [s for s in sizes if s[1] < 24 or s[2] < 24] == []
    widget.locator(".annolab-classify-item").focus()
    notebook.page.keyboard.press("w")
    expect(option(widget, "weather")).to_have_attribute("aria-checked", "true")
    assert notebook.value("w.value") == "weather"
    notebook.screenshot("classify-chips", widget)
