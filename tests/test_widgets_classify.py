"""annolab.widgets.Classify: items, single and multi choice, suggestions, patches."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from annolab.schema import ChoicePayload, ChoicesPayload, LabelSchema
from annolab.widgets import AnnotationWidget, Classify, WidgetTraitError
from annolab.widgets._base import BUILD_COMMAND, STATIC_DIR

LABELS = ["pos", "neg", "mixed"]


def png(width: int = 4, height: int = 3) -> bytes:
    """A tiny valid PNG, made without Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    def send(self: AnnotationWidget, content: dict[str, Any], buffers: Any = None) -> None:
        messages.append(content)

    monkeypatch.setattr(AnnotationWidget, "send", send)
    return messages


def patch(widget: Classify, op: str, **fields: Any) -> None:
    widget._handle_custom_msg({"op": op, "uuid": "u", **fields}, [])


# --- items ------------------------------------------------------------------------------------


def test_a_string_is_text_sent_as_utf8_bytes() -> None:
    widget = Classify("Grand 東京 😀", labels=LABELS)
    assert widget.kind == "text"
    assert widget._text_utf8 == "Grand 東京 😀".encode()
    assert widget.item == "Grand 東京 😀"


def test_bytes_are_an_image_sent_as_a_binary_buffer() -> None:
    data = png()
    widget = Classify(data, labels=LABELS)
    assert (widget.kind, widget.image_mime, widget.image) == ("image", "image/png", data)
    # ipywidgets sends bytes traits as buffers, not as base64 in the JSON.
    state = widget.get_state()
    assert isinstance(state["image"], bytes)


def test_a_path_to_an_image_file_is_an_image(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(png())
    for item in (path, str(path)):
        widget = Classify(item, labels=LABELS)
        assert (widget.kind, widget.item_name, widget.image) == ("image", "cat.png", png())


def test_a_url_is_an_image_the_browser_loads() -> None:
    widget = Classify("https://example.org/photos/a%20cat.jpg", labels=LABELS)
    assert (widget.kind, widget.image, widget.item_name) == ("image", b"", "a cat.jpg")
    assert widget.image_url == "https://example.org/photos/a%20cat.jpg"


def test_kind_overrides_the_guess() -> None:
    widget = Classify("https://example.org/", labels=LABELS, kind="text")
    assert widget.kind == "text"


def test_a_dict_is_a_record_of_text_rows() -> None:
    widget = Classify({"title": "Dune", "year": 1965, "tags": ["sf"]}, labels=LABELS)
    assert widget.kind == "record"
    assert widget.record == [["title", "Dune"], ["year", "1965"], ["tags", '["sf"]']]


@pytest.mark.parametrize(
    ("item", "kwargs", "message"),
    [
        (
            3,
            {},
            "item=3 must be a text (str), an image (bytes, a pathlib.Path, a path or an "
            "http(s) URL) or a record (dict), not int",
        ),
        (b"GIF8", {}, "item=b'GIF8' is not a PNG, JPEG, GIF, WebP or BMP image"),
        (
            "x",
            {"kind": "video"},
            "kind='video' must be 'text', 'image' or 'record' (or None to guess from the item)",
        ),
        ({"a": 1}, {"kind": "text"}, "item={'a': 1} must be a string to show as text"),
    ],
)
def test_items_that_cannot_be_shown_are_refused(
    item: object, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(WidgetTraitError) as info:
        Classify(item, labels=LABELS, **kwargs)
    assert str(info.value) == message


def test_an_unreadable_image_path_says_why(tmp_path: Path) -> None:
    with pytest.raises(WidgetTraitError, match=r"cannot be read \(No such file"):
        Classify(tmp_path / "missing.png", labels=LABELS)


# --- values -----------------------------------------------------------------------------------


def test_single_choice_value_and_payload() -> None:
    widget = Classify("ok", labels=LABELS, value="neg")
    assert widget.payload == ChoicePayload(label="neg")
    widget.value = None
    with pytest.raises(WidgetTraitError) as info:
        _ = widget.payload
    assert str(info.value) == (
        "value=None is not chosen yet: choose a label first (or skip the item)"
    )


def test_multi_choice_value_keeps_its_order_and_payload_sorts() -> None:
    widget = Classify("ok", labels=LABELS, multi=True, value=["pos", "mixed"])
    widget.value = ["mixed", "pos"]
    assert widget.value == ["mixed", "pos"]
    assert widget.payload == ChoicesPayload(labels=("mixed", "pos"))
    assert Classify("ok", labels=LABELS, multi=True).payload == ChoicesPayload(labels=())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"value": "nope"},
            "value='nope' is not a label of this project; labels are 'pos', 'neg', 'mixed'",
        ),
        (
            {"value": ["pos"]},
            "value=['pos'] must be one label name or None when multi=False "
            "(multi=True takes a list)",
        ),
        (
            {"multi": True, "value": "pos"},
            "value='pos' must be a list of label names when multi=True, e.g. ['pos']",
        ),
        (
            {"multi": True, "value": ["pos", "pos"]},
            "value[1]='pos' is the same label as value[0]; remove one",
        ),
        (
            {"suggestions": [{"label": "x", "score": 0.5}]},
            "suggestions[0].label='x' is not a "
            "label of this project; labels are 'pos', 'neg', 'mixed'",
        ),
        ({"suggestions": [{"label": "pos", "score": 2}]}, "suggestions[0].score=2 must be <= 1.0"),
        (
            {"suggestions": [{"label": "pos"}, {"label": "pos"}]},
            "suggestions[1].label='pos' "
            "is already suggested by suggestions[0]; give each label once",
        ),
    ],
)
def test_bad_values_are_refused_with_exact_messages(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WidgetTraitError) as info:
        Classify("ok", labels=LABELS, **kwargs)
    assert str(info.value) == message


def test_switching_multi_converts_the_value() -> None:
    widget = Classify("ok", labels=LABELS, value="pos")
    widget.multi = True
    assert widget.value == ["pos"]
    widget.value = ["pos", "neg"]
    with pytest.raises(WidgetTraitError, match=r"^multi=False cannot be False while value"):
        widget.multi = False
    widget.value = ["neg"]
    widget.multi = False
    assert widget.value == "neg"


def test_labels_come_from_a_schema_with_hotkeys() -> None:
    schema = LabelSchema.coerce([{"name": "pos", "hotkey": "p"}, {"name": "neg", "hotkey": "n"}])
    widget = Classify("ok", labels=schema)
    assert [label["hotkey"] for label in widget.labels] == ["p", "n"]


def test_relabelling_checks_the_value() -> None:
    widget = Classify("ok", labels=LABELS, value="mixed")
    with pytest.raises(WidgetTraitError, match=r"^value='mixed' is not a label"):
        widget.labels = ["pos", "neg"]


# --- patches ----------------------------------------------------------------------------------


def test_choose_and_clear(sent: list[dict[str, Any]]) -> None:
    widget = Classify("ok", labels=LABELS)
    patch(widget, "choose", label="neg")
    assert widget.value == "neg"
    patch(widget, "choose", label=None)
    assert widget.value is None
    assert sent == [{"uuid": "u", "ok": True}] * 2


def test_an_unknown_label_is_refused_and_shown(sent: list[dict[str, Any]]) -> None:
    widget = Classify("ok", labels=LABELS, value="pos")
    patch(widget, "choose", label="meh")
    message = "value='meh' is not a label of this project; labels are 'pos', 'neg', 'mixed'"
    assert sent == [{"uuid": "u", "error": message}]
    assert widget.error == message
    assert widget.value == "pos"


def test_toggle_in_multi(sent: list[dict[str, Any]]) -> None:
    widget = Classify("ok", labels=LABELS, multi=True)
    patch(widget, "toggle", label="neg")
    patch(widget, "toggle", label="pos")
    patch(widget, "toggle", label="neg")
    assert widget.value == ["pos"]


def test_the_wrong_op_for_the_mode_is_refused(sent: list[dict[str, Any]]) -> None:
    widget = Classify("ok", labels=LABELS)
    patch(widget, "toggle", label="neg")
    assert sent[-1]["error"] == "op='toggle' toggles a label; this widget has multi=False (choose)"


def test_accept_a_suggestion_chooses_its_label(sent: list[dict[str, Any]]) -> None:
    suggestions = [{"label": "mixed", "score": 0.7}]
    single = Classify("ok", labels=LABELS, suggestions=suggestions)
    patch(single, "accept", label="mixed")
    assert single.value == "mixed"
    multi = Classify("ok", labels=LABELS, multi=True, value=["pos"], suggestions=suggestions)
    patch(multi, "accept", label="mixed")
    assert multi.value == ["pos", "mixed"]
    patch(multi, "accept", label="neg")
    assert sent[-1]["error"] == "label='neg' is not suggested; suggestions are ['mixed']"


def test_set_is_how_undo_arrives(sent: list[dict[str, Any]]) -> None:
    widget = Classify("ok", labels=LABELS, multi=True, value=["pos"])
    patch(widget, "set", value=["neg", "mixed"])
    assert widget.value == ["neg", "mixed"]


def test_submit_fires_every_time() -> None:
    widget = Classify("ok", labels=LABELS, value="pos")
    payloads: list[object] = []
    widget.on_submit(lambda w: payloads.append(w.payload))
    widget.set_state({"submit_count": 1})
    widget.set_state({"submit_count": 2})
    assert payloads == [ChoicePayload(label="pos")] * 2


def test_repr_names_the_item() -> None:
    assert repr(Classify(png(), labels=["a"])) == (
        f"Classify(image '{len(png())} bytes', value=None, multi=False, labels=['a'])"
    )
    assert repr(Classify({"a": 1}, labels=["a"], multi=True)) == (
        "Classify(record of 1 fields, value=[], multi=True, labels=['a'])"
    )


def test_bundle_is_built_and_exports_render() -> None:
    bundle = STATIC_DIR / "classify.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    node = shutil.which("node")
    assert node is not None, "node is needed to build the front end; install Node.js 20+"
    url = json.dumps(bundle.as_uri())
    script = f"const m = await import({url}); console.log(typeof m.default.render)"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "function"
