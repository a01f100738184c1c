"""COCO object detection: one JSON file of ``images``, ``annotations`` and ``categories``.

Writing: one image per task (``id`` from 1, ``file_name``, ``width``, ``height``, and the task
id under ``annolab_task``; ``coco_url`` for an http image). ``file_name`` is the image's path
relative to the ``image_root`` option when it is given and the image lies under it, else its
file name. Each box is an annotation (``bbox`` ``[x, y, width, height]`` in pixels, ``area``,
``iscrowd`` 0, ``score`` when the box has one, ``annotator`` when the answer has one); a task
answered by several annotators has an annotation set per annotator under the one image. An
answer without boxes leaves no annotation to say who gave it: it is listed, ``image_id`` and
``annotator``, under the extra key ``annolab_empty_answers`` (other tools ignore it).
Categories are the label schema's labels, ``id`` from 1 in its order (``supercategory``
``none``); a label outside it is added after them and noted. A task whose image size is
unknown (no ``width``/``height``, no local file to read it from) is noted and left out. The
records are streamed: images, annotations and empty answers go to temporary files as they
come, and the JSON is assembled from them at the end (only task ids, image ids and file names
are kept).

Reading: each image is a task, its id ``annolab_task`` when the image has one, else its
``file_name`` without the suffix (``train/cat`` for ``train/cat.jpg``: two folders may hold a
``cat.jpg``); its data the image (``coco_url`` when given, else the ``file_name`` in the
``image_root`` option's folder, by default the JSON file's folder), ``width`` and ``height``. Its
annotations become one boxes answer, one per ``annotator`` when they carry one (our own files,
``annolab_empty_answers`` included); an image without annotations has an empty answer. An
annotation naming an unknown image or category, or with a malformed ``bbox`` (negative sizes
included) is refused as ``annotations[i]``, and its image is left out whole so no task gets
part of its answer. The JSON file is read whole: COCO is one document.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any

from annolab.errors import DataError
from annolab.io.images import (
    LabelIndex,
    boxes_answer,
    boxes_question,
    image_size,
    local_path,
    source_name,
    task_boxes,
)
from annolab.io.records import Context, Format, Item, Record, WriteReport

__all__ = ["FORMATS", "read_coco", "write_coco"]


def _file_name(source: object, root: object) -> str:
    path = local_path(source)
    if path is not None and root is not None:
        try:
            return path.resolve().relative_to(Path(str(root)).resolve()).as_posix()
        except ValueError:
            pass
    return source_name(source)


def _append(handle: IO[str], entry: Mapping[str, Any], first: bool) -> None:
    handle.write(("" if first else ",\n") + json.dumps(entry, ensure_ascii=False))


class _CocoWriter:
    """The state of one export: image ids per task, file names taken, the categories."""

    def __init__(self, context: Context, report: WriteReport) -> None:
        self.name, self.field, labels = boxes_question(context)
        self.index = LabelIndex(labels)
        self.root = context.options.get("image_root")
        self.report = report
        self.image_ids: dict[str, int] = {}
        self.file_names: dict[str, str] = {}  # file_name -> task
        self.annotation_id = 0

    def image(self, record: Record) -> dict[str, Any] | None:
        """The image entry of a task seen for the first time; None (noted) without a size."""
        size = image_size(record.data, self.field)
        source = record.data.get(self.field)
        if size is None:
            why = f"image {str(source)!r} has no width and height and no local file"
            self.report.notes.append((record.task, f"{why} to read them from; left out"))
            return None
        image_id = self.image_ids[record.task] = len(self.image_ids) + 1
        file_name = _file_name(source, self.root)
        other = self.file_names.setdefault(file_name, record.task)
        if other != record.task:
            rule = f"file_name {file_name!r} also names the image of task {other!r}"
            self.report.notes.append((record.task, rule))
        image: dict[str, Any] = {
            "id": image_id,
            "file_name": file_name,
            "width": size[0],
            "height": size[1],
            "annolab_task": record.task,
        }
        if local_path(source) is None and source is not None:
            image["coco_url"] = str(source)
        return image

    def annotations(self, record: Record, image_id: int) -> Iterator[dict[str, Any]]:
        """The annotation entries of a record's boxes."""
        for box in task_boxes(record.payload, self.name):
            category, added = self.index.index(str(box["label"]))
            if added:
                rule = f"label {box['label']!r} is not in the label schema; added as a category"
                self.report.notes.append((record.task, rule))
            x, y = float(box["x"]), float(box["y"])
            width, height = float(box["width"]), float(box["height"])
            self.annotation_id += 1
            entry: dict[str, Any] = {
                "id": self.annotation_id,
                "image_id": image_id,
                "category_id": category + 1,
                "bbox": [x, y, width, height],
                "area": width * height,
                "iscrowd": 0,
            }
            if box.get("score") is not None:
                entry["score"] = float(box["score"])
            if record.annotator is not None:
                entry["annotator"] = record.annotator
            yield entry

    def categories(self) -> list[dict[str, Any]]:
        return [
            {"id": i + 1, "name": label, "supercategory": "none"}
            for i, label in enumerate(self.index.names)
        ]


def write_coco(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write the records as one COCO JSON file (see the module's docstring)."""
    report = WriteReport()
    writer = _CocoWriter(context, report)
    tasks: set[str] = set()
    empties = 0
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as images,
        tempfile.TemporaryFile("w+", encoding="utf-8") as annotations,
        tempfile.TemporaryFile("w+", encoding="utf-8") as empty,
    ):
        for record in records:
            tasks.add(record.task)
            image_id = writer.image_ids.get(record.task)
            if image_id is None:
                image = writer.image(record)
                if image is None:
                    continue
                image_id = image["id"]
                _append(images, image, image_id == 1)
            written = writer.annotation_id
            for entry in writer.annotations(record, image_id):
                _append(annotations, entry, entry["id"] == 1)
            if record.payload is not None and written == writer.annotation_id:
                # An answer without boxes leaves no annotation to carry its annotator.
                _append(empty, {"image_id": image_id, "annotator": record.annotator}, not empties)
                empties += 1
            report.written += 1
        with path.open("w", encoding="utf-8") as out:
            out.write('{"info": {"description": "annolab export"}, "licenses": [],\n"images": [\n')
            images.seek(0)
            shutil.copyfileobj(images, out)
            out.write('\n],\n"annotations": [\n')
            annotations.seek(0)
            shutil.copyfileobj(annotations, out)
            out.write('\n],\n"annolab_empty_answers": [\n')
            empty.seek(0)
            shutil.copyfileobj(empty, out)
            out.write('\n],\n"categories": ')
            out.write(json.dumps(writer.categories(), ensure_ascii=False))
            out.write("}\n")
    report.tasks = len(tasks)
    return report


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise DataError(f"{key}={type(value).__name__} in a COCO file must be a list")
    return value


def _image_item(
    i: int, image: object, folder: Path, field: str
) -> tuple[int, str, dict[str, Any]] | Item:
    where = f"images[{i}]"
    if not isinstance(image, dict):
        return Item(where=where, error=f"is a {type(image).__name__}; an image is an object")
    image_id, file_name = image.get("id"), image.get("file_name")
    if isinstance(image_id, bool) or not isinstance(image_id, int):
        return Item(where=where, error=f"id={image_id!r} must be a whole number")
    if not isinstance(file_name, str) or not file_name:
        return Item(where=where, error=f"file_name={file_name!r} must name the image file")
    width, height = _number(image.get("width")), _number(image.get("height"))
    if not width or not height or width <= 0 or height <= 0:
        sizes = f"width={image.get('width')!r} height={image.get('height')!r}"
        return Item(where=where, error=f"{sizes} must be positive numbers")
    task = image.get("annolab_task")
    if not isinstance(task, str) or not task:
        task = str(PurePosixPath(file_name.replace("\\", "/")).with_suffix(""))
    url = image.get("coco_url")
    source = url if isinstance(url, str) and url else str(folder / file_name)
    data = {field: source, "width": int(width), "height": int(height)}
    return image_id, task, data


def _box(annotation: object, images: Mapping[int, Any], categories: Mapping[int, str]) -> Any:
    """The box an annotation holds and its image id, or why it cannot be read."""
    if not isinstance(annotation, dict):
        return f"is a {type(annotation).__name__}; an annotation is an object"
    image_id, category = annotation.get("image_id"), annotation.get("category_id")
    if not _is_id(image_id) or image_id not in images:
        return f"image_id={image_id!r} names no image of the file"
    label = categories.get(category) if _is_id(category) else None  # type: ignore[arg-type]
    if label is None:
        return f"category_id={category!r} names no category of the file"
    bbox = annotation.get("bbox")
    values = [_number(v) for v in bbox] if isinstance(bbox, list) else []
    if len(values) != 4 or any(v is None for v in values):
        return f"bbox={bbox!r} must be four numbers [x, y, width, height]"
    x, y, width, height = (float(v) for v in values if v is not None)
    if width < 0 or height < 0:
        return f"bbox={bbox!r} has a negative width or height"
    box: dict[str, Any] = {"x": x, "y": y, "width": width, "height": height}
    box["label"] = label
    score = annotation.get("score")
    if score is not None:
        # A score that is not a number is kept for the project's checks to refuse by name.
        box["score"] = _number(score) if _number(score) is not None else score
    annotator = annotation.get("annotator")
    return image_id, (str(annotator) if annotator is not None else None), box


def _categories(document: Mapping[str, Any], found: dict[int, str]) -> Iterator[Item]:
    for i, category in enumerate(_list(document, "categories")):
        cid = category.get("id") if isinstance(category, dict) else None
        label = category.get("name") if isinstance(category, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool) or not isinstance(label, str):
            yield Item(where=f"categories[{i}]", error="needs a whole-number id and a name")
        else:
            found[cid] = label


def _images(
    document: Mapping[str, Any], folder: Path, field: str, found: dict[int, tuple[str, Any]]
) -> Iterator[Item]:
    for i, image in enumerate(_list(document, "images")):
        entry = _image_item(i, image, folder, field)
        if isinstance(entry, Item):
            yield entry
        elif entry[0] in found:
            yield Item(where=f"images[{i}]", error=f"id={entry[0]} is already an image's id")
        else:
            found[entry[0]] = (entry[1], entry[2])


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"path={str(path)!r} is not a COCO JSON file: {exc}") from exc
    if not isinstance(document, dict):
        raise DataError(f"path={str(path)!r} holds a {type(document).__name__}, not a COCO object")
    return document


def read_coco(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per image of a COCO file, with its boxes as an answer (see the module's
    docstring)."""
    name, field, _ = boxes_question(context)
    forms = len(context.layout.questions) > 1
    folder = Path(str(context.options.get("image_root") or path.parent))
    document = _load(path)
    categories: dict[int, str] = {}
    yield from _categories(document, categories)
    images: dict[int, tuple[str, dict[str, Any]]] = {}
    yield from _images(document, folder, field, images)
    answers: dict[int, dict[str | None, list[dict[str, Any]]]] = defaultdict(dict)
    refused: set[int] = set()
    for i, annotation in enumerate(_list(document, "annotations")):
        found = _box(annotation, images, categories)
        if isinstance(found, str):
            image_id = annotation.get("image_id") if isinstance(annotation, dict) else None
            known = isinstance(image_id, int) and image_id in images
            task = images[image_id][0] if isinstance(image_id, int) and known else ""
            yield Item(where=f"annotations[{i}]", task=task, error=found)
            if isinstance(image_id, int) and known:
                refused.add(image_id)
            continue
        image_id, annotator, box = found
        answers[image_id].setdefault(annotator, []).append(box)
    for entry in document.get("annolab_empty_answers") or []:
        image_id = entry.get("image_id") if isinstance(entry, dict) else None
        if isinstance(image_id, int) and image_id in images:
            annotator = entry.get("annotator")
            answers[image_id].setdefault(None if annotator is None else str(annotator), [])
    for image_id, (task, data) in images.items():
        if image_id in refused:
            continue
        for annotator, boxes in (answers.get(image_id) or {None: []}).items():
            payload = boxes_answer(boxes, name, forms)
            yield Item(f"image {image_id}", task, data, payload, annotator=annotator)


FORMATS: tuple[Format, ...] = (
    Format(
        name="coco",
        summary="COCO object detection JSON: images, box annotations (pixels) and categories",
        kinds=("boxes",),
        suffixes=(".json",),
        write=write_coco,
        read=read_coco,
    ),
)
