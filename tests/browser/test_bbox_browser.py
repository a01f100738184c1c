"""annolab.widgets.BBox in real JupyterLab and Chromium: mouse, keys, zoom, XSS, speed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect
from tests.test_widgets_bbox import png_bytes

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

# Larger than the stage, so the page shows it scaled down: a display pixel is not a natural one.
WIDTH, HEIGHT = 1600, 1200


@dataclass
class Shown:
    """Where the image is on the page: converts natural pixels to page pixels and back."""

    left: float
    top: float
    scale: float  # page pixels per natural pixel

    def page(self, x: float, y: float) -> tuple[float, float]:
        return self.left + x * self.scale, self.top + y * self.scale

    @property
    def tolerance(self) -> float:
        """How far a natural coordinate may be from the target: a page pixel, rounded."""
        return max(1.0, 1 / self.scale) + 0.5


def image_file(notebook: Notebook, name: str, width: int = WIDTH, height: int = HEIGHT) -> Path:
    path = notebook.lab.root_dir / name
    path.write_bytes(png_bytes(width, height, tile=100))
    return path


def show_bbox(notebook: Notebook, args: str) -> Locator:
    """Runs ``w = BBox(<args>)`` in a new cell and waits until the image is drawn."""
    output = notebook.run(f"from annolab.widgets import BBox\nw = BBox({args})\nw")
    widget = output.widget()
    expect(widget.locator(".annolab-bbox-stage")).to_be_visible()
    image = widget.locator("img.annolab-bbox-image")
    image.evaluate("img => img.decode()")  # the image is loaded and decoded
    return widget


def shown(widget: Locator) -> Shown:
    """The image's on-page rectangle, from the element itself (its CSS transform included).

    Measured anew before each gesture: running a cell or taking a screenshot scrolls the page.
    """
    widget.locator(".annolab-bbox-stage").scroll_into_view_if_needed()
    box = widget.locator("img.annolab-bbox-image").evaluate(
        """img => {
          const r = img.getBoundingClientRect();
          return {left: r.left, top: r.top, width: r.width, natural: img.naturalWidth};
        }"""
    )
    return Shown(left=box["left"], top=box["top"], scale=box["width"] / box["natural"])


def drag(
    notebook: Notebook, widget: Locator, start: tuple[float, float], end: tuple[float, float]
) -> Shown:
    """Drags from one natural point of the image to another; returns the scale it used."""
    where = shown(widget)
    mouse = notebook.page.mouse
    mouse.move(*where.page(*start))
    mouse.down()
    mouse.move(*where.page(*end), steps=8)
    mouse.up()
    return where


def ctrl_wheel(notebook: Notebook, delta_y: float) -> None:
    """Ctrl + wheel at the pointer: the zoom gesture (a plain wheel scrolls the notebook)."""
    keyboard = notebook.page.keyboard
    keyboard.down("Control")
    notebook.page.mouse.wheel(0, delta_y)
    keyboard.up("Control")


def click(notebook: Notebook, widget: Locator, at: tuple[float, float]) -> None:
    notebook.page.mouse.click(*shown(widget).page(*at))


def boxes(notebook: Notebook) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = notebook.value("w.value")
    return value


def assert_box(got: dict[str, Any], expected: tuple[float, ...], tol: float) -> None:
    actual = (got["x"], got["y"], got["width"], got["height"])
    assert all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)), (actual, expected)


def test_draw_a_box_by_dragging_gives_natural_pixels(notebook: Notebook) -> None:
    path = image_file(notebook, "street.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person']")
    where = drag(notebook, widget, (200, 300), (700, 900))
    assert where.scale < 1  # the test means something only if the page scales the image

    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box")
    value = boxes(notebook)
    assert len(value) == 1
    assert value[0]["label"] == "car"
    assert_box(value[0], (200, 300, 500, 600), where.tolerance)
    notebook.screenshot("bbox-drawn", widget)
    assert notebook.page_errors == []


def test_drag_a_box_to_move_it(notebook: Notebook) -> None:
    path = image_file(notebook, "move.png")
    value = [{"x": 400, "y": 400, "width": 200, "height": 100, "label": "car"}]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], value={value!r}")
    where = drag(notebook, widget, (500, 450), (800, 350))  # +300, -100 natural

    expect(widget.locator(".annolab-bbox-stage")).to_be_focused()
    assert_box(boxes(notebook)[0], (700, 300, 200, 100), where.tolerance)
    assert notebook.page_errors == []


def test_drag_a_handle_to_resize_the_selected_box(notebook: Notebook) -> None:
    path = image_file(notebook, "resize.png")
    value = [{"x": 400, "y": 400, "width": 200, "height": 100, "label": "car"}]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], value={value!r}")
    click(notebook, widget, (500, 450))  # select: the handles appear
    drag(notebook, widget, (600, 500), (900, 700))  # the south-east handle
    where = drag(notebook, widget, (400, 550), (300, 550))  # then the west one, now lower

    got = boxes(notebook)[0]
    assert_box(got, (300, 400, 600, 300), where.tolerance)
    assert got["label"] == "car"
    assert notebook.page_errors == []


def test_arrows_nudge_the_selected_box_by_natural_pixels(notebook: Notebook) -> None:
    path = image_file(notebook, "nudge.png")
    value = [{"x": 400, "y": 400, "width": 200, "height": 100, "label": "car"}]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], value={value!r}")
    click(notebook, widget, (500, 450))
    keyboard = notebook.page.keyboard

    # Fast, as a held key repeats: patches overtake the model updates of earlier ones.
    for key in ["ArrowRight"] * 20 + ["Shift+ArrowDown", "ArrowUp"]:
        keyboard.press(key)

    # Exact: nudges are in natural pixels whatever the display scale.
    expected = {"x": 420.0, "y": 409.0, "width": 200.0, "height": 100.0, "label": "car"}
    expect(widget.locator(".annolab-visually-hidden li").first).to_have_text(
        "Box 1 of 1: car, x 420, y 409, 200 by 100 pixels"
    )
    assert boxes(notebook) == [expected]
    assert notebook.page_errors == []


def test_a_hotkey_relabels_and_delete_removes_the_selected_box(notebook: Notebook) -> None:
    path = image_file(notebook, "keys.png")
    value = [
        {"x": 100, "y": 100, "width": 200, "height": 100, "label": "car"},
        {"x": 800, "y": 600, "width": 100, "height": 100, "label": "car"},
    ]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person'], value={value!r}")
    keyboard = notebook.page.keyboard

    click(notebook, widget, (850, 650))
    keyboard.press("2")  # the hotkey of "person"
    expect(widget.locator('[data-label="person"]')).to_have_attribute("aria-checked", "true")
    assert [b["label"] for b in boxes(notebook)] == ["car", "person"]

    click(notebook, widget, (200, 150))
    keyboard.press("Delete")
    assert boxes(notebook) == [
        {"x": 800.0, "y": 600.0, "width": 100.0, "height": 100.0, "label": "person"}
    ]
    assert notebook.page_errors == []


def test_undo_and_redo_with_the_keyboard_and_the_buttons(notebook: Notebook) -> None:
    path = image_file(notebook, "undo.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    undo = widget.locator(".annolab-action-undo")
    redo = widget.locator(".annolab-action-redo")
    expect(undo).to_be_disabled()

    where = drag(notebook, widget, (100, 100), (300, 300))
    drag(notebook, widget, (500, 500), (700, 700))
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("2 boxes")
    keyboard = notebook.page.keyboard
    keyboard.press("Control+z")
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box")
    assert len(boxes(notebook)) == 1

    click(notebook, widget, (1500, 1100))  # focus the stage again, on empty space
    keyboard.press("Control+Shift+z")
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("2 boxes")
    undo.click()
    undo.click()
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("0 boxes")
    expect(undo).to_be_disabled()
    redo.click()
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box")
    got = boxes(notebook)
    assert len(got) == 1
    assert_box(got[0], (100, 100, 200, 200), where.tolerance)
    assert notebook.page_errors == []


def test_drawing_after_a_ctrl_wheel_zoom_still_gives_natural_pixels(notebook: Notebook) -> None:
    path = image_file(notebook, "zoom.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    before = shown(widget)
    mouse = notebook.page.mouse
    mouse.move(*before.page(400, 300))
    ctrl_wheel(notebook, -300)  # zoom in about the pointer
    ctrl_wheel(notebook, -300)

    after = shown(widget)
    assert after.scale > before.scale * 2
    # The point under the pointer stayed put.
    assert abs(after.page(400, 300)[0] - before.page(400, 300)[0]) < 2
    mouse.move(*after.page(350, 250))
    mouse.down()
    mouse.move(*after.page(450, 330), steps=8)
    mouse.up()

    got = boxes(notebook)
    assert len(got) == 1
    assert_box(got[0], (350, 250, 100, 80), after.tolerance)
    notebook.screenshot("bbox-zoomed", widget)
    assert notebook.page_errors == []


def test_suggestions_are_dashed_and_accepted_or_rejected_one_by_one(notebook: Notebook) -> None:
    path = image_file(notebook, "suggest.png")
    suggestions = [
        {"x": 100, "y": 100, "width": 300, "height": 200, "label": "car", "score": 0.91},
        {"x": 900, "y": 500, "width": 300, "height": 400, "label": "person", "score": 0.42},
    ]
    widget = show_bbox(
        notebook, f"{str(path)!r}, labels=['car', 'person'], suggestions={suggestions!r}"
    )
    notebook.screenshot("bbox-suggestions", widget)
    keyboard = notebook.page.keyboard

    click(notebook, widget, (250, 200))
    expect(widget.locator('button[data-action="accept"]')).to_be_visible()
    notebook.screenshot("bbox-suggestion-selected", widget)
    keyboard.press("Enter")
    click(notebook, widget, (1050, 700))
    keyboard.press("Backspace")

    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box, 0 suggestions")
    assert notebook.value("[w.value, w.suggestions]") == [[suggestions[0]], []]
    assert notebook.page_errors == []


def test_accept_all_suggestions_with_the_button(notebook: Notebook) -> None:
    path = image_file(notebook, "suggest-all.png")
    suggestions = [
        {"x": 100, "y": 100, "width": 300, "height": 200, "label": "car", "score": 0.91},
        {"x": 900, "y": 500, "width": 300, "height": 400, "label": "car", "score": 0.42},
    ]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], suggestions={suggestions!r}")
    widget.locator('button[data-action="accept_all"]').click()
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("2 boxes, 0 suggestions")
    assert notebook.value("[len(w.value), len(w.suggestions)]") == [2, 0]


XSS_LABEL = "<img src=x onerror=alert(1)>"
XSS_FILE = "<img src=y onerror=alert(2)>.png"
# The luminance (0 black .. 1 white) of an element's computed background.
LUMINANCE_JS = """el => {
  const [r, g, b] = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


def test_markup_in_a_label_and_the_file_name_stays_inert_text(notebook: Notebook) -> None:
    path = image_file(notebook, XSS_FILE, 400, 300)
    labels = [XSS_LABEL, 'say "hi" & <b>bye</b>']
    widget = show_bbox(notebook, f"{str(path)!r}, labels={labels!r}")

    drag(notebook, widget, (50, 50), (200, 150))  # draws a box tagged with the label

    expect(widget.locator(".annolab-bbox-label span")).to_have_text(labels)
    expect(widget.locator(".annolab-bbox-caption")).to_have_text(XSS_FILE)
    expect(widget.locator(".annolab-visually-hidden li")).to_contain_text([XSS_LABEL])
    expect(widget.locator("img:not(.annolab-bbox-image), script, b")).to_have_count(0)
    notebook.page.wait_for_timeout(300)  # an injected <img src=x> would fail and fire now
    assert notebook.dialogs == []
    assert notebook.page_errors == []
    assert [b["label"] for b in boxes(notebook)] == [XSS_LABEL]
    notebook.screenshot("bbox-xss", widget)


def test_keys_typed_in_the_widget_do_not_run_notebook_commands(notebook: Notebook) -> None:
    path = image_file(notebook, "shortcuts.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person']")
    cells = notebook.cell_count()
    click(notebook, widget, (1500, 1100))  # focus the stage
    expect(widget.locator(".annolab-bbox-stage")).to_be_focused()

    # In command mode: a/b insert cells, d d deletes one, m makes it Markdown, x cuts it.
    for key in ["a", "b", "d", "d", "m", "x", "Shift+Enter"]:
        notebook.page.keyboard.press(key)

    notebook.page.wait_for_timeout(300)
    assert notebook.cell_count() == cells
    expect(widget.locator(".annolab-bbox-stage")).to_be_focused()
    # The same key outside the widget does reach JupyterLab, so the test can tell.
    notebook.page.locator(".jp-Cell").first.locator(".jp-InputArea-editor").click()
    notebook.page.keyboard.press("Escape")  # from edit mode to command mode
    notebook.page.keyboard.press("b")
    expect(notebook.page.locator(".jp-NotebookPanel .jp-Cell")).to_have_count(cells + 1)
    assert notebook.page_errors == []


def test_ctrl_enter_submits_and_escape_skips(notebook: Notebook) -> None:
    path = image_file(notebook, "submit.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    notebook.run("events = []\nw.on_submit(lambda w: events.append(('submit', len(w.value))))")
    notebook.run("w.on_skip(lambda w: events.append(('skip', len(w.value))))")

    drag(notebook, widget, (100, 100), (300, 300))
    keyboard = notebook.page.keyboard
    keyboard.press("Control+Enter")
    keyboard.press("Escape")  # first clears the selection of the new box
    keyboard.press("Escape")  # then skips

    expect(widget.locator(".annolab-bbox-stage")).to_be_focused()
    assert notebook.value("events") == [["submit", 1], ["skip", 1]]


def test_tab_walks_the_boxes_for_keyboard_users(notebook: Notebook) -> None:
    path = image_file(notebook, "tab.png")
    value = [
        {"x": 100, "y": 100, "width": 100, "height": 100, "label": "car"},
        {"x": 900, "y": 900, "width": 100, "height": 100, "label": "car"},
    ]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], value={value!r}")
    stage = widget.locator(".annolab-bbox-stage")
    stage.focus()
    current = widget.locator('.annolab-visually-hidden li[aria-current="true"]')

    notebook.page.keyboard.press("Tab")
    expect(current).to_have_text("Box 1 of 2: car, x 100, y 100, 100 by 100 pixels")
    notebook.page.keyboard.press("Tab")
    expect(current).to_have_text("Box 2 of 2: car, x 900, y 900, 100 by 100 pixels")
    label = re.compile(r"^Bounding boxes on tab.png: 2 boxes")
    expect(stage).to_have_attribute("aria-label", label)
    notebook.page.keyboard.press("Tab")  # past the last box, Tab leaves the widget
    expect(current).to_have_count(0)
    expect(stage).not_to_be_focused()


def test_a_refused_edit_is_rolled_back_and_explained_in_the_widget(notebook: Notebook) -> None:
    path = image_file(notebook, "refused.png")
    value = [{"x": 100, "y": 100, "width": 200, "height": 100, "label": "car"}]
    suggestions = [{**value[0], "score": 0.8}]  # the same box: accepting it makes a duplicate
    widget = show_bbox(
        notebook, f"{str(path)!r}, labels=['car'], value={value!r}, suggestions={suggestions!r}"
    )

    widget.locator('button[data-action="accept_all"]').click()

    expect(widget.locator(".annolab-error")).to_contain_text("is the same box as value[0]")
    # The page had moved the suggestion already; Python's refusal puts it back.
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box, 1 suggestion")
    assert notebook.value("[len(w.value), len(w.suggestions)]") == [1, 1]
    notebook.screenshot("bbox-refused", widget)


def test_boxes_set_from_python_are_drawn(notebook: Notebook) -> None:
    path = image_file(notebook, "python.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person']")
    notebook.run(
        "w.value = [{'x': 10, 'y': 10, 'width': 100, 'height': 100, 'label': 'person'},"
        " {'x': 500, 'y': 500, 'width': 300, 'height': 200, 'label': 'car'}]"
    )
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("2 boxes")
    expect(widget.locator(".annolab-visually-hidden li").first).to_have_text(
        "Box 1 of 2: person, x 10, y 10, 100 by 100 pixels"
    )


def test_the_widget_follows_the_dark_theme(notebook: Notebook) -> None:
    path = image_file(notebook, "dark.png")
    value = [{"x": 200, "y": 200, "width": 400, "height": 300, "label": "car"}]
    suggestions = [{"x": 900, "y": 500, "width": 300, "height": 400, "label": "car", "score": 0.5}]
    widget = show_bbox(
        notebook, f"{str(path)!r}, labels=['car'], value={value!r}, suggestions={suggestions!r}"
    )
    root = widget.locator(".annolab-bbox")
    assert root.evaluate(LUMINANCE_JS) > 0.9
    notebook.set_theme(DARK_THEME)
    assert root.evaluate(LUMINANCE_JS) < 0.15
    click(notebook, widget, (400, 350))
    notebook.screenshot("bbox-dark", widget)
    assert notebook.page_errors == []


# Counts animation frames and their gaps while a drag runs, in the page.
FRAME_COUNTER_JS = """() => {
  const c = {frames: 0, worst: 0, last: performance.now(), start: performance.now(), on: true};
  const tick = (now) => {
    if (!c.on) return;
    c.frames += 1;
    c.worst = Math.max(c.worst, now - c.last);
    c.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__annolabFrames = c;
}"""
FRAME_RESULT_JS = """() => {
  const c = window.__annolabFrames;
  c.on = false;
  return {frames: c.frames, seconds: (performance.now() - c.start) / 1000, worst: c.worst};
}"""


def test_a_thousand_boxes_on_a_4000x3000_image_render_and_drag_fast(notebook: Notebook) -> None:
    path = image_file(notebook, "big.png", 4000, 3000)
    value = (
        "[{'x': (i % 40) * 100 + 5, 'y': (i // 40) * 120 + 5, 'width': 80, 'height': 100,"
        " 'label': ('car', 'person')[i % 2]} for i in range(1000)]"
    )
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person'], value={value}")
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1000 boxes")
    first_frame = notebook.page.evaluate(
        "performance.getEntriesByName('annolab-bbox: first frame').at(-1).duration"
    )

    # Drag one box around for a while; the page counts the frames it manages meanwhile.
    where = shown(widget)
    mouse = notebook.page.mouse
    mouse.move(*where.page(2045, 1615))  # the centre of box 540 (row 13, column 20)
    mouse.down()
    notebook.page.evaluate(FRAME_COUNTER_JS)
    for step in range(120):
        mouse.move(*where.page(2045 + 5 * step, 1615 + 2 * step))
    frames = notebook.page.evaluate(FRAME_RESULT_JS)
    mouse.up()
    fps = frames["frames"] / frames["seconds"]
    notebook.screenshot("bbox-1000-boxes", widget)
    seconds, worst = frames["seconds"], frames["worst"]
    print(
        f"\n1,000 boxes on 4000x3000: first frame {first_frame:.0f} ms after render(); "
        f"drag {fps:.0f} frames/s over {seconds:.2f} s, worst gap {worst:.0f} ms"
    )

    # The speed targets (first frame < 500 ms, dragging >= 30 frames/s) are held by
    # benchmarks/widgets_browser.py, not here: a loaded CI machine must not fail a test on time.
    assert first_frame > 0
    assert frames["frames"] > 0
    moved = notebook.value("w.value[540]")
    assert moved["x"] > 2000 + 500  # the drag reached Python once, on release


def test_a_url_image_is_loaded_by_the_browser_which_reports_its_size(notebook: Notebook) -> None:
    path = image_file(notebook, "served.png", 1200, 900)
    url = f"{notebook.lab.url}files/{path.name}"  # served by Lab itself, to the same origin
    output = notebook.run(f"from annolab.widgets import BBox\nw = BBox({url!r}, labels=['car'])\nw")
    widget = output.widget()
    expect(widget.locator(".annolab-bbox-caption")).to_have_text("served.png")
    expect(widget.locator(".annolab-bbox-message")).to_have_text("")  # loaded
    assert notebook.value("w.image_size") == [1200, 900]
    assert notebook.value("len(w.image)") == 0  # no image bytes went through the kernel

    where = drag(notebook, widget, (100, 200), (500, 600))

    assert_box(boxes(notebook)[0], (100, 200, 400, 400), where.tolerance)
    assert notebook.page_errors == []


def test_space_drag_pans_without_drawing(notebook: Notebook) -> None:
    path = image_file(notebook, "pan.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    mouse = notebook.page.mouse
    mouse.move(*shown(widget).page(400, 300))
    ctrl_wheel(notebook, -300)  # zoom in first, so there is somewhere to pan to
    before = shown(widget)
    widget.locator(".annolab-bbox-stage").focus()
    keyboard = notebook.page.keyboard

    keyboard.down(" ")
    mouse.move(*before.page(400, 300))
    mouse.down()
    mouse.move(before.page(400, 300)[0] - 150, before.page(400, 300)[1] - 80, steps=6)
    mouse.up()
    keyboard.up(" ")

    after = shown(widget)
    assert (round(after.left - before.left), round(after.top - before.top)) == (-150, -80)
    assert after.scale == before.scale
    assert boxes(notebook) == []


def test_two_views_of_one_widget_stay_in_step(notebook: Notebook) -> None:
    path = image_file(notebook, "views.png")
    first = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    second = notebook.run("w").widget()
    expect(second.locator(".annolab-bbox-stage")).to_be_visible()

    drag(notebook, first, (100, 100), (300, 300))

    expect(second.locator(".annolab-bbox-status")).to_contain_text("1 box")
    expect(first.locator(".annolab-bbox-status")).to_contain_text("1 box")
    assert len(boxes(notebook)) == 1
    assert notebook.page_errors == []


# The RGBA of the base canvas (all boxes) at a page point.
CANVAS_PIXEL_JS = """([canvas, x, y]) => {
  const r = canvas.getBoundingClientRect();
  const dpr = canvas.width / r.width;
  const px = Math.round((x - r.left) * dpr);
  const py = Math.round((y - r.top) * dpr);
  return Array.from(canvas.getContext("2d").getImageData(px, py, 1, 1).data);
}"""
READ_ONLY_BOXES = [
    {"x": 200, "y": 400, "width": 300, "height": 200, "label": "car"},
    {"x": 900, "y": 400, "width": 300, "height": 200, "label": "car"},
]


def sign_pixel(widget: Locator, box: dict[str, Any]) -> list[int]:
    """The base canvas at the top-left corner of a disputed box's sign (clear of the glyph):
    the sign is a 16 px square, its right edge 2 px past the box's and its bottom 2 px above
    the box's top (render.ts, drawSign)."""
    where = shown(widget)
    right, top = where.page(box["x"] + box["width"], box["y"])
    canvas = widget.locator("canvas.annolab-bbox-base").element_handle()
    pixel: list[int] = widget.page.evaluate(CANVAS_PIXEL_JS, [canvas, right - 11, top - 15])
    return pixel


def test_a_read_only_view_flags_disputed_boxes_and_edits_nothing(notebook: Notebook) -> None:
    path = image_file(notebook, "adjudicate.png")
    widget = show_bbox(
        notebook,
        f"{str(path)!r}, labels=['car', 'person'], value={READ_ONLY_BOXES!r}, "
        "read_only=True, disputed=[1]",
    )
    stored = [{k: float(v) if k != "label" else v for k, v in b.items()} for b in READ_ONLY_BOXES]

    # No Submit, Skip, Save draft, Undo or Redo: the whole action bar is gone.
    expect(widget.locator(".annolab-actions")).to_have_count(0)
    expect(widget.locator(".annolab-action-submit")).to_have_count(0)
    expect(widget.locator(".annolab-bbox-label").first).to_be_disabled()

    # The disputed box is told apart in words (hidden list, legend) and in pixels (its sign).
    flagged = widget.locator(".annolab-visually-hidden li[data-disputed]")
    expect(flagged).to_have_text(
        ["Box 2 of 2: car, x 900, y 400, 300 by 200 pixels, not in every answer"]
    )
    legend = widget.locator(".annolab-bbox-disputed")
    expect(legend).to_have_text("⚠ 1 box not in every answer")
    expect(legend).to_have_attribute("title", re.compile("not in every answer"))
    expect(widget.locator(".annolab-bbox-stage")).to_have_attribute(
        "aria-label", re.compile(r"2 boxes, 0 suggestions, 1 box not in every answer")
    )
    red, green, blue, alpha = sign_pixel(widget, READ_ONLY_BOXES[1])
    assert (red > 230, 150 < green < 200, blue < 40, alpha == 255) == (True,) * 4, (
        red,
        green,
        blue,
        alpha,
    )
    assert sign_pixel(widget, READ_ONLY_BOXES[0])[3] == 0  # nothing drawn there
    notebook.screenshot("bbox-read-only-disputed", widget)

    # A drag on empty space draws nothing (it pans); a drag on a box does not move it.
    drag(notebook, widget, (1300, 900), (1500, 1100))
    drag(notebook, widget, (350, 500), (600, 700))
    # A click selects a box to look at; Delete, a label hotkey, arrows and undo change nothing.
    click(notebook, widget, (1050, 500))
    current = widget.locator('.annolab-visually-hidden li[aria-current="true"]')
    expect(current).to_have_text(re.compile(r"^Box 2 of 2: .*not in every answer$"))
    for key in ["Delete", "Backspace", "2", "ArrowRight", "Control+z", "Enter"]:
        notebook.page.keyboard.press(key)
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("2 boxes")

    assert boxes(notebook) == stored
    assert notebook.value("w.error") == ""  # the page sent no edit for Python to refuse
    assert notebook.page_errors == []


def test_a_read_only_view_zooms_and_pans_to_look(notebook: Notebook) -> None:
    path = image_file(notebook, "look.png")
    widget = show_bbox(
        notebook, f"{str(path)!r}, labels=['car'], value={READ_ONLY_BOXES!r}, read_only=True"
    )
    mouse = notebook.page.mouse
    before = shown(widget)
    mouse.move(*before.page(400, 300))
    ctrl_wheel(notebook, -300)
    zoomed = shown(widget)
    assert zoomed.scale > before.scale

    drag(notebook, widget, (400, 300), (300, 250))  # a plain drag pans in a view
    after = shown(widget)
    assert after.scale == zoomed.scale
    assert after.left < zoomed.left
    assert after.top < zoomed.top
    assert len(boxes(notebook)) == 2
    assert notebook.page_errors == []


def test_turning_read_only_off_brings_back_editing_and_the_buttons(notebook: Notebook) -> None:
    path = image_file(notebook, "unlock.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], read_only=True")
    drag(notebook, widget, (100, 100), (300, 300))
    assert boxes(notebook) == []

    notebook.run("w.read_only = False")
    expect(widget.locator(".annolab-action-submit")).to_be_visible()
    drag(notebook, widget, (100, 100), (300, 300))
    expect(widget.locator(".annolab-bbox-status")).to_contain_text("1 box")
    assert len(boxes(notebook)) == 1

    # show_submit=False (a layout composing several widgets) hides Skip and Submit here too.
    notebook.run("w.show_submit = False")
    expect(widget.locator(".annolab-action-submit")).to_be_hidden()
    expect(widget.locator(".annolab-action-undo")).to_be_visible()
    assert notebook.page_errors == []


# --- scroll is scroll; sizes; keys; the shortcut list ----------------------------------------

IMAGE_RECT_JS = """el => {
  const r = el.querySelector("img.annolab-bbox-image").getBoundingClientRect();
  return {top: r.top, width: r.width};
}"""


def test_the_wheel_scrolls_the_notebook_and_ctrl_wheel_zooms(notebook: Notebook) -> None:
    path = image_file(notebook, "scroll.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    # Room below the widget, so the notebook has somewhere to scroll to.
    notebook.run("from IPython.display import HTML\nHTML('<div style=\"height:3000px\"></div>')")
    where = shown(widget)
    mouse = notebook.page.mouse
    mouse.move(*where.page(400, 300))
    before = widget.evaluate(IMAGE_RECT_JS)
    mouse.wheel(0, 200)
    # The page moved up under the pointer; the image kept its size.
    notebook.page.wait_for_function(
        "([el, top]) => el.querySelector('img.annolab-bbox-image')"
        ".getBoundingClientRect().top < top - 50",
        arg=[widget.element_handle(), before["top"]],
    )
    scrolled = widget.evaluate(IMAGE_RECT_JS)
    assert scrolled["width"] == before["width"]
    expect(widget.locator(".annolab-bbox-zoom-text")).to_have_text(f"{round(where.scale * 100)}%")

    zoom_from = shown(widget)
    mouse.move(*zoom_from.page(400, 300))
    ctrl_wheel(notebook, -300)
    zoomed = shown(widget)
    assert zoomed.scale > zoom_from.scale * 1.5
    assert notebook.page_errors == []


def test_a_small_image_is_shown_at_its_natural_size(notebook: Notebook) -> None:
    path = image_file(notebook, "small.png", width=320, height=240)
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car']")
    expect(widget.locator(".annolab-bbox-zoom-text")).to_have_text("100%")
    where = shown(widget)
    assert where.scale == 1
    # The stage is as tall as the image (not the cell's width times its aspect).
    height = widget.locator(".annolab-bbox-stage").evaluate("s => s.clientHeight")
    assert height == 240
    notebook.screenshot("bbox-small", widget)


def test_bbox_targets_are_24_px_and_labels_past_nine_get_keys(notebook: Notebook) -> None:
    path = image_file(notebook, "chips.png")
    labels = [f"class{i}" for i in range(9)] + ["truck", "bus"]
    widget = show_bbox(notebook, f"{str(path)!r}, labels={labels!r}")
    chips = widget.locator(".annolab-bbox-label.annolab-chip")
    expect(chips.locator("kbd")).to_have_text([*"123456789", "t", "b"])
    sizes = widget.evaluate(
        """el => [...el.querySelectorAll("button")].filter((b) => b.getClientRects().length)
          .map((b) => { const r = b.getBoundingClientRect();
                        return [b.textContent, r.width, r.height]; })"""
    )
    assert sizes and [s for s in sizes if s[1] < 24 or s[2] < 24] == []
    # "b" picks "bus", and a box drawn now gets it.
    widget.locator(".annolab-bbox-stage").focus()
    notebook.page.keyboard.press("b")
    expect(chips.filter(has_text="bus")).to_have_attribute("aria-checked", "true")
    drag(notebook, widget, (100, 100), (300, 300))
    assert [b["label"] for b in boxes(notebook)] == ["bus"]


def test_bbox_question_mark_lists_the_zoom_keys(notebook: Notebook) -> None:
    path = image_file(notebook, "help.png")
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'bus']")
    widget.locator(".annolab-bbox-stage").focus()
    notebook.page.keyboard.press("?")
    dialog = widget.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl+wheel")
    expect(dialog.locator(".annolab-help-chip")).to_have_text(["car", "bus"])
    notebook.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert notebook.value("w.skip_count") == 0


# A pixel of the base canvas (outlines only; the image is an <img> under it), at natural
# image coordinates (x, y) plus a display offset (dx, dy).
IMAGE_PIXEL_JS = """(el, [x, y, dx, dy]) => {
  const canvas = el.querySelector("canvas.annolab-bbox-base");
  const img = el.querySelector("img.annolab-bbox-image").getBoundingClientRect();
  const c = canvas.getBoundingClientRect();
  const scale = img.width / el.querySelector("img.annolab-bbox-image").naturalWidth;
  const ratio = canvas.width / c.width;
  const px = Math.round((img.left - c.left + x * scale + dx) * ratio);
  const py = Math.round((img.top - c.top + y * scale + dy) * ratio);
  return [...canvas.getContext("2d").getImageData(px, py, 1, 1).data];
}"""


def test_box_outlines_have_a_dark_halo_under_the_label_colour(notebook: Notebook) -> None:
    path = image_file(notebook, "halo.png")
    value = [{"x": 400, "y": 300, "width": 600, "height": 400, "label": "car"}]
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car'], value={value!r}")
    # Wait for the drawing: the outline's own pixel is the label colour (#aec7e8).
    notebook.page.wait_for_function(
        "([el, js]) => eval(js)(el, [400, 500, 0, 0])[3] > 200",
        arg=[widget.element_handle(), IMAGE_PIXEL_JS],
    )
    r, g, b, a = widget.evaluate(IMAGE_PIXEL_JS, [400, 500, 0, 0])
    assert a > 200 and abs(r - 0xAE) < 40 and abs(g - 0xC7) < 40 and abs(b - 0xE8) < 40
    # Just outside the colour, a dark band: the outline reads on a light, busy image too.
    for side in (-1, 1):
        pixels = [widget.evaluate(IMAGE_PIXEL_JS, [400, 500, side * step, 0]) for step in (1, 2, 3)]
        assert any(a > 150 and max(r, g, b) < 60 for r, g, b, a in pixels), (side, pixels)
    notebook.screenshot("bbox-halo", widget)
