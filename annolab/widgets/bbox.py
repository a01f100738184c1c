"""BBox: draw, move, resize and label boxes on an image, in the image's natural pixels.

Front end: ``widgets/src/bbox/`` built into ``annolab/static/bbox.js``. The image travels to the
browser as a binary buffer (a ``Bytes`` traitlet), never as base64 inside JSON. The page sends
each edit as a small patch (a custom message with a ``uuid``); Python applies it to ``value``,
validates the result with ``annolab.schema.validate_payload`` and answers ``{"uuid", "ok"}`` or
``{"uuid", "error"}``, so ``value`` stays the one source of truth.
"""

from __future__ import annotations

import numbers
import pathlib
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import traitlets

from annolab.errors import ValidationError
from annolab.schema import Box, BoxesPayload, LabelSchema, validate_payload
from annolab.schema.images import SUPPORTED_FORMATS, image_info
from annolab.widgets._base import (
    AnnotationWidget,
    WidgetTraitError,
    front_end,
    label_dicts,
    label_schema_of,
)

__all__ = ["BBox"]

ImageSource = bytes | bytearray | memoryview | pathlib.Path | str
BoxLike = Mapping[str, Any] | Box

_URL_SCHEMES = ("http://", "https://")
_SAME_BOX = re.compile(r"^is the same box as boxes\[")
_GEOMETRY = ("x", "y", "width", "height")


@dataclass(frozen=True)
class _Image:
    data: bytes
    url: str
    name: str
    mime: str
    width: int
    height: int


class BBox(AnnotationWidget):
    """Bounding boxes on one image: draw, move, resize, relabel, delete; zoom and pan.

    ``image`` is the encoded image as bytes, a path to an image file (PNG, JPEG, GIF, WebP or
    BMP), or an http(s) URL the browser loads itself. Boxes are dicts (or
    ``annolab.schema.Box``) ``{"x", "y", "width", "height", "label", "score"?}`` in the
    image's natural pixels, checked against its size and the labels. ``suggestions`` are
    pre-annotations (with a ``score``), drawn dashed until accepted or rejected.

    In the page: drag on the image to draw a box with the current label; drag a box to move
    it and its handles to resize it; a label's hotkey relabels the selected box; Delete removes
    it; arrows nudge it by one pixel (Shift: ten); Tab walks the boxes; Ctrl/Cmd + wheel (or
    + / - / 0, or the toolbar) zooms about the pointer, while the wheel alone scrolls the
    notebook; Space+drag or the middle button pans; Enter accepts the selected suggestion;
    Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+Enter submits and Escape skips; ? lists the keys.
    The image fits the visible height and is never enlarged past its natural size.

    ``read_only=True`` makes it a view, as adjudication wants: the page can zoom, pan and
    select to look, but not draw, move, resize, relabel, delete, undo or accept, and shows no
    Submit, Skip or Save draft. ``value`` set from Python is still drawn. ``disputed`` holds
    indexes into ``value`` of the boxes that are not in every annotator's answer: the page
    outlines them (thick, dashed, amber) and flags them with a sign.

    Example:
        >>> from annolab.widgets import BBox
        >>> png = (b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR"
        ...        b"\\x00\\x00\\x02\\x80\\x00\\x00\\x01\\xe0\\x08\\x02\\x00\\x00\\x00")
        >>> w = BBox(png, labels=["cat", "dog"],
        ...          value=[{"x": 10, "y": 20, "width": 100, "height": 80, "label": "cat"}])
        >>> w.value
        [{'x': 10.0, 'y': 20.0, 'width': 100.0, 'height': 80.0, 'label': 'cat'}]
        >>> w.image_size
        (640, 480)
        >>> w.payload.boxes[0].label
        'cat'
        >>> view = BBox(png, labels=["cat"], read_only=True, disputed=[0],
        ...             value=[{"x": 10, "y": 20, "width": 100, "height": 80, "label": "cat"}])
        >>> view.disputed
        [0]
    """

    _esm = front_end("bbox", "js")
    _css = front_end("bbox", "css")

    # Sent as a binary buffer: ipywidgets moves bytes traitlets out of the JSON state.
    image = traitlets.Bytes(b"").tag(sync=True)
    image_mime = traitlets.Unicode("").tag(sync=True)
    image_url = traitlets.Unicode("").tag(sync=True)
    image_name = traitlets.Unicode("").tag(sync=True)
    # 0 while unknown: a URL image's size comes from the browser once it has loaded it.
    image_width = traitlets.Int(0).tag(sync=True)
    image_height = traitlets.Int(0).tag(sync=True)
    value: traitlets.List[Any] = traitlets.List().tag(sync=True)
    suggestions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    # The uuid of the last patch handled (applied or refused), synced in the same message as
    # its changes. The page's JupyterLab widget manager applies state updates asynchronously
    # but hands over the custom-message answer at once, so the answer can come before the
    # state it answers for; the page waits for this mark instead.
    last_patch = traitlets.Unicode("").tag(sync=True)
    # A view, not an editor: the page only zooms, pans and selects (and Python refuses edits).
    read_only = traitlets.Bool(False).tag(sync=True)
    # Indexes into ``value`` of the boxes not in every answer (adjudication): outlined and
    # flagged in the page. A list of anything on the way in, so the validator, not the element
    # trait, says what is wrong.
    disputed: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        image: ImageSource,
        *,
        labels: LabelSchema | Iterable[str | Mapping[str, Any]],
        value: Iterable[BoxLike] | None = None,
        suggestions: Iterable[BoxLike] | None = None,
        history_limit: int = 100,
        read_only: bool = False,
        disputed: Iterable[int] = (),
        **kwargs: Any,
    ) -> None:
        loaded = _load_image(image)
        # A LabelSchema is not a list, which the traitlet wants: turn it into dicts here. A
        # lone string stays a string, so the label validator can say "write ['cat']".
        raw = labels if isinstance(labels, (LabelSchema, str)) else list(labels)
        # All traits in one call: HasTraits sets them inside hold_trait_notifications(), so the
        # boxes are validated once the labels and the image size are in place.
        super().__init__(
            labels=label_dicts(label_schema_of(raw)),
            image=loaded.data,
            image_mime=loaded.mime,
            image_url=loaded.url,
            image_name=loaded.name,
            image_width=loaded.width,
            image_height=loaded.height,
            value=list(value or ()),
            suggestions=list(suggestions or ()),
            history_limit=history_limit,
            read_only=read_only,
            disputed=_index_list(disputed),
            **kwargs,
        )

    # --- state ------------------------------------------------------------------------------

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` in natural pixels; None for a URL image not yet shown."""
        if self.image_width > 0 and self.image_height > 0:
            return (self.image_width, self.image_height)
        return None

    @property
    def payload(self) -> BoxesPayload:
        """The boxes as the stored payload, checked against the labels and the image size."""
        payload = validate_payload(
            {"kind": "boxes", "boxes": self.value},
            labels=self.label_schema,
            image_size=self.image_size,
        )
        return cast(BoxesPayload, payload)

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        boxes = self._check_boxes("value", proposal["value"])
        # Fewer boxes must not leave a disputed index pointing past them.
        check_disputed(self.disputed, len(boxes))
        return boxes

    @traitlets.validate("disputed")
    def _validate_disputed(self, proposal: traitlets.Bunch) -> list[int]:
        return check_disputed(proposal["value"], len(self.value))

    @traitlets.validate("suggestions")
    def _validate_suggestions(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        return self._check_boxes("suggestions", proposal["value"])

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        # New labels must still cover every box.
        self._check_boxes("value", self.value, schema)
        self._check_boxes("suggestions", self.suggestions, schema)

    def _check_boxes(
        self, field: str, boxes: Sequence[object], schema: LabelSchema | None = None
    ) -> list[dict[str, Any]]:
        """Boxes as plain dicts, in the order given, after the one validator accepted them."""
        items = [box.to_dict() if isinstance(box, Box) else box for box in boxes]
        try:
            validate_payload(
                {"kind": "boxes", "boxes": items},
                labels=schema if schema is not None else self.label_schema,
                image_size=self.image_size,
            )
        except ValidationError as exc:
            # The validator names a payload's "boxes"; here they are this trait's.
            where = (
                field + exc.field.removeprefix("boxes") if exc.field.startswith("boxes") else field
            )
            rule = _SAME_BOX.sub(f"is the same box as {field}[", exc.rule)
            raise WidgetTraitError(where, exc.value, rule) from exc
        # Valid now, so this cannot fail; it gives the stored form (floats, no unset score).
        return [Box.model_validate(item).to_dict() for item in items]

    # --- patches from the page --------------------------------------------------------------

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        uuid = patch.get("uuid")
        mark = uuid if isinstance(uuid, str) else ""
        try:
            # One state message for the change and its mark; both change or neither (a refused
            # value rolls the suggestions back too).
            with self.hold_sync(), self.hold_trait_notifications():
                notice = self._apply(patch)
                self.last_patch = mark
        except Exception:
            self.last_patch = mark  # refused: nothing changed, but the page waits for the mark
            raise
        return notice

    def _apply(self, patch: Mapping[str, Any]) -> str | None:
        op = patch.get("op")
        if op == "size":
            return self._set_size(patch)
        if self.read_only:
            # The page does not send edits in this mode; a view left over from before, or a
            # message from elsewhere, must not change what the adjudicator is shown either.
            rule = f"is set, so the page cannot change the boxes ({op!r}); set it to False to edit"
            raise WidgetTraitError("read_only", True, rule)
        value, suggestions = apply_patch(self.value, self.suggestions, patch)
        self.disputed = disputed_after(self.disputed, patch, len(value))
        self.value, self.suggestions = value, suggestions
        return None

    def _set_size(self, patch: Mapping[str, Any]) -> str | None:
        """The browser's natural size of a URL image; a size read from the bytes wins.

        Boxes given before the size was known are checked now. The size is kept either way
        (it is a fact about the image), and what is wrong with the boxes is the notice.
        """
        if self.image_size is not None:
            return None
        self.image_width = _positive_int("width", patch.get("width"))
        self.image_height = _positive_int("height", patch.get("height"))
        try:
            self._check_boxes("value", self.value)
            self._check_boxes("suggestions", self.suggestions)
        except ValidationError as exc:
            return str(exc)
        return None

    def __repr__(self) -> str:
        # The default would print the image's bytes.
        size = self.image_size
        shown = f"{size[0]}x{size[1]}" if size else "size unknown"
        source = self.image_name or self.image_url or "bytes"
        names = [label["name"] for label in self.labels]
        return (
            f"BBox(image={source!r} ({shown}), boxes={len(self.value)}, "
            f"suggestions={len(self.suggestions)}, labels={names})"
        )


# --- patches: pure functions of the state -----------------------------------------------------

PATCH_OPS = (
    "add",
    "move",
    "resize",
    "remove",
    "relabel",
    "accept",
    "reject",
    "accept_all",
    "reject_all",
    "replace",
    "size",
)


def apply_patch(
    value: Sequence[Mapping[str, Any]],
    suggestions: Sequence[Mapping[str, Any]],
    patch: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(value, suggestions)`` after one patch from the page; checks the patch's shape only.

    The caller assigns the result to the traitlets, whose validators check the boxes.

    >>> apply_patch([{"x": 0, "label": "a"}], [], {"op": "relabel", "index": 0, "label": "b"})
    ([{'x': 0, 'label': 'b'}], [])
    """
    boxes = [dict(box) for box in value]
    pending = [dict(box) for box in suggestions]
    op = patch.get("op")
    if op == "add":
        boxes.append(_mapping("box", patch.get("box")))
    elif op == "move":
        index = _index(patch, boxes, "value")
        boxes[index] = {**boxes[index], "x": patch.get("x"), "y": patch.get("y")}
    elif op == "resize":
        index = _index(patch, boxes, "value")
        geometry = _mapping("box", patch.get("box"))
        boxes[index] = {**boxes[index], **{key: geometry.get(key) for key in _GEOMETRY}}
    elif op == "remove":
        del boxes[_index(patch, boxes, "value")]
    elif op == "relabel":
        index = _index(patch, boxes, "value")
        boxes[index] = {**boxes[index], "label": patch.get("label")}
    elif op == "accept":
        boxes.append(pending.pop(_index(patch, pending, "suggestions")))
    elif op == "reject":
        del pending[_index(patch, pending, "suggestions")]
    elif op == "accept_all":
        boxes, pending = boxes + pending, []
    elif op == "reject_all":
        pending = []
    elif op == "replace":
        boxes = [_mapping("boxes[]", b) for b in _list("boxes", patch.get("boxes"))]
        more = _list("suggestions", patch.get("suggestions"))
        pending = [_mapping("suggestions[]", b) for b in more]
    else:
        known = ", ".join(repr(name) for name in PATCH_OPS)
        raise WidgetTraitError("op", op, f"is not a patch operation; operations are {known}")
    return boxes, pending


def check_disputed(indexes: object, count: int) -> list[int]:
    """``disputed`` as a list of ints, each an index of ``count`` boxes of ``value``.

    >>> check_disputed([2, 0], 3)
    [2, 0]
    """
    if not isinstance(indexes, (list, tuple)):
        raise WidgetTraitError("disputed", indexes, "must be a list of indexes into value")
    where = f"0 to {count - 1}" if count else "value is empty"
    checked: list[int] = []
    for i, index in enumerate(indexes):
        # numbers.Integral admits numpy and polars integers; bool is an int but not an index.
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            rule = f"must be an int, an index of a box of value ({where})"
            raise WidgetTraitError(f"disputed[{i}]", index, rule)
        number = int(index)
        if not 0 <= number < count:
            rule = (
                f"is not an index of value ({where}); to change value and disputed together, "
                "set both inside `with widget.hold_trait_notifications():`"
            )
            raise WidgetTraitError(f"disputed[{i}]", index, rule)
        checked.append(number)
    return checked


def disputed_after(disputed: Sequence[int], patch: Mapping[str, Any], count: int) -> list[int]:
    """The disputed indexes once ``patch`` left ``count`` boxes, still on the same boxes.

    Boxes are only appended, except by "remove" (the later ones shift down) and "replace"
    (undo and redo, which give back an earlier list: the indexes still in it are kept).

    >>> disputed_after([0, 2, 3], {"op": "remove", "index": 2}, 3)
    [0, 2]
    """
    if patch.get("op") == "remove":
        removed = patch.get("index")
        return [
            i - 1 if isinstance(removed, int) and i > removed else i
            for i in disputed
            if i != removed
        ]
    return [i for i in disputed if i < count]


def _index_list(indexes: object) -> list[object]:
    """A constructor's ``disputed`` as a list (a tuple, a range, a numpy array...).

    A lone string is refused rather than read as a list of characters.
    """
    if isinstance(indexes, (str, bytes)) or not isinstance(indexes, Iterable):
        rule = "must be a list of indexes into value, e.g. [0, 2]"
        raise WidgetTraitError("disputed", indexes, rule)
    return list(indexes)


def _index(patch: Mapping[str, Any], items: Sequence[object], field: str) -> int:
    index = patch.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        where = f"0 to {len(items) - 1}" if items else "it is empty"
        raise WidgetTraitError("index", index, f"is not an index of {field} ({where})")
    return index


def _mapping(field: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        rule = "must be a box: a dict with x, y, width, height, label"
        raise WidgetTraitError(field, value, rule)
    return dict(value)


def _list(field: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise WidgetTraitError(field, value, "must be a list of boxes")
    return value


def _positive_int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise WidgetTraitError(f"image {field}", value, "must be a whole number of pixels > 0")
    return int(value)


# --- the image --------------------------------------------------------------------------------


def _load_image(image: object) -> _Image:
    """Bytes, a file path or an http(s) URL, as what the traits need."""
    if isinstance(image, str) and image.startswith(_URL_SCHEMES):
        url_path = urllib.parse.urlsplit(image).path
        name = urllib.parse.unquote(url_path.rsplit("/", 1)[-1])
        return _Image(data=b"", url=image, name=name, mime="", width=0, height=0)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(image), name="")
    if isinstance(image, (str, pathlib.Path)):
        path = pathlib.Path(image).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            rule = (
                f"cannot be read ({exc.strerror or exc}); "
                "give an image file, its bytes, or an http(s) URL"
            )
            raise WidgetTraitError("image", str(image), rule) from exc
        return _from_bytes(data, name=path.name)
    rule = "must be the image's bytes, a path to an image file, or an http(s) URL"
    raise WidgetTraitError("image", image, f"{rule}, not {type(image).__name__}")


def _from_bytes(data: bytes, *, name: str) -> _Image:
    info = image_info(data)
    if info is None:
        shown: object = name or data[:16]
        rule = f"is not a {SUPPORTED_FORMATS} image (its header does not say a size)"
        raise WidgetTraitError("image", shown, rule)
    return _Image(
        data=data, url="", name=name, mime=info.mime, width=info.width, height=info.height
    )
