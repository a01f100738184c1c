"""Pascal VOC: a folder of ``Annotations/<stem>.xml``, one per image, and ``JPEGImages/``.

Pixel convention: the original VOC devkit's, 1-based and inclusive, as supervision and the
VOC tools read it. A box of annolab's (``x``, ``y``, ``width``, ``height``, in pixels from the
image's top-left corner) is written ``xmin = x + 1``, ``ymin = y + 1``, ``xmax = x + width``,
``ymax = y + height``, and read back the other way, so a round trip is exact for integer boxes.
The devkit's coordinates are whole pixels: by default a box is rounded to whole pixels (each
edge to the nearest, keeping at least one pixel) and the task noted; option
``whole_pixels=False`` writes the exact values with decimals instead (read back exactly, here
and by supervision, though not by tools that parse whole numbers only).

Writing: one XML file per task (``folder``, ``filename``, ``path`` the task's image source,
``size`` with ``depth`` 3, ``segmented`` 0, and an ``object`` per box: ``name``, ``pose``
``Unspecified``, ``truncated`` 0, ``difficult`` 0, ``bndbox``); the images are copied into
``JPEGImages/`` (option ``images``: ``copy``, the default, ``link`` or ``none``), keeping their
own file names. Stems must be unique: when two images share one, the later is written with its
task id in front, and noted. A task whose image size is unknown is written with size 0 and
noted. VOC holds one answer per image, without scores: a second answer is noted and left out.

Reading: a folder with ``Annotations/*.xml`` (or a single ``.xml`` file), parsed with
defusedxml so hostile XML (entity expansion, external entities) is refused. Each file is a
task named by its file's stem; its image ``JPEGImages/<filename>`` when the folder has it,
else the file's ``path``, else its ``filename``; its size from ``size``, else the image's
header. An object without a name or a ``bndbox`` of four numbers, or with a negative size, is
refused as ``Annotations/<stem>.xml object <n>`` and its image is left out whole.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from annolab.errors import DataError, ValidationError
from annolab.io.images import (
    FileNames,
    boxes_answer,
    boxes_question,
    image_mode,
    image_size,
    local_path,
    place_image,
    source_name,
    task_boxes,
)
from annolab.io.records import Context, Format, Item, Record, WriteReport

__all__ = ["FORMATS", "read_voc", "write_voc"]


def _text(value: float) -> str:
    """A coordinate as the XML holds it: a whole number without ``.0``, else its decimals."""
    value = round(value, 6)
    return str(int(value)) if value == int(value) else repr(value)


def _corners(box: Mapping[str, Any], whole: bool) -> tuple[float, float, float, float]:
    x, y = float(box["x"]), float(box["y"])
    x2, y2 = x + float(box["width"]), y + float(box["height"])
    if whole:
        xmin, ymin = round(x) + 1, round(y) + 1
        return xmin, ymin, max(round(x2), xmin), max(round(y2), ymin)
    return x + 1, y + 1, x2, y2


def _sub(parent: ET.Element, tag: str, text: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(text)
    return element


def _document(
    file_name: str, source: object, size: tuple[int, int] | None, boxes: Any, whole: bool
) -> ET.Element:
    root = ET.Element("annotation")
    _sub(root, "folder", "JPEGImages")
    _sub(root, "filename", file_name)
    _sub(root, "path", source)
    dims = ET.SubElement(root, "size")
    _sub(dims, "width", size[0] if size else 0)
    _sub(dims, "height", size[1] if size else 0)
    _sub(dims, "depth", 3)
    _sub(root, "segmented", 0)
    for box in boxes:
        obj = ET.SubElement(root, "object")
        _sub(obj, "name", box["label"])
        _sub(obj, "pose", "Unspecified")
        _sub(obj, "truncated", 0)
        _sub(obj, "difficult", 0)
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), _corners(box, whole), strict=True):
            _sub(bndbox, tag, _text(value))
    ET.indent(root)
    return root


def _rounded(boxes: Iterable[Mapping[str, Any]]) -> int:
    keys = ("x", "y", "width", "height")
    return sum(1 for box in boxes if any(float(box[k]) != round(float(box[k])) for k in keys))


def _whole_pixels(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValidationError("whole_pixels", value, "must be true or false")


def write_voc(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write the records as a Pascal VOC folder (see the module's docstring)."""
    name, field, _ = boxes_question(context)
    mode = image_mode(context)
    whole = _whole_pixels(context.options.get("whole_pixels", True))
    names = FileNames()
    report = WriteReport()
    tasks: set[str] = set()
    (path / "Annotations").mkdir(parents=True)
    (path / "JPEGImages").mkdir()
    for record in records:
        tasks.add(record.task)
        note = report.notes.append
        if names.of(record.task) is not None:
            who = f" by {record.annotator}" if record.annotator else ""
            note((record.task, f"a second answer{who}; VOC holds one answer per image; left out"))
            continue
        source = record.data.get(field)
        size = image_size(record.data, field)
        if size is None:
            note((record.task, f"image {str(source)!r} has no known size; written as 0 x 0"))
        file_name, renamed = names.claim(record.task, source_name(source))
        if renamed:
            note((record.task, renamed))
        not_copied = place_image(source, path / "JPEGImages" / file_name, mode)
        if not_copied:
            note((record.task, not_copied))
        boxes = task_boxes(record.payload, name)
        if whole and (rounded := _rounded(boxes)):
            note((record.task, f"{rounded} box(es) rounded to whole pixels (VOC's own)"))
        if any(box.get("score") is not None for box in boxes):
            note((record.task, "box scores are not written (VOC has no score)"))
        shown = str(local_path(source) or source)
        document = ET.ElementTree(_document(file_name, shown, size, boxes, whole))
        document.write(path / "Annotations" / f"{Path(file_name).stem}.xml", encoding="utf-8")
        report.written += 1
    report.tasks = len(tasks)
    return report


def _number(element: ET.Element | None, tag: str) -> float | None:
    found = element.find(tag) if element is not None else None
    try:
        value = float((found.text or "").strip()) if found is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _object_box(obj: ET.Element) -> dict[str, Any] | str:
    """The box of an ``object`` element in annolab's pixels, or why it cannot be read."""
    label = (obj.findtext("name") or "").strip()
    if not label:
        return "has no name"
    bndbox = obj.find("bndbox")
    if bndbox is None:
        return f"{label!r} has no bndbox"
    corners = [_number(bndbox, tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
    if any(c is None for c in corners):
        return f"{label!r} bndbox needs four numbers xmin, ymin, xmax, ymax"
    xmin, ymin, xmax, ymax = (float(c) for c in corners if c is not None)
    x, y = xmin - 1, ymin - 1  # the devkit's 1-based first pixel
    width, height = round(xmax - x, 6), round(ymax - y, 6)
    if width < 0 or height < 0:
        return f"{label!r} bndbox xmax={xmax:g} ymax={ymax:g} is before xmin={xmin:g} ymin={ymin:g}"
    return {"x": round(x, 6), "y": round(y, 6), "width": width, "height": height, "label": label}


def _source(root: Path, tree: ET.Element, xml_file: Path) -> str:
    file_name = (tree.findtext("filename") or "").strip()
    image = root / "JPEGImages" / file_name
    if file_name and image.is_file():
        return str(image)
    return (tree.findtext("path") or "").strip() or file_name or xml_file.stem


def _xml_items(xml_file: Path, root: Path, context: Context) -> Iterator[Item]:
    name, field, _ = boxes_question(context)
    where = (
        xml_file.relative_to(root).as_posix() if xml_file.is_relative_to(root) else xml_file.name
    )
    task = xml_file.stem
    try:
        tree = SafeET.parse(xml_file).getroot()
    except (ET.ParseError, DefusedXmlException, OSError) as exc:
        yield Item(where=where, task=task, error=f"is not readable VOC XML: {exc}")
        return
    if tree is None or tree.tag != "annotation":
        yield Item(where=where, task=task, error="its root element is not <annotation>")
        return
    boxes, refused = [], False
    for n, obj in enumerate(tree.findall("object"), start=1):
        box = _object_box(obj)
        if isinstance(box, str):
            refused = True
            yield Item(where=f"{where} object {n}", task=task, error=box)
        else:
            boxes.append(box)
    if refused:
        return
    source = _source(root, tree, xml_file)
    width, height = _number(tree.find("size"), "width"), _number(tree.find("size"), "height")
    data: dict[str, Any] = {field: source}
    if width and height and width > 0 and height > 0:
        data["width"], data["height"] = int(width), int(height)
    elif (size := image_size(data, field)) is not None:
        data["width"], data["height"] = size
    forms = len(context.layout.questions) > 1
    yield Item(where=where, task=task, data=data, payload=boxes_answer(boxes, name, forms))


def read_voc(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per annotation file of a Pascal VOC folder (see the module's docstring)."""
    boxes_question(context)
    if path.is_file():
        root = path.parent.parent if path.parent.name == "Annotations" else path.parent
        yield from _xml_items(path, root, context)
        return
    folder = path / "Annotations"
    if not folder.is_dir():
        raise DataError(f"path={str(path)!r} has no Annotations folder of VOC XML files")
    for xml_file in sorted(folder.glob("*.xml")):
        yield from _xml_items(xml_file, path, context)


FORMATS: tuple[Format, ...] = (
    Format(
        name="voc",
        summary="Pascal VOC folder: Annotations/<image>.xml with 1-based inclusive pixel boxes, "
        "and JPEGImages/",
        kinds=("boxes",),
        suffixes=(".xml",),
        write=write_voc,
        read=read_voc,
        folder=True,
    ),
)
