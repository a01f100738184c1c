"""Images for vision models: the bytes to send and their natural size, without an image library.

A task's image is a file path, a ``data:`` URL, or (from a frame) raw bytes. The size comes from
the file's own header (PNG, GIF, JPEG, WebP), so box answers can be checked against the image.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

from annolab.errors import ValidationError


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
    """``(width, height)`` from a PNG, GIF, JPEG or WebP header; None for other formats.

    >>> png = b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR"
    >>> image_size(png + bytes([0, 0, 2, 128, 0, 0, 1, 224]))
    (640, 480)
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the markers to a start-of-frame (SOF0..SOF15 but DHT, JPG and DAC), which holds the size.
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None
