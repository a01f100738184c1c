"""YOLO (Ultralytics) detection dataset: a folder of ``data.yaml``, ``images/`` and ``labels/``.

Writing: ``labels/<stem>.txt`` per task, one ``class cx cy w h`` line per box, normalised by
the image size with 6 decimals (an empty file for an image without boxes: a background image);
``images/<name>`` the image copied in (option ``images``: ``copy``, the default, ``link`` for a
symbolic link, or ``none``); ``data.yaml`` with ``train`` and ``val`` both ``images`` (Ultralytics
requires ``val``: split the images yourself before a real training), ``names`` (``{0: label}``
in the label schema's order, a label outside it appended and noted) and ``nc``. No ``path`` is
written: Ultralytics then takes the folder of ``data.yaml`` as the dataset's root, which stays
right when the folder is moved. Stems must be unique: when two images share one, the later is
written with its task id in front, and that is noted. A remote image gets its labels, and a
note that it was not copied; a task whose image size is unknown is noted and left out (YOLO
needs the size to normalise). YOLO holds one answer per image: a second answer to a task is
noted and left out, and box scores are not written (a sixth column is not a training label).

Reading: a folder (or its ``data.yaml``) with ``names`` as a dict or a list, and ``images/``
with ``labels/`` beside it, flat or split into subfolders as Ultralytics lays them out
(``images/train`` with ``labels/train``). Each image is a task named by its stem, its size read
from its header; an image without a label file has an empty answer. A line that is not
``class cx cy w h`` (a sixth column is read as a score), names an unknown class, or has a
negative size is refused as ``labels/<stem>.txt line <n>`` and its image is left out whole.
Pixel values are rounded to 2 decimals, so an integer box written here reads back exactly for
images up to 10,000 pixels wide.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from annolab.errors import DataError
from annolab.io.images import (
    IMAGE_SUFFIXES,
    FileNames,
    LabelIndex,
    boxes_answer,
    boxes_question,
    header_size,
    image_mode,
    image_size,
    place_image,
    source_name,
    task_boxes,
)
from annolab.io.records import Context, Format, Item, Record, WriteReport

__all__ = ["FORMATS", "read_yolo", "write_yolo"]


def _line(box: Any, cls: int, width: int, height: int) -> str:
    w, h = float(box["width"]), float(box["height"])
    cx, cy = float(box["x"]) + w / 2, float(box["y"]) + h / 2
    return f"{cls} {cx / width:.6f} {cy / height:.6f} {w / width:.6f} {h / height:.6f}\n"


def write_yolo(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write the records as an Ultralytics YOLO dataset folder (see the module's docstring)."""
    name, field, labels = boxes_question(context)
    mode = image_mode(context)
    index = LabelIndex(labels)
    names = FileNames()
    report = WriteReport()
    tasks: set[str] = set()
    (path / "images").mkdir(parents=True)
    (path / "labels").mkdir()
    for record in records:
        tasks.add(record.task)
        if names.of(record.task) is not None:
            who = f" by {record.annotator}" if record.annotator else ""
            rule = f"a second answer{who}; YOLO holds one answer per image; left out"
            report.notes.append((record.task, rule))
            continue
        source = record.data.get(field)
        size = image_size(record.data, field)
        if size is None:
            why = f"image {str(source)!r} has no width and height and no local file to read"
            report.notes.append((record.task, f"{why} them from; YOLO needs them; left out"))
            continue
        file_name, renamed = names.claim(record.task, source_name(source))
        if renamed:
            report.notes.append((record.task, renamed))
        not_copied = place_image(source, path / "images" / file_name, mode)
        if not_copied:
            report.notes.append((record.task, not_copied))
        lines = []
        boxes = task_boxes(record.payload, name)
        for box in boxes:
            cls, added = index.index(str(box["label"]))
            if added:
                rule = f"label {box['label']!r} is not in the label schema; added as class {cls}"
                report.notes.append((record.task, rule))
            lines.append(_line(box, cls, *size))
        if any(box.get("score") is not None for box in boxes):
            report.notes.append((record.task, "box scores are not written (YOLO labels)"))
        (path / "labels" / f"{Path(file_name).stem}.txt").write_text(
            "".join(lines), encoding="utf-8"
        )
        report.written += 1
    data = {
        "train": "images",
        "val": "images",
        "names": dict(enumerate(index.names)),
        "nc": len(index.names),
    }
    with (path / "data.yaml").open("w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False, allow_unicode=True)
    report.tasks = len(tasks)
    return report


def _names(data_yaml: Path) -> dict[int, str]:
    try:
        with data_yaml.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"path={str(data_yaml)!r} is not a readable data.yaml: {exc}") from exc
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return {i: str(label) for i, label in enumerate(names)}
    if isinstance(names, dict):
        try:
            return {int(key): str(label) for key, label in names.items()}
        except (TypeError, ValueError) as exc:
            rule = "must be class numbers"
            raise DataError(f"names keys={list(names)!r} in {data_yaml.name} {rule}") from exc
    rule = "must be a list of labels or a {class number: label} mapping"
    raise DataError(f"names={names!r} in {str(data_yaml)!r} {rule}")


def _folders(root: Path) -> list[tuple[Path, Path]]:
    """Each images folder with its labels folder: ``images``/``labels``, and their splits."""
    images, labels = root / "images", root / "labels"
    if not images.is_dir():
        raise DataError(f"path={str(root)!r} has no images folder; a YOLO dataset has images/")
    pairs = [(images, labels)]
    pairs += [(sub, labels / sub.name) for sub in sorted(images.iterdir()) if sub.is_dir()]
    return pairs


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_line(line: str, names: dict[int, str], width: int, height: int) -> dict[str, Any] | str:
    """The box a label line holds, in pixels, or why it cannot be read."""
    columns = line.split()
    if len(columns) not in (5, 6):
        return f"has {len(columns)} columns; a box is 'class cx cy w h' (and a score)"
    if not columns[0].isdigit() or int(columns[0]) not in names:
        return f"class {columns[0]!r} is not a class of data.yaml (0 to {len(names) - 1})"
    values = [_number(c) for c in columns[1:]]
    if any(v is None for v in values):
        return f"{' '.join(columns[1:])!r} are not all numbers"
    cx, cy, w, h = (float(v) for v in values[:4] if v is not None)
    if w < 0 or h < 0:
        return f"w={columns[3]} h={columns[4]} is a negative size"
    box: dict[str, Any] = {
        "x": round((cx - w / 2) * width, 2),
        "y": round((cy - h / 2) * height, 2),
        "width": round(w * width, 2),
        "height": round(h * height, 2),
        "label": names[int(columns[0])],
    }
    if len(values) == 5:
        box["score"] = values[4]
    return box


@dataclass(frozen=True)
class _Dataset:
    """What reading one dataset needs: its root, classes, and the question read into."""

    root: Path
    names: dict[int, str]
    field: str
    question: str
    forms: bool


def _image_items(image: Path, labels: Path, dataset: _Dataset) -> Iterator[Item]:
    root, names = dataset.root, dataset.names
    size = header_size(image)
    where = image.relative_to(root).as_posix()
    if size is None:
        yield Item(where=where, task=image.stem, error="its size can not be read from its header")
        return
    label_file = labels / f"{image.stem}.txt"
    boxes: list[dict[str, Any]] = []
    refused = False
    if label_file.is_file():
        place = label_file.relative_to(root).as_posix()
        with label_file.open(encoding="utf-8") as handle:
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                box = _parse_line(line, names, *size)
                if isinstance(box, str):
                    refused = True
                    yield Item(where=f"{place} line {n}", task=image.stem, error=box)
                else:
                    boxes.append(box)
    if not refused:
        data = {dataset.field: str(image), "width": size[0], "height": size[1]}
        payload = boxes_answer(boxes, dataset.question, dataset.forms)
        yield Item(where=where, task=image.stem, data=data, payload=payload)


def read_yolo(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per image of a YOLO dataset folder, with its boxes as an answer (see
    the module's docstring)."""
    name, field, _ = boxes_question(context)
    root = path.parent if path.is_file() else path
    data_yaml = path if path.is_file() else root / "data.yaml"
    if not data_yaml.is_file():
        raise DataError(f"path={str(path)!r} has no data.yaml; a YOLO dataset names its classes")
    dataset = _Dataset(root, _names(data_yaml), field, name, len(context.layout.questions) > 1)
    seen: dict[str, str] = {}
    for images, labels in _folders(root):
        for image in sorted(images.iterdir()):
            if not image.is_file() or image.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            where = image.relative_to(root).as_posix()
            if image.stem in seen:
                error = f"its stem {image.stem!r} is the task of {seen[image.stem]} already"
                yield Item(where=where, task=image.stem, error=error)
                continue
            seen[image.stem] = where
            yield from _image_items(image, labels, dataset)


FORMATS: tuple[Format, ...] = (
    Format(
        name="yolo",
        summary="YOLO (Ultralytics) dataset folder: data.yaml, images/ and labels/*.txt with "
        "normalised class cx cy w h lines",
        kinds=("boxes",),
        write=write_yolo,
        read=read_yolo,
        folder=True,
    ),
)
