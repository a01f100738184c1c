"""What the object-detection formats (COCO, YOLO, Pascal VOC) share: the boxes question, an
image's source, its local file and size, unique file names, and copying images in.

An image's source is the task's value under the boxes question's ``field`` (``image`` in
``layouts/bbox.yaml``): a path, a ``file:`` URL, or an ``http(s)`` URL. Its size is the task's
``width`` and ``height`` when both are positive whole numbers, else read from a local file's
header; a remote image without them has no known size.

>>> source_name("https://example.org/pics/cat.jpg?x=1")
'cat.jpg'
>>> local_path("https://example.org/cat.jpg") is None
True
"""

from __future__ import annotations

import math
import os
import re
import shutil
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from annolab.errors import DataError, ValidationError
from annolab.io.conll import answer_to
from annolab.io.records import Context
from annolab.schema.images import image_info

__all__ = [
    "IMAGE_MODES",
    "IMAGE_SUFFIXES",
    "FileNames",
    "LabelIndex",
    "boxes_answer",
    "boxes_question",
    "header_size",
    "image_mode",
    "image_size",
    "local_path",
    "place_image",
    "safe_name",
    "source_name",
    "task_boxes",
]

IMAGE_MODES = ("copy", "link", "none")
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Enough of any image file for its header (PNG, GIF, WebP, and JPEG with modest metadata).
_HEADER_BYTES = 1 << 16


def boxes_question(context: Context) -> tuple[str, str, list[str]]:
    """The name, image field and label names of the boxes question a detection format writes
    or reads: the one the ``question`` option names, else the layout's first boxes question.
    The labels are the question's own when it has them, else the project's label schema."""
    layout = context.layout
    name = context.options.get("question")
    if name is not None:
        question = layout.question(str(name))
        if question.kind != "boxes":
            rule = f"is a {question.kind} question; this format holds a boxes question"
            raise ValidationError("question", name, rule)
    else:
        found = [q for q in layout.questions if q.kind == "boxes"]
        if not found:
            msg = f"layout {layout.name!r} asks no boxes question; COCO, YOLO and VOC hold boxes"
            raise DataError(msg)
        question = found[0]
    own = getattr(question, "labels", None)
    labels = [label.name for label in own] if own else list(context.labels.names)
    return question.name, str(getattr(question, "field", None) or "image"), labels


def task_boxes(payload: Mapping[str, Any] | None, name: str) -> list[Mapping[str, Any]]:
    """The boxes answering question ``name`` in a stored payload; none without an answer."""
    answer = answer_to(payload, name, "boxes")
    return list(answer.get("boxes") or []) if answer is not None else []


def boxes_answer(boxes: Sequence[Mapping[str, Any]], name: str, forms: bool) -> dict[str, Any]:
    """A read answer as a payload: a form's answer to ``name`` when the layout asks several
    questions, else the boxes payload itself."""
    answer: dict[str, Any] = {"kind": "boxes", "boxes": [dict(b) for b in boxes]}
    return {"kind": "form", "answers": {name: answer}} if forms else answer


def local_path(source: object) -> Path | None:
    """The local file an image source names (a path or a ``file:`` URL); None for a remote
    URL or anything that is not a string."""
    if not isinstance(source, str) or not source:
        return None
    parts = urllib.parse.urlsplit(source)
    if parts.scheme == "file":
        return Path(urllib.parse.unquote(parts.path))
    if parts.scheme in ("http", "https", "s3", "gs", "data"):
        return None
    return Path(source)


def source_name(source: object) -> str:
    """The file name an image source ends with (a URL's path's last part)."""
    text = str(source)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme in ("http", "https", "s3", "gs", "file"):
        text = urllib.parse.unquote(parts.path)
    return text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or "image"


def header_size(path: Path) -> tuple[int, int] | None:
    """An image file's pixel size read from its header; None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER_BYTES)
    except OSError:
        return None
    info = image_info(head)
    return (info.width, info.height) if info else None


def _whole(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value <= 0 or value != int(value):
        return None
    return int(value)


def image_size(data: Mapping[str, Any], field: str) -> tuple[int, int] | None:
    """The task's image size: its ``width`` and ``height`` fields, else the local file's
    header; None when neither gives it."""
    width, height = _whole(data.get("width")), _whole(data.get("height"))
    if width and height:
        return width, height
    path = local_path(data.get(field))
    return header_size(path) if path is not None else None


def image_mode(context: Context) -> str:
    """The ``images`` option: ``copy`` (the default), ``link`` (a symbolic link) or ``none``."""
    mode = str(context.options.get("images", "copy")).lower()
    if mode not in IMAGE_MODES:
        rule = f"use {', '.join(IMAGE_MODES)}"
        raise ValidationError("images", context.options.get("images"), rule)
    return mode


def place_image(source: object, target: Path, mode: str) -> str | None:
    """Copy or link a task's image to ``target``; the reason when it was not (a remote image,
    a missing file). Nothing is done, and nothing said, when ``mode`` is ``none``."""
    if mode == "none":
        return None
    path = local_path(source)
    if path is None:
        return f"image {str(source)!r} is not a local file; not copied (its boxes are written)"
    if not path.is_file():
        return f"image {str(path)!r} was not found; not copied (its boxes are written)"
    if mode == "link":
        target.symlink_to(path.resolve())
    else:
        shutil.copyfile(path, target)
    return None


_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_name(text: str) -> str:
    """``text`` as a file name part: characters other than letters, digits, ``._-`` become
    ``_`` (a task id may hold a slash)."""
    return _UNSAFE.sub("_", text).strip(".") or "_"


class FileNames:
    """Unique file names in an exported folder: a name whose stem another task's image already
    took is written with the task id in front, and that is noted. Keeps one entry per task."""

    def __init__(self) -> None:
        self._stems: dict[str, str] = {}  # stem -> task
        self._tasks: dict[str, str] = {}  # task -> name

    def of(self, task: str) -> str | None:
        """The name given to ``task``'s image, if it has one yet."""
        return self._tasks.get(task)

    def claim(self, task: str, name: str) -> tuple[str, str | None]:
        """A unique file name for ``task``'s image named ``name``, and a note when it changed."""
        name = safe_name(name)
        stem, suffix = os.path.splitext(name)
        note = None
        if stem in self._stems:
            other = self._stems[stem]
            stem = f"{safe_name(task)}_{stem}"
            n = 1
            while stem in self._stems:
                n += 1
                stem = f"{safe_name(task)}_{n}_{os.path.splitext(name)[0]}"
            note = f"image name {name!r} is taken by task {other!r}; written as {stem + suffix!r}"
        self._stems[stem] = task
        self._tasks[task] = stem + suffix
        return stem + suffix, note


class LabelIndex:
    """Class indices of the label names, in the label schema's order; a label outside the
    schema is appended (and noted by the caller when ``index`` says it is new)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._index = {name: i for i, name in enumerate(self.names)}

    def index(self, label: str) -> tuple[int, bool]:
        """The label's index (from 0) and whether it was added now."""
        if label in self._index:
            return self._index[label], False
        self._index[label] = len(self.names)
        self.names.append(label)
        return self._index[label], True
