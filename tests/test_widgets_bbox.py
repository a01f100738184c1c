"""annolab.widgets.BBox: image sources and sizes, validation at the edge, and the patch handler."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import traitlets

from annolab.errors import ValidationError
from annolab.schema import Box, BoxesPayload, LabelSchema
from annolab.schema.images import image_info
from annolab.widgets import BBox, WidgetTraitError
from annolab.widgets._base import BUILD_COMMAND, STATIC_DIR
from annolab.widgets.bbox import apply_patch, check_disputed, disputed_after

LABELS = ["cat", "dog"]


# --- test images: a tiny pure-Python PNG writer -----------------------------------------------


def png_bytes(width: int, height: int, *, tile: int = 0) -> bytes:
    """An RGB PNG: a flat grey, or with ``tile`` a checkerboard of ``tile``-pixel squares in
    two colours (so a screenshot shows where natural pixels are)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    light, dark = bytes((225, 225, 215)), bytes((90, 120, 160))
    rows = []
    for y in range(height):
        if tile:
            first, second = (light, dark) if (y // tile) % 2 == 0 else (dark, light)
            pair = first * tile + second * tile
            row = (pair * (width // (2 * tile) + 1))[: width * 3]
        else:
            row = light * width
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + chunk(b"IEND", b"")
    )


def box(x: float, y: float, width: float, height: float, label: str = "cat", **extra: Any):
    return {"x": x, "y": y, "width": width, "height": height, "label": label, **extra}


def stored(x: float, y: float, width: float, height: float, label: str = "cat", **extra: Any):
    """A box as ``value`` holds it: floats, no unset score."""
    return box(float(x), float(y), float(width), float(height), label, **extra)


@pytest.fixture
def image() -> bytes:
    return png_bytes(200, 100)


class Replies:
    """Captures what the widget sends to the page (there is no kernel comm in unit tests):
    custom messages in ``sent``, and the trait names of each state message in ``states``."""

    def __init__(self, widget: BBox) -> None:
        self.sent: list[dict[str, Any]] = []
        self.states: list[set[str]] = []
        widget.send = self._send  # type: ignore[method-assign]
        widget.send_state = self._send_state  # type: ignore[method-assign]

    def _send(self, content: dict[str, Any], buffers: object = None) -> None:
        self.sent.append(content)

    def _send_state(self, key: str | set[str] | None = None) -> None:
        if key:
            self.states.append({key} if isinstance(key, str) else set(key))

    @property
    def last(self) -> dict[str, Any]:
        return self.sent[-1]


def patch(widget: BBox, message: dict[str, Any], uuid: str = "u1") -> None:
    """What the page's custom message does: ipywidgets calls the widget's message handler."""
    widget._handle_custom_msg({**message, "uuid": uuid}, [])


# --- the built front end ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bbox.js", "bbox.css"])
def test_bundle_is_built(name: str) -> None:
    path = STATIC_DIR / name
    assert path.is_file(), f"{path} is missing: run `{BUILD_COMMAND}` from the repository root"


def test_bundle_exports_an_anywidget_render_function() -> None:
    bundle = STATIC_DIR / "bbox.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    node = shutil.which("node")
    assert node is not None, "node is needed to build the front end; install Node.js 20+"
    url = json.dumps(bundle.as_uri())
    # The bundle imports a CSS-free module graph, but touches no DOM at import time.
    script = f"const m = await import({url}); console.log(typeof m.default.render)"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "function"


def test_bundle_sets_user_text_only_as_text() -> None:
    bundle = (STATIC_DIR / "bbox.js").read_text(encoding="utf-8")
    assert "innerHTML" not in bundle
    assert "insertAdjacentHTML" not in bundle


# --- image sources ----------------------------------------------------------------------------


def test_bytes_are_sent_as_a_binary_buffer_with_their_natural_size(image: bytes) -> None:
    w = BBox(image, labels=LABELS)
    assert w.image == image
    assert w.image_size == (200, 100)
    assert (w.image_mime, w.image_url, w.image_name) == ("image/png", "", "")
    state = w.get_state()
    # ipywidgets moves bytes out of the JSON state into binary buffers: no base64 anywhere.
    from ipywidgets.widgets.widget import _remove_buffers

    json_state, paths, buffers = _remove_buffers(state)
    assert ["image"] in paths
    assert bytes(buffers[paths.index(["image"])]) == image
    assert image.hex()[:64] not in json.dumps(json_state)


def test_a_path_is_read_and_its_file_name_becomes_the_caption(tmp_path: Path) -> None:
    path = tmp_path / "street scene.png"
    path.write_bytes(png_bytes(30, 20))
    for source in (path, str(path)):
        w = BBox(source, labels=LABELS)
        assert w.image_size == (30, 20)
        assert w.image_name == "street scene.png"
        assert w.image == path.read_bytes()


def test_a_url_is_left_for_the_browser_to_load() -> None:
    w = BBox("https://example.org/data/cat%201.jpg?x=1", labels=LABELS)
    assert (w.image, w.image_url) == (b"", "https://example.org/data/cat%201.jpg?x=1")
    assert w.image_name == "cat 1.jpg"
    assert w.image_size is None


def test_a_url_image_gets_its_size_from_the_browser_and_then_checks_boxes() -> None:
    w = BBox("http://example.org/a.png", labels=LABELS, value=[box(0, 0, 500, 10)])
    replies = Replies(w)
    patch(w, {"op": "size", "width": 400, "height": 300})
    assert w.image_size == (400, 300)
    # The size is kept (the page keeps showing it) and the box given before it was known is
    # reported inside the widget, not silently dropped.
    assert replies.last == {"uuid": "u1", "ok": True}
    assert w.error == (
        "value[0].width=500.0 puts the box past the right edge of the image "
        "(x + width = 500, the image is 400 px wide)"
    )


def test_the_size_read_from_the_bytes_wins_over_the_browser(image: bytes) -> None:
    w = BBox(image, labels=LABELS)
    Replies(w)
    patch(w, {"op": "size", "width": 5, "height": 5})
    assert w.image_size == (200, 100)


def test_a_missing_file_says_so() -> None:
    with pytest.raises(WidgetTraitError) as info:
        BBox("/no/such/picture.png", labels=LABELS)
    assert str(info.value) == (
        "image='/no/such/picture.png' cannot be read (No such file or directory); "
        "give an image file, its bytes, or an http(s) URL"
    )


def test_bytes_that_are_not_an_image_are_refused() -> None:
    with pytest.raises(WidgetTraitError) as info:
        BBox(b"%PDF-1.7 not a picture", labels=LABELS)
    assert str(info.value) == (
        "image=b'%PDF-1.7 not a p' is not a PNG, JPEG, GIF, WebP or BMP image "
        "(its header does not say a size)"
    )


def test_an_image_of_another_type_is_refused() -> None:
    with pytest.raises(WidgetTraitError, match=r"^image=12 must be the image's bytes"):
        BBox(12, labels=LABELS)  # type: ignore[arg-type]


# --- natural size from headers ----------------------------------------------------------------


def test_png_size() -> None:
    assert image_info(png_bytes(4000, 3000)) is not None
    info = image_info(png_bytes(7, 3))
    assert (info.width, info.height, info.mime) == (7, 3, "image/png") if info else False


def test_jpeg_size_is_read_from_the_frame_header_after_other_segments() -> None:
    app0 = (
        b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    )
    exif = b"\xff\xe1" + struct.pack(">H", 8) + b"Exif\x00\x00"
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, 480, 640, 3) + b"\x00" * 3
    info = image_info(b"\xff\xd8" + app0 + exif + b"\xff" + sof2 + b"\xff\xda")
    assert info is not None
    assert (info.width, info.height, info.mime) == (640, 480, "image/jpeg")


def test_jpeg_without_a_frame_header_has_no_size() -> None:
    assert image_info(b"\xff\xd8\xff\xda\x00\x02") is None


def test_gif_bmp_and_the_three_webp_kinds() -> None:
    gif = b"GIF87a" + struct.pack("<HH", 320, 200)
    bmp = b"BM" + b"\x00" * 16 + struct.pack("<ii", 33, -44)
    riff = b"RIFF" + struct.pack("<I", 100) + b"WEBP"
    vp8 = riff + b"VP8 " + b"\x00" * 4 + b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 500, 400)
    bits = (300 - 1) | ((150 - 1) << 14)
    vp8l = riff + b"VP8L" + b"\x00" * 4 + b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    vp8x = riff + b"VP8X" + b"\x00" * 8 + (1999).to_bytes(3, "little") + (999).to_bytes(3, "little")
    sizes = [image_info(data) for data in (gif, bmp, vp8, vp8l, vp8x)]
    assert [(i.width, i.height, i.mime) if i else None for i in sizes] == [
        (320, 200, "image/gif"),
        (33, 44, "image/bmp"),
        (500, 400, "image/webp"),
        (300, 150, "image/webp"),
        (2000, 1000, "image/webp"),
    ]


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a\x01", b"RIFF....WEBPVP8X"])
def test_truncated_headers_have_no_size(data: bytes) -> None:
    assert image_info(data) is None


# --- validation: each rule, with its exact message --------------------------------------------


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (
            [box(150, 10, 60, 20)],
            "value[0].width=60.0 puts the box past the right edge of the image "
            "(x + width = 210, the image is 200 px wide)",
        ),
        (
            [box(10, 10, 20, 20), box(0, 120, 5, 5)],
            "value[1].y=120.0 puts the box past the bottom edge of the image "
            "(y + height = 125, the image is 100 px high)",
        ),
        (
            [box(10, 10, 20, 20, "zebra")],
            "value[0].label='zebra' is not a label of this project; labels are 'cat', 'dog'",
        ),
        ([box(10, 10, 0, 20)], "value[0].width=0 must be > 0.0"),
        ([box(-1, 10, 5, 5)], "value[0].x=-1 must be >= 0.0"),
        (
            [box(1, 1, 5, 5), box(1, 1, 5, 5)],
            "value[1]={'x': 1.0, 'y': 1.0, 'width': 5.0, 'height': 5.0, 'label': 'cat'} "
            "is the same box as value[0]; remove one",
        ),
        (["cat"], "value[0]='cat' must be an object (a dict)"),
    ],
)
def test_invalid_boxes_are_refused_with_a_message_naming_the_box_and_rule(
    image: bytes, boxes: list[Any], message: str
) -> None:
    with pytest.raises(WidgetTraitError) as info:
        BBox(image, labels=LABELS, value=boxes)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValidationError)
    assert isinstance(info.value, traitlets.TraitError)


def test_suggestions_are_checked_by_the_same_rules(image: bytes) -> None:
    with pytest.raises(WidgetTraitError) as info:
        BBox(image, labels=LABELS, suggestions=[box(0, 0, 5, 5, "cat", score=1.5)])
    assert str(info.value) == "suggestions[0].score=1.5 must be <= 1.0"


def test_at_least_one_label_is_needed(image: bytes) -> None:
    with pytest.raises(WidgetTraitError, match=r"^labels=\[\] must name at least one label"):
        BBox(image, labels=[])


def test_removing_a_label_that_boxes_use_is_refused(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(0, 0, 5, 5, "dog")])
    with pytest.raises(WidgetTraitError, match=r"^value\[0\]\.label='dog' is not a label"):
        w.labels = ["cat"]
    assert [label["name"] for label in w.labels] == LABELS


def test_boxes_are_stored_as_given_in_order_as_floats(image: bytes) -> None:
    w = BBox(
        image,
        labels=LabelSchema.from_names(LABELS),
        value=[box(50, 5, 10, 10, "dog"), Box(x=1, y=2, width=3, height=4, label="cat", score=0.5)],
    )
    assert w.value == [stored(50, 5, 10, 10, "dog"), stored(1, 2, 3, 4, "cat", score=0.5)]
    assert w.labels[0] == {"name": "cat", "color": "#aec7e8", "hotkey": "1", "description": ""}


def test_payload_is_the_validated_boxes_payload(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(50, 5, 10, 10, "dog"), box(1, 2, 3, 4)])
    payload = w.payload
    assert isinstance(payload, BoxesPayload)
    assert [b.label for b in payload.boxes] == ["cat", "dog"]  # stored sorted


def test_repr_does_not_print_the_image(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(0, 0, 5, 5)])
    assert repr(w) == "BBox(image='bytes' (200x100), boxes=1, suggestions=0, labels=['cat', 'dog'])"


# --- patches from the page --------------------------------------------------------------------


@pytest.fixture
def widget(image: bytes) -> BBox:
    return BBox(
        image,
        labels=LABELS,
        value=[box(10, 10, 20, 20), box(100, 50, 30, 30, "dog")],
        suggestions=[box(60, 60, 10, 10, "dog", score=0.9), box(5, 70, 10, 10, score=0.3)],
    )


def test_add_appends_the_box_and_answers_ok(widget: BBox) -> None:
    replies = Replies(widget)
    patch(widget, {"op": "add", "box": box(0, 0, 200, 100, "dog")})
    assert widget.value[-1] == stored(0, 0, 200, 100, "dog")
    assert replies.sent == [{"uuid": "u1", "ok": True}]
    assert widget.error == ""


def test_a_patch_and_its_mark_reach_the_page_in_one_state_message(widget: BBox) -> None:
    # The page waits for last_patch: it must come with the change, not before it.
    replies = Replies(widget)
    patch(widget, {"op": "accept", "index": 0}, uuid="u7")
    assert widget.last_patch == "u7"
    assert replies.states[0] == {"value", "suggestions", "last_patch"}
    assert replies.sent == [{"uuid": "u7", "ok": True}]


def test_a_refused_patch_still_sends_its_mark_before_the_answer(widget: BBox) -> None:
    replies = Replies(widget)
    patch(widget, {"op": "remove", "index": 9}, uuid="u8")
    assert widget.last_patch == "u8"
    assert {"last_patch"} in replies.states
    assert "value" not in set().union(*replies.states)
    assert replies.sent[-1]["uuid"] == "u8"


def test_move_resize_relabel_and_remove(widget: BBox) -> None:
    Replies(widget)
    patch(widget, {"op": "move", "index": 0, "x": 12, "y": 14})
    patch(
        widget, {"op": "resize", "index": 1, "box": {"x": 90, "y": 40, "width": 50, "height": 60}}
    )
    patch(widget, {"op": "relabel", "index": 0, "label": "dog"})
    assert widget.value == [stored(12, 14, 20, 20, "dog"), stored(90, 40, 50, 60, "dog")]
    patch(widget, {"op": "remove", "index": 0})
    assert widget.value == [stored(90, 40, 50, 60, "dog")]


def test_accept_and_reject_suggestions(widget: BBox) -> None:
    Replies(widget)
    patch(widget, {"op": "accept", "index": 1})
    assert widget.value[-1] == stored(5, 70, 10, 10, score=0.3)
    assert widget.suggestions == [stored(60, 60, 10, 10, "dog", score=0.9)]
    patch(widget, {"op": "reject", "index": 0})
    assert widget.suggestions == []


def test_accept_all_and_reject_all(widget: BBox) -> None:
    Replies(widget)
    patch(widget, {"op": "accept_all"})
    assert len(widget.value) == 4
    assert widget.suggestions == []
    widget.suggestions = [box(1, 1, 1, 1)]
    patch(widget, {"op": "reject_all"})
    assert widget.suggestions == []
    assert len(widget.value) == 4


def test_replace_sets_both_lists_as_undo_does(widget: BBox) -> None:
    Replies(widget)
    patch(widget, {"op": "replace", "boxes": [box(1, 1, 1, 1)], "suggestions": []})
    assert widget.value == [stored(1, 1, 1, 1)]
    assert widget.suggestions == []


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            {"op": "add", "box": box(190, 0, 20, 10)},
            "value[2].width=20.0 puts the box past the right edge of the image "
            "(x + width = 210, the image is 200 px wide)",
        ),
        (
            {"op": "add", "box": box(0, 0, 10, 10, "zebra")},
            "value[2].label='zebra' is not a label of this project; labels are 'cat', 'dog'",
        ),
        ({"op": "add", "box": box(5, 5, 0, 10)}, "value[2].width=0 must be > 0.0"),
        (
            {"op": "resize", "index": 0, "box": {"x": 10, "y": 10, "width": 20, "height": 0}},
            "value[0].height=0 must be > 0.0",
        ),
        ({"op": "move", "index": 7, "x": 0, "y": 0}, "index=7 is not an index of value (0 to 1)"),
        ({"op": "relabel", "index": True, "label": "dog"}, "index=True is not an index of value"),
        ({"op": "accept", "index": 2}, "index=2 is not an index of suggestions (0 to 1)"),
        ({"op": "explode"}, "op='explode' is not a patch operation; operations are 'add'"),
        (
            {"op": "add", "box": "big"},
            "box='big' must be a box: a dict with x, y, width, height, label",
        ),
    ],
)
def test_a_refused_patch_changes_nothing_and_answers_the_error(
    widget: BBox, message: dict[str, Any], error: str
) -> None:
    replies = Replies(widget)
    before = (list(widget.value), list(widget.suggestions))
    patch(widget, message, uuid="u9")
    assert (widget.value, widget.suggestions) == before
    assert replies.last["uuid"] == "u9"
    assert replies.last["error"].startswith(error)
    assert set(replies.last) == {"uuid", "error"}
    assert widget.error == replies.last["error"]  # shown inside the widget


def test_a_refused_accept_leaves_the_suggestion_in_place(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(1, 1, 5, 5)], suggestions=[box(1, 1, 5, 5)])
    replies = Replies(w)
    patch(w, {"op": "accept", "index": 0})
    assert replies.last["error"] == (
        # The banner lists the box's fields, not a Python dict.
        "value[1] (x 1.0, y 1.0, width 5.0, height 5.0, label cat) "
        "is the same box as value[0]; remove one"
    )
    assert len(w.suggestions) == 1
    assert len(w.value) == 1


def test_the_next_good_patch_clears_the_error(widget: BBox) -> None:
    replies = Replies(widget)
    patch(widget, {"op": "remove", "index": 9})
    assert widget.error != ""
    patch(widget, {"op": "remove", "index": 0}, uuid="u2")
    assert widget.error == ""
    assert replies.last == {"uuid": "u2", "ok": True}


def test_apply_patch_does_not_change_its_inputs() -> None:
    value = [box(0, 0, 1, 1)]
    suggestions = [box(2, 2, 1, 1)]
    apply_patch(value, suggestions, {"op": "accept_all"})
    apply_patch(value, suggestions, {"op": "move", "index": 0, "x": 5, "y": 5})
    assert value == [box(0, 0, 1, 1)]
    assert suggestions == [box(2, 2, 1, 1)]


# --- submit and skip --------------------------------------------------------------------------


def test_submit_and_skip_nonces_call_their_callbacks(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(0, 0, 5, 5)])
    submitted: list[BoxesPayload] = []
    skipped: list[int] = []
    w.on_submit(lambda widget: submitted.append(widget.payload))
    w.on_skip(lambda widget: skipped.append(widget.skip_count))
    w.submit_count += 1  # what the page's Ctrl+Enter or Submit button does
    w.skip_count += 1
    w.skip_count += 1
    assert [len(p.boxes) for p in submitted] == [1]
    assert skipped == [1, 2]


def test_history_limit_is_synced(image: bytes) -> None:
    assert BBox(image, labels=LABELS, history_limit=7).history_limit == 7


# --- read-only view with disputed boxes (adjudication) ----------------------------------------


def test_an_editor_is_the_default_with_nothing_disputed(image: bytes) -> None:
    w = BBox(image, labels=LABELS)
    assert w.read_only is False
    assert w.disputed == []
    assert {"read_only", "disputed"} <= set(w.keys)  # synced to the page


def test_read_only_and_disputed_are_constructor_keywords(image: bytes) -> None:
    w = BBox(
        image,
        labels=LABELS,
        value=[box(10, 10, 20, 20), box(100, 50, 30, 30, "dog")],
        read_only=True,
        disputed=(1,),
    )
    assert w.read_only is True
    assert w.disputed == [1]


def test_disputed_takes_numpy_like_integers_as_plain_ints(image: bytes) -> None:
    np = pytest.importorskip("numpy")
    w = BBox(image, labels=LABELS, value=[box(10, 10, 20, 20)], disputed=np.array([0]))
    assert w.disputed == [0]
    assert type(w.disputed[0]) is int  # JSON for the page


@pytest.mark.parametrize(
    ("disputed", "message"),
    [
        (
            [2],
            "disputed[0]=2 is not an index of value (0 to 1); to change value and disputed "
            "together, set both inside `with widget.hold_trait_notifications():`",
        ),
        ([-1], "disputed[0]=-1 is not an index of value (0 to 1)"),
        ([0, "1"], "disputed[1]='1' must be an int, an index of a box of value (0 to 1)"),
        ([1.0], "disputed[0]=1.0 must be an int, an index of a box of value (0 to 1)"),
        ([True], "disputed[0]=True must be an int, an index of a box of value (0 to 1)"),
        (1, "disputed=1 must be a list of indexes into value, e.g. [0, 2]"),
        ("01", "disputed='01' must be a list of indexes into value, e.g. [0, 2]"),
    ],
)
def test_a_bad_disputed_index_is_refused_naming_it_and_the_rule(
    image: bytes, disputed: Any, message: str
) -> None:
    with pytest.raises(WidgetTraitError) as info:
        BBox(
            image, labels=LABELS, value=[box(10, 10, 20, 20), box(50, 50, 5, 5)], disputed=disputed
        )
    assert str(info.value).startswith(message)
    assert info.value.field == message.split("=", 1)[0]


def test_a_disputed_index_needs_a_box_even_with_none(image: bytes) -> None:
    with pytest.raises(
        WidgetTraitError, match=r"^disputed\[0\]=0 is not an index of value \(value is empty\)"
    ):
        BBox(image, labels=LABELS, disputed=[0])


def test_setting_disputed_later_is_checked_too(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(10, 10, 20, 20)])
    with pytest.raises(WidgetTraitError, match=r"^disputed\[0\]=3 is not an index"):
        w.disputed = [3]
    assert w.disputed == []


def test_fewer_boxes_from_python_must_come_with_their_disputed_indexes(image: bytes) -> None:
    w = BBox(image, labels=LABELS, value=[box(10, 10, 20, 20), box(50, 50, 5, 5)], disputed=[1])
    with pytest.raises(
        WidgetTraitError, match=r"^disputed\[0\]=1 is not an index of value \(0 to 0\)"
    ):
        w.value = [box(0, 0, 5, 5)]
    assert len(w.value) == 2  # refused as a whole
    with w.hold_trait_notifications():  # both together: how a view is refilled
        w.value = [box(0, 0, 5, 5)]
        w.disputed = [0]
    assert (w.value, w.disputed) == ([stored(0, 0, 5, 5)], [0])


def test_a_read_only_view_is_still_filled_from_python(image: bytes) -> None:
    w = BBox(image, labels=LABELS, read_only=True)
    with w.hold_trait_notifications():
        w.value = [box(10, 10, 20, 20), box(100, 50, 30, 30, "dog")]
        w.disputed = [0]
    assert w.value == [stored(10, 10, 20, 20), stored(100, 50, 30, 30, "dog")]
    assert w.payload.boxes[1].label == "dog"


@pytest.mark.parametrize(
    "message",
    [
        {"op": "add", "box": box(0, 0, 5, 5)},
        {"op": "remove", "index": 0},
        {"op": "move", "index": 0, "x": 1, "y": 1},
        {"op": "relabel", "index": 0, "label": "dog"},
        {"op": "accept_all"},
        {"op": "replace", "boxes": [], "suggestions": []},
    ],
)
def test_a_read_only_view_refuses_edits_from_the_page(
    widget: BBox, message: dict[str, Any]
) -> None:
    widget.read_only = True
    replies = Replies(widget)
    before = (list(widget.value), list(widget.suggestions))
    patch(widget, message, uuid="r1")
    assert (widget.value, widget.suggestions) == before
    assert replies.last == {
        "uuid": "r1",
        "error": f"read_only=True is set, so the page cannot change the boxes ({message['op']!r}); "
        "set it to False to edit",
    }
    assert widget.last_patch == "r1"


def test_a_read_only_view_still_takes_a_url_images_size_from_the_page() -> None:
    w = BBox("https://example.org/a/cat.png", labels=LABELS, read_only=True)
    replies = Replies(w)
    patch(w, {"op": "size", "width": 640, "height": 480})
    assert w.image_size == (640, 480)
    assert replies.last == {"uuid": "u1", "ok": True}


def test_an_editor_keeps_disputed_indexes_on_their_boxes_across_a_remove(image: bytes) -> None:
    value = [box(0, 0, 5, 5), box(10, 10, 5, 5), box(20, 20, 5, 5), box(30, 30, 5, 5)]
    w = BBox(image, labels=LABELS, value=value, disputed=[1, 3])
    Replies(w)
    patch(w, {"op": "remove", "index": 1})
    assert w.disputed == [2]  # the box at 30,30, now third
    assert w.value[2] == stored(30, 30, 5, 5)
    patch(w, {"op": "add", "box": box(40, 40, 5, 5)})
    assert w.disputed == [2]
    # Undo gives back a shorter list: indexes past its end go.
    patch(w, {"op": "replace", "boxes": value[:2], "suggestions": []})
    assert w.disputed == []


def test_disputed_after_each_kind_of_patch() -> None:
    assert disputed_after([0, 2, 3], {"op": "remove", "index": 2}, 3) == [0, 2]
    assert disputed_after([0, 2], {"op": "remove", "index": 0}, 2) == [1]
    assert disputed_after([0, 2], {"op": "add", "box": {}}, 4) == [0, 2]
    assert disputed_after([0, 2], {"op": "replace"}, 2) == [0]
    assert disputed_after([], {"op": "remove", "index": 0}, 0) == []


def test_check_disputed_gives_plain_ints_in_the_order_given() -> None:
    assert check_disputed([2, 0], 3) == [2, 0]
    assert check_disputed((1,), 2) == [1]


def test_box_suggestions_are_accepted_from_python() -> None:
    w = BBox(png_bytes(40, 30), labels=["cat"])
    box = {"x": 1.0, "y": 2.0, "width": 5.0, "height": 5.0, "label": "cat", "score": 0.8}
    w.suggestions = [box]
    w.accept_suggestions()
    assert [(b["x"], b["label"]) for b in w.value] == [(1.0, "cat")]
    assert w.suggestions == [] and w.error == ""
