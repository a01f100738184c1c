"""Images for vision models: the bytes to send and their natural size, without an image library.

A task's image is a file path, a ``data:`` URL, or (from a frame) raw bytes. The size comes from
the file's own header (the reader the widgets use), so box answers can be checked against it.
"""

from __future__ import annotations

import base64
from pathlib import Path

from annolab.errors import ValidationError
from annolab.schema.images import image_info


def image_bytes(source: object) -> bytes:
    """The bytes of an image given as bytes, a ``data:`` URL or a path to a file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if not isinstance(source, str) or not source:
        raise ValidationError("image", source, "must be a file path, a data: URL or bytes")
    if source.startswith("data:"):
        header, _, data = source.partition(",")
        if ";base64" not in header:
            raise ValidationError("image", source, "is a data: URL that is not base64")
        return base64.b64decode(data)
    if source.startswith(("http://", "https://")):
        rule = "is a web address; download the image and give its path (vision models get bytes)"
        raise ValidationError("image", source, rule)
    path = Path(source).expanduser()
    if not path.is_file():
        raise ValidationError("image", source, "is not a file that exists")
    return path.read_bytes()


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from the image's header (``annolab.schema.images``); None for a
    format it does not read."""
    info = image_info(data)
    return None if info is None else (info.width, info.height)
