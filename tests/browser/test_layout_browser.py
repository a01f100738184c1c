"""annolab.LayoutWidget rendered by real JupyterLab in Chromium: the B.4 seed, keyboard only."""

from __future__ import annotations

import json

import pytest

from tests.browser.lab import DARK_THEME, Notebook, expect
from tests.browser.test_ner_browser import click_at

pytestmark = pytest.mark.browser

TEXT = "Patient with pneumonia was given amoxicillin after a chest X-ray."
XSS = "<img src=x onerror=alert(1)>"


def show_seed(notebook: Notebook, data: dict[str, str]) -> None:
    literal = json.dumps(data)
    output = notebook.run(
        "import annolab as al\n"
        f"w = al.LayoutWidget(al.Layout.load('clinical-ner-v1'), {literal})\n"
        "submitted = []\n"
        "w.on_submit(lambda x: submitted.append(x.payload.to_dict()))\n"
        "w"
    )
    assert output.error is None, output.error
    expect(notebook.page.locator(".annolab-layout .annolab-ner-text")).to_be_visible()


def test_the_seed_layout_keyboard_only_from_span_to_submit(notebook: Notebook) -> None:
    show_seed(notebook, {"document_id": "note-1", "document_text": TEXT, "priority": "high"})
    page = notebook.page
    layout = page.locator(".annolab-layout").last
    expect(layout.locator(".annolab-form-badge")).to_have_text(["High"])
    expect(layout.locator(".annolab-form-field-value")).to_have_text(["note-1"])

    # A span with the Diagnosis hotkey d.
    ner = layout.locator(".annolab-ner")
    click_at(notebook, ner, TEXT, TEXT.index("pneumonia"))
    keys = page.keyboard
    keys.press("Control+Shift+ArrowRight")
    keys.press("d")
    expect(ner.locator("mark.annolab-ner-mark")).to_have_text(["pneumonia"])

    # Alt+Down leaves the text for confidence; its keys work only while it has focus.
    ner.locator(".annolab-ner-text").focus()
    keys.press("Alt+ArrowDown")
    confidence = layout.locator("[data-annolab-question='confidence']")
    expect(confidence).to_be_focused()
    keys.press("Alt+ArrowDown")
    quality = layout.locator("[data-annolab-question='document_quality']")
    expect(quality).to_be_focused()
    keys.press("2")  # fair, on document_quality, not confidence
    expect(quality.locator(".annolab-form-chosen")).to_have_text(["fair"])
    expect(confidence.locator(".annolab-form-chosen")).to_have_count(0)

    # Tab goes on to notes, Shift+Tab back; Alt+Up twice returns to the text.
    keys.press("Tab")
    expect(layout.locator("textarea[data-annolab-question='notes']")).to_be_focused()
    keys.press("Shift+Tab")
    expect(quality).to_be_focused()
    keys.press("Alt+ArrowUp")
    keys.press("Alt+ArrowUp")
    expect(ner.locator(".annolab-ner-text")).to_be_focused()

    # Submit without confidence: refused, with the reason, and nothing submitted.
    keys.press("Control+Enter")
    banner = layout.locator(".annolab-form").last.locator("[role=alert]")
    expect(banner).to_contain_text("answers.confidence=None is required")
    assert notebook.value("submitted") == []

    # Back in the text (reading the value ran a cell), Tab goes into confidence; 1 picks high.
    ner.locator(".annolab-ner-text").focus()
    keys.press("Tab")
    expect(confidence).to_be_focused()
    keys.press("1")
    expect(confidence.locator(".annolab-form-chosen")).to_have_text(["high"])
    notebook.screenshot("layout-seed-answered", layout)
    keys.press("Control+Enter")
    expect(banner).to_be_hidden()
    start = TEXT.index("pneumonia")
    assert notebook.value("submitted") == [
        {
            "kind": "form",
            "answers": {
                "entities": {
                    "kind": "spans",
                    "spans": [{"start": start, "end": start + 9, "label": "Diagnosis"}],
                },
                "confidence": {"kind": "choice", "label": "high"},
                "document_quality": {"kind": "choice", "label": "fair"},
            },
        }
    ]
    assert notebook.value("w.value.to_dict()['answers']['confidence']") == {
        "kind": "choice",
        "label": "high",
    }
    assert notebook.dialogs == [] and notebook.page_errors == []


def test_header_values_and_badges_render_as_text(notebook: Notebook) -> None:
    # The seed with a second badge on document_id, a free string, so markup reaches a badge.
    output = notebook.run(
        "import annolab as al\n"
        "body = al.Layout.load('clinical-ner-v1').to_dict()\n"
        "body['display'][0]['badges'].append({'field': 'document_id'})\n"
        f"data = {{'document_id': {XSS!r}, 'document_text': {TEXT!r}, 'priority': 'low'}}\n"
        "w = al.LayoutWidget(al.Layout.from_dict(body), data)\n"
        "w"
    )
    assert output.error is None, output.error
    layout = notebook.page.locator(".annolab-layout").last
    expect(layout.locator(".annolab-form-field-value")).to_have_text([XSS])
    expect(layout.locator(".annolab-form-badge")).to_have_text(["Low", XSS])
    expect(layout.locator("img")).to_have_count(0)
    notebook.set_theme(DARK_THEME)
    notebook.screenshot("layout-seed-dark", layout)
    assert notebook.dialogs == [] and notebook.page_errors == []
