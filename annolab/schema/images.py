"""The natural size of an image, read from its header in pure Python (no Pillow).

Boxes are validated against the image's natural size, so the kernel must know it without a
browser. The formats a browser shows and a camera or a dataset produces are enough: PNG,
JPEG, GIF, WebP and BMP. Only the first bytes are read; nothing is decoded.

>>> import struct
>>> png = b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I4sII", 13, b"IHDR", 640, 480)
>>> image_info(png)
ImageInfo(width=640, height=480, mime='image/png')
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SUPPORTED_FORMATS", "ImageInfo", "image_info"]

SUPPORTED_FORMATS = "PNG, JPEG, GIF, WebP or BMP"

# Start-of-frame markers: every JPEG SOFn except DHT (C4), JPG (C8) and DAC (CC), which share
# the range but carry no frame size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


@dataclass(frozen=True)
class ImageInfo:
    """An image's natural size in pixels and its MIME type."""

    width: int
    height: int
    mime: str


def image_info(data: bytes) -> ImageInfo | None:
    """The size and type of an encoded image, or None when the format is not one we read.

    A JPEG's size is its stored pixel grid: like Pillow, the EXIF orientation is not applied
    (the widget shows the image unrotated too, so boxes and pixels agree).

    >>> image_info(b"GIF89a\\x0a\\x00\\x05\\x00")
    ImageInfo(width=10, height=5, mime='image/gif')
    >>> image_info(b"not an image") is None
    True
    """
    info = _read(data)
    if info is None or info.width <= 0 or info.height <= 0:
        return None
    return info


def _read(data: bytes) -> ImageInfo | None:
    for matches, reader in _FORMATS:
        if matches(data):
            try:
                return reader(data)
            except (struct.error, IndexError):  # a header cut short: not an image we can size
                return None
    return None


def _png(data: bytes) -> ImageInfo:
    width, height = struct.unpack_from(">II", data, 16)
    return ImageInfo(width, height, "image/png")


def _gif(data: bytes) -> ImageInfo:
    width, height = struct.unpack_from("<HH", data, 6)
    return ImageInfo(width, height, "image/gif")


def _bmp(data: bytes) -> ImageInfo:
    width, height = struct.unpack_from("<ii", data, 18)
    # A negative height marks a top-down bitmap; the size is the same.
    return ImageInfo(width, abs(height), "image/bmp")


def _jpeg(data: bytes) -> ImageInfo | None:
    """Walks the JPEG segments up to the first start-of-frame, which holds the size."""
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            return None  # out of step with the segments: a damaged file
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data without a frame header first
            return None
        (length,) = struct.unpack_from(">H", data, offset + 2)
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, offset + 5)
            return ImageInfo(width, height, "image/jpeg")
        offset += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    reader = _WEBP_CHUNKS.get(data[12:16])
    return None if reader is None else reader(data)


def _vp8(data: bytes) -> ImageInfo | None:
    """Lossy: a VP8 key frame, its 14-bit size after the 3-byte start code."""
    if data[23:26] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack_from("<HH", data, 26)
    return ImageInfo(width & 0x3FFF, height & 0x3FFF, "image/webp")


def _vp8l(data: bytes) -> ImageInfo | None:
    """Lossless: 14-bit width-1 and height-1 after a 0x2f signature byte."""
    if data[20] != 0x2F:
        return None
    (bits,) = struct.unpack_from("<I", data, 21)
    return ImageInfo((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "image/webp")


def _vp8x(data: bytes) -> ImageInfo | None:
    """Extended: 24-bit canvas width-1 and height-1."""
    if len(data) < 30:
        return None
    width = int.from_bytes(data[24:27], "little") + 1
    height = int.from_bytes(data[27:30], "little") + 1
    return ImageInfo(width, height, "image/webp")


_WEBP_CHUNKS: dict[bytes, Callable[[bytes], ImageInfo | None]] = {
    b"VP8 ": _vp8,
    b"VP8L": _vp8l,
    b"VP8X": _vp8x,
}

_FORMATS: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], ImageInfo | None]], ...] = (
    (lambda d: d.startswith(b"\x89PNG\r\n\x1a\n") and d[12:16] == b"IHDR", _png),
    (lambda d: d[:6] in (b"GIF87a", b"GIF89a"), _gif),
    (lambda d: d.startswith(b"\xff\xd8"), _jpeg),
    (lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP", _webp),
    (lambda d: d.startswith(b"BM"), _bmp),
)
