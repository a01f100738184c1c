"""COCO: our JSON read by pycocotools and supervision, and by our own reader, with the same
boxes; bad references refused by place. The image set is drawn with Pillow into tmp_path; the
helpers here are shared by the YOLO and VOC tests."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import supervision as sv
from PIL import Image
from pycocotools.coco import COCO  # type: ignore[import-untyped]

from annolab.errors import DataError
from annolab.io.coco import FORMATS
from annolab.io.records import Context, Format, Item, Record, WriteReport
from annolab.schema.labels import LabelSchema
from annolab.schema.layout import Layout
from annolab.schema.payloads import BoxesPayload

LABELS = ("car", "person", "bicycle", "dog")
COCO_FORMAT = FORMATS[0]
# (file name, width, height, boxes): PNG and JPEG, different sizes, one image without boxes.
SIZES = [
    ("street.png", 64, 48, 15),
    ("park.jpg", 120, 80, 6),
    ("tall.png", 33, 77, 3),
    ("wide.jpeg", 200, 150, 9),
    ("empty.png", 50, 50, 0),
]


def context(layout: str = "bbox", **options: Any) -> Context:
    return Context(Layout.load(layout), LabelSchema.from_names(list(LABELS)), options)


def draw_image(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = "PNG" if path.suffix == ".png" else "JPEG"
    Image.new("RGB", (width, height), (40, 120, 200)).save(path, kind)


def make_boxes(
    rng: random.Random, width: int, height: int, count: int, *, integer: bool = False
) -> list[dict[str, Any]]:
    """``count`` boxes inside the image, the first touching the top-left corner and the second
    the bottom-right one; float coordinates unless ``integer``."""
    boxes = []
    for i in range(count):
        x: float
        y: float
        w: float
        h: float
        if integer:
            w, h = rng.randint(1, width // 2), rng.randint(1, height // 2)
            x, y = rng.randint(0, width - w), rng.randint(0, height - h)
        else:
            w, h = round(rng.uniform(1, width / 2), 2), round(rng.uniform(1, height / 2), 2)
            x, y = round(rng.uniform(0, width - w), 2), round(rng.uniform(0, height - h), 2)
        if i == 0:
            x, y = 0, 0
        if i == 1:
            x, y = width - w, height - h
        label = LABELS[i % len(LABELS)]
        boxes.append({"x": x, "y": y, "width": w, "height": h, "label": label})
    return boxes


def make_records(folder: Path, *, integer: bool = False, seed: int = 7) -> list[Record]:
    """Images drawn into ``folder`` and one answered record per image, as an export gives."""
    rng = random.Random(seed)
    records = []
    for n, (name, width, height, count) in enumerate(SIZES, start=1):
        draw_image(folder / name, width, height)
        payload = {"kind": "boxes", "boxes": make_boxes(rng, width, height, count, integer=integer)}
        BoxesPayload.model_validate(payload)  # the records are answers the project stores
        records.append(Record(f"img-{n}", {"image": str(folder / name)}, payload, "ann"))
    return records


def write(fmt: Format, records: Iterable[Record], path: Path, ctx: Context) -> WriteReport:
    assert fmt.write is not None
    return fmt.write(records, path, ctx)


def read(fmt: Format, path: Path, ctx: Context) -> list[Item]:
    assert fmt.read is not None
    return list(fmt.read(path, ctx))


def box_key(box: dict[str, Any]) -> tuple[Any, ...]:
    return (box["label"], box["x"], box["y"], box["width"], box["height"])


def sorted_boxes(payload: Any) -> list[dict[str, Any]]:
    return sorted((dict(b) for b in payload["boxes"]), key=box_key)


def xyxy_by_label(boxes: Iterable[dict[str, Any]]) -> list[tuple[str, float, float, float, float]]:
    corners = [
        (b["label"], b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]) for b in boxes
    ]
    return sorted(corners)


def detections_by_label(
    detections: sv.Detections, classes: list[str]
) -> list[tuple[str, float, float, float, float]]:
    assert detections.class_id is not None
    found = []
    for xyxy, c in zip(detections.xyxy, detections.class_id, strict=True):
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        found.append((classes[int(c)], x1, y1, x2, y2))
    return sorted(found)


def assert_close(
    got: list[tuple[str, float, float, float, float]],
    want: list[tuple[str, float, float, float, float]],
    tolerance: float,
) -> None:
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[1:] == pytest.approx(w[1:], abs=tolerance), (g, w)


# --- writing, checked by the format's own readers -----------------------------------------


def test_pycocotools_loads_our_json_with_our_images_boxes_and_categories(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src")
    out = tmp_path / "coco.json"
    report = write(COCO_FORMAT, records, out, context())
    assert (report.written, report.tasks, report.notes) == (5, 5, [])
    coco = COCO(str(out))
    assert coco.getImgIds() == [1, 2, 3, 4, 5]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(LABELS)
    assert coco.getCatIds() == [1, 2, 3, 4]
    for image_id, record, (name, width, height, count) in zip(
        range(1, 6), records, SIZES, strict=True
    ):
        (image,) = coco.loadImgs(image_id)
        assert image == {
            "id": image_id,
            "file_name": name,
            "width": width,
            "height": height,
            "annolab_task": record.task,
        }
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        assert len(annotations) == count
        assert record.payload is not None
        for annotation, box in zip(annotations, record.payload["boxes"], strict=True):
            assert annotation["bbox"] == [box["x"], box["y"], box["width"], box["height"]]
            assert annotation["area"] == pytest.approx(box["width"] * box["height"])
            assert coco.loadCats(annotation["category_id"])[0]["name"] == box["label"]
            assert (annotation["iscrowd"], annotation["annotator"]) == (0, "ann")
            assert "score" not in annotation


def test_supervision_reads_our_coco_with_the_same_boxes(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src")
    out = tmp_path / "coco.json"
    write(COCO_FORMAT, records, out, context())
    dataset = sv.DetectionDataset.from_coco(str(tmp_path / "src"), str(out))
    assert dataset.classes == list(LABELS)
    for record in records:
        assert record.payload is not None
        detections = dataset.annotations[str(Path(record.data["image"]).resolve())]
        got = detections_by_label(detections, dataset.classes)
        assert_close(got, xyxy_by_label(record.payload["boxes"]), 1e-3)


def test_our_reader_gives_back_the_tasks_sizes_boxes_and_annotator(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src")
    out = tmp_path / "coco.json"
    write(COCO_FORMAT, records, out, context())
    items = read(COCO_FORMAT, out, context(image_root=str(tmp_path / "src")))
    assert [i.error for i in items] == [None] * 5
    assert [i.task for i in items] == [r.task for r in records]
    for item, record, (_, width, height, _) in zip(items, records, SIZES, strict=True):
        assert item.data == {"image": record.data["image"], "width": width, "height": height}
        assert item.annotator == "ann"
        assert sorted_boxes(item.payload) == sorted_boxes(record.payload)
        BoxesPayload.model_validate(item.payload)


def test_scores_several_annotators_and_a_form_round_trip(tmp_path: Path) -> None:
    draw_image(tmp_path / "a.png", 40, 30)
    box = {"x": 1.5, "y": 2.0, "width": 10.0, "height": 5.25, "label": "dog"}
    scored = {**box, "x": 3.0, "score": 0.25}
    layout = Layout.from_dict(
        {
            "name": "two",
            "inputs": [{"name": "photo", "type": "image"}],
            "questions": [
                {"name": "boxes", "kind": "boxes", "field": "photo"},
                {"name": "ok", "kind": "choice", "options": ["yes", "no"]},
            ],
        }
    )
    ctx = Context(layout, LabelSchema.from_names(list(LABELS)))
    source = str(tmp_path / "a.png")

    def form(*boxes: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "form", "answers": {"boxes": {"kind": "boxes", "boxes": list(boxes)}}}

    records = [
        Record("t1", {"photo": source}, form(box), "ann"),
        Record("t1", {"photo": source}, form(scored), "bob"),
    ]
    out = tmp_path / "c.json"
    report = write(COCO_FORMAT, records, out, ctx)
    assert (report.written, report.tasks) == (2, 1)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert len(document["images"]) == 1
    assert [a["annotator"] for a in document["annotations"]] == ["ann", "bob"]
    assert document["annotations"][1]["score"] == 0.25
    items = read(COCO_FORMAT, out, ctx)
    assert [(i.task, i.annotator) for i in items] == [("t1", "ann"), ("t1", "bob")]
    assert items[0].payload == form(box)
    assert items[1].payload == form(scored)


def test_a_task_without_an_answer_is_an_image_without_annotations(tmp_path: Path) -> None:
    draw_image(tmp_path / "a.png", 40, 30)
    out = tmp_path / "c.json"
    write(COCO_FORMAT, [Record("t1", {"image": str(tmp_path / "a.png")})], out, context())
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["annotations"] == []
    (item,) = read(COCO_FORMAT, out, context())
    assert (item.task, item.payload) == ("t1", {"kind": "boxes", "boxes": []})
    assert item.annotator is None


def test_no_records_make_a_valid_empty_coco_file(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    report = write(COCO_FORMAT, [], out, context())
    assert (report.written, report.tasks) == (0, 0)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["images"], document["annotations"]) == ([], [])
    assert [c["name"] for c in document["categories"]] == list(LABELS)
    assert read(COCO_FORMAT, out, context()) == []


def test_remote_images_need_their_size_and_keep_their_url(tmp_path: Path) -> None:
    url = "https://example.org/pics/cat.jpg"
    box = {"x": 1, "y": 1, "width": 2, "height": 2, "label": "zebra"}
    records = [
        Record(
            "r1", {"image": url, "width": 640, "height": 480}, {"kind": "boxes", "boxes": [box]}
        ),
        Record("r2", {"image": "https://example.org/pics/dog.jpg"}),
    ]
    out = tmp_path / "c.json"
    report = write(COCO_FORMAT, records, out, context())
    assert (report.written, report.tasks) == (1, 2)
    assert report.notes == [
        ("r1", "label 'zebra' is not in the label schema; added as a category"),
        (
            "r2",
            "image 'https://example.org/pics/dog.jpg' has no width and height and no local "
            "file to read them from; left out",
        ),
    ]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["images"][0]["coco_url"] == url
    assert document["categories"][-1] == {"id": 5, "name": "zebra", "supercategory": "none"}
    (item,) = read(COCO_FORMAT, out, context())
    assert item.data == {"image": url, "width": 640, "height": 480}


def test_two_images_of_one_name_are_noted_and_foreign_ids_come_from_file_names(
    tmp_path: Path,
) -> None:
    for folder in ("a", "b"):
        draw_image(tmp_path / folder / "cat.png", 10, 10)
    records = [Record(f"t-{f}", {"image": str(tmp_path / f / "cat.png")}) for f in "ab"]
    out = tmp_path / "c.json"
    report = write(COCO_FORMAT, records, out, context())
    assert report.notes == [("t-b", "file_name 'cat.png' also names the image of task 't-a'")]
    # With image_root, file names keep their folders; without annolab_task, they name the tasks.
    write(COCO_FORMAT, records, out, context(image_root=str(tmp_path)))
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [i["file_name"] for i in document["images"]] == ["a/cat.png", "b/cat.png"]
    for image in document["images"]:
        del image["annolab_task"]
    out.write_text(json.dumps(document), encoding="utf-8")
    assert [i.task for i in read(COCO_FORMAT, out, context())] == ["a/cat", "b/cat"]


# --- refusals -----------------------------------------------------------------------------


def _coco_file(tmp_path: Path, annotations: list[dict[str, Any]]) -> Path:
    document = {
        "images": [
            {"id": 1, "file_name": "x.png", "width": 20, "height": 10},
            {"id": 2, "file_name": "y.png", "width": 20, "height": 10},
        ],
        "annotations": annotations,
        "categories": [{"id": 3, "name": "car"}],
    }
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_bad_annotations_are_refused_by_place_and_their_image_left_out(tmp_path: Path) -> None:
    good = {"id": 1, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4]}
    path = _coco_file(
        tmp_path,
        [
            good,
            {"id": 2, "image_id": 9, "category_id": 3, "bbox": [0, 0, 1, 1]},
            {"id": 3, "image_id": 1, "category_id": 4, "bbox": [0, 0, 1, 1]},
            {"id": 4, "image_id": 1, "category_id": 3, "bbox": [0, 0, -1, 1]},
            {"id": 5, "image_id": 1, "category_id": 3, "bbox": [0, 0, "a", 1]},
        ],
    )
    items = read(COCO_FORMAT, path, context())
    refusals = [(i.where, i.task, i.error) for i in items if i.error]
    assert refusals == [
        ("annotations[1]", "", "image_id=9 names no image of the file"),
        ("annotations[2]", "x", "category_id=4 names no category of the file"),
        ("annotations[3]", "x", "bbox=[0, 0, -1, 1] has a negative width or height"),
        ("annotations[4]", "x", "bbox=[0, 0, 'a', 1] must be four numbers [x, y, width, height]"),
    ]
    (task,) = [i for i in items if not i.error]
    assert task.task == "y"
    assert task.payload == {
        "kind": "boxes",
        "boxes": [{"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0, "label": "car"}],
    }


def test_bad_images_and_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    document = {
        "images": [{"id": 1, "file_name": "x.png", "width": -3, "height": 10}, {"id": "a"}],
        "annotations": [],
        "categories": [],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    assert [(i.where, i.error) for i in read(COCO_FORMAT, path, context())] == [
        ("images[0]", "width=-3 height=10 must be positive numbers"),
        ("images[1]", "id='a' must be a whole number"),
    ]
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match="holds a list, not a COCO object"):
        read(COCO_FORMAT, path, context())
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="is not a COCO JSON file"):
        read(COCO_FORMAT, path, context())
    with pytest.raises(DataError, match="asks no boxes question"):
        read(COCO_FORMAT, path, context("ner"))
