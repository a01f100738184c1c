"""Widgets in a real browser: NER on a long document and BBox with many boxes.

Runs real JupyterLab in Debian's headless Chromium (the browser-test harness) and measures:

- NER, 100,000 tokens with 5,000 spans: first render (in the widget, and from Shift+Enter), and
  a new span's trip from the key press to Python's ``value`` and back (median of 5);
- BBox, 1,000 boxes on a 4000x3000 image: first frame after ``render()``, and frames per second
  while a box is dragged.

The baseline is the same measurement at a tenth of the size (10,000 tokens with 500 spans; 100
boxes), so the ratios show how cost grows. ``--quick`` measures each once. Ends with one line of
JSON. Run from the repository root after ``make setup``:

    .venv/bin/python benchmarks/widgets_browser.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.lab import Notebook, launch_browser, open_notebook, start_lab
from tests.browser.test_bbox_browser import (
    FRAME_COUNTER_JS,
    FRAME_RESULT_JS,
    image_file,
    show_bbox,
    shown,
)
from tests.browser.test_ner_browser import BIG_DOCUMENT, TIME_DISPLAY_JS


def ner(notebook: Notebook, tokens: int, every: int) -> dict[str, float]:
    code = BIG_DOCUMENT.strip().replace("100_000", str(tokens)).replace(", 20)", f", {every})")
    notebook.run(code, timeout=180)
    index = notebook.page.evaluate("p => window.__annolab.ensureEmptyLastCell(p)", notebook.path)
    cell = notebook.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor .cm-content").click()
    notebook.page.keyboard.insert_text("w")
    timing = notebook.page.evaluate(TIME_DISPLAY_JS)
    widget = notebook.widget(-1)
    text = widget.locator(".annolab-ner-text")
    text.focus()
    keys = notebook.page.keyboard
    keys.press("Control+End")
    root = widget.locator(".annolab-ner")
    trips = []
    for _ in range(5):
        keys.press("Escape")
        keys.press("Control+ArrowLeft")
        keys.press("Control+ArrowLeft")
        keys.press("Control+Shift+ArrowLeft")
        answered = int(root.get_attribute("data-patches") or "0")
        keys.press("1")
        root.locator(f"xpath=self::*[@data-patches='{answered + 1}']").wait_for()
        trips.append(float(root.get_attribute("data-patch-ms") or "nan"))
    return {
        "first_render_ms": round(timing["render"], 1),
        "shift_enter_to_rendered_ms": round(timing["wall"], 1),
        "span_to_python_ms": round(statistics.median(trips), 1),
    }


def bbox(notebook: Notebook, boxes: int) -> dict[str, float]:
    path = image_file(notebook, f"big-{boxes}.png", 4000, 3000)
    value = (
        f"[{{'x': (i % 40) * 100 + 5, 'y': (i // 40) * 120 + 5, 'width': 80, "
        f"'height': 100, 'label': ('car', 'person')[i % 2]}} for i in range({boxes})]"
    )
    widget = show_bbox(notebook, f"{str(path)!r}, labels=['car', 'person'], value={value}")
    widget.locator(".annolab-bbox-status").filter(has_text=f"{boxes} boxes").wait_for()
    first = notebook.page.evaluate(
        "performance.getEntriesByName('annolab-bbox: first frame').at(-1).duration"
    )
    where = shown(widget)
    mouse = notebook.page.mouse
    mouse.move(*where.page(45, 55))  # the centre of box 0
    mouse.down()
    notebook.page.evaluate(FRAME_COUNTER_JS)
    for step in range(120):
        mouse.move(*where.page(45 + 5 * step, 55 + 2 * step))
    frames = notebook.page.evaluate(FRAME_RESULT_JS)
    mouse.up()
    return {
        "first_frame_ms": round(first, 1),
        "drag_fps": round(frames["frames"] / frames["seconds"], 1),
        "worst_frame_gap_ms": round(frames["worst"], 1),
    }


def measure(repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with start_lab() as lab, launch_browser() as browser:
        for name, run in (
            ("ner_100000_tokens_5000_spans", lambda nb: ner(nb, 100_000, 20)),
            ("ner_10000_tokens_500_spans", lambda nb: ner(nb, 10_000, 20)),
            ("bbox_1000_boxes", lambda nb: bbox(nb, 1000)),
            ("bbox_100_boxes", lambda nb: bbox(nb, 100)),
        ):
            runs = []
            for attempt in range(repeat):
                notebook = open_notebook(lab, browser, f"bench-{name}-{attempt}")
                try:
                    runs.append(run(notebook))
                finally:
                    notebook.close()
            results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name}: {results[name]}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, under a minute")
    args = parser.parse_args()
    r = measure(1 if args.quick else 3)
    big_ner, small_ner = r["ner_100000_tokens_5000_spans"], r["ner_10000_tokens_500_spans"]
    big_box, small_box = r["bbox_1000_boxes"], r["bbox_100_boxes"]
    figures = {
        "benchmark": "widgets_browser",
        **r,
        "growth_10x": {
            "ner_first_render": round(
                big_ner["first_render_ms"] / max(small_ner["first_render_ms"], 0.1), 2
            ),
            "ner_span_to_python": round(
                big_ner["span_to_python_ms"] / max(small_ner["span_to_python_ms"], 0.1), 2
            ),
            "bbox_first_frame": round(
                big_box["first_frame_ms"] / max(small_box["first_frame_ms"], 0.1), 2
            ),
        },
        "targets_met": {
            "ner_first_render<500ms": big_ner["first_render_ms"] < 500,
            "ner_span_to_python<100ms": big_ner["span_to_python_ms"] < 100,
            "bbox_first_frame<500ms": big_box["first_frame_ms"] < 500,
            "bbox_drag>=30fps": big_box["drag_fps"] >= 30,
        },
        "mode": "quick" if args.quick else "full",
    }
    for target, met in figures["targets_met"].items():
        print(("met: " if met else "MISSED: ") + target)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
