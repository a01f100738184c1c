"""What a Classify widget shows: a text, an image (bytes, a file, a URL) or a record.

The kind is guessed from the item (``Item.of``) unless the caller names it: bytes and
``pathlib.Path`` are images; a string is an image when it is an http(s) URL or the path of an
existing image file, else text; a mapping is a record.
"""

from __future__ import annotations

import json
import pathlib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from annolab.schema.images import SUPPORTED_FORMATS, image_info
from annolab.widgets._base import WidgetTraitError, check_text

__all__ = ["IMAGE_SUFFIXES", "Item", "ItemKind"]

ItemKind = Literal["text", "image", "record"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
_URL_SCHEMES = ("http://", "https://")
# A string longer than this, or with a line break, is text even if a file has that name.
_LONGEST_PATH = 4096


@dataclass(frozen=True)
class Item:
    """An item ready for the traits: one of text, image bytes or URL, or record rows."""

    kind: ItemKind
    text: str = ""
    image: bytes = b""
    image_mime: str = ""
    image_url: str = ""
    name: str = ""
    rows: list[list[str]] = field(default_factory=list)

    @classmethod
    def of(cls, item: object, kind: str | None = None) -> Item:
        """The item as shown; ``kind`` overrides the guess (e.g. a URL to show as text).

        >>> Item.of("Great phone, awful battery.").kind
        'text'
        >>> Item.of("https://example.org/cat.jpg").name
        'cat.jpg'
        >>> Item.of({"title": "Dune", "year": 1965}).rows
        [['title', 'Dune'], ['year', '1965']]
        """
        if kind is None:
            kind = _guess(item)
        if kind not in ("text", "image", "record"):
            rule = "must be 'text', 'image' or 'record' (or None to guess from the item)"
            raise WidgetTraitError("kind", kind, rule)
        if kind == "text":
            if not isinstance(item, str):
                raise WidgetTraitError("item", item, "must be a string to show as text")
            check_text(item)
            return cls(kind="text", text=item)
        if kind == "record":
            if not isinstance(item, Mapping):
                raise WidgetTraitError("item", item, "must be a dict to show as a record")
            rows = [[str(key), _as_text(value)] for key, value in item.items()]
            for key, value in rows:
                try:
                    check_text(key + value)
                except WidgetTraitError as exc:
                    raise WidgetTraitError(f"item[{key!r}]", value, exc.rule) from exc
            return cls(kind="record", rows=rows)
        return _image(item)


def _guess(item: object) -> ItemKind:
    if isinstance(item, (bytes, bytearray, memoryview, pathlib.Path)):
        return "image"
    if isinstance(item, Mapping):
        return "record"
    if isinstance(item, str):
        if _is_url(item) or _is_image_file(item):
            return "image"
        return "text"
    rule = (
        "must be a text (str), an image (bytes, a pathlib.Path, a path or an http(s) URL) "
        f"or a record (dict), not {type(item).__name__}"
    )
    raise WidgetTraitError("item", item, rule)


def _is_url(text: str) -> bool:
    return text.startswith(_URL_SCHEMES) and not any(c.isspace() for c in text)


def _is_image_file(text: str) -> bool:
    if len(text) > _LONGEST_PATH or "\n" in text or "\x00" in text:
        return False
    path = pathlib.Path(text).expanduser()
    try:
        return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    except OSError:  # a name too long for the file system: not a file, so text
        return False


def _image(item: object) -> Item:
    if isinstance(item, str) and _is_url(item):
        name = urllib.parse.unquote(urllib.parse.urlsplit(item).path.rsplit("/", 1)[-1])
        return Item(kind="image", image_url=item, name=name)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(item), name="")
    if isinstance(item, (str, pathlib.Path)):
        path = pathlib.Path(item).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            rule = f"cannot be read ({exc.strerror or exc}); give an image file, its bytes or a URL"
            raise WidgetTraitError("item", str(item), rule) from exc
        return _from_bytes(data, name=path.name)
    rule = "must be an image's bytes, a path to an image file, or an http(s) URL"
    raise WidgetTraitError("item", item, f"{rule}, not {type(item).__name__}")


def _from_bytes(data: bytes, *, name: str) -> Item:
    info = image_info(data)
    if info is None:
        shown: object = name or data[:16]
        raise WidgetTraitError("item", shown, f"is not a {SUPPORTED_FORMATS} image")
    return Item(kind="image", image=data, image_mime=info.mime, name=name)


def _as_text(value: object) -> str:
    """A record value as the text shown: strings as they are, the rest as JSON where it can."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # a circular structure: its repr still says what it is
        return repr(value)
