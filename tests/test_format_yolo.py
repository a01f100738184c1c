"""YOLO: our dataset folder read by supervision (as Ultralytics lays it out) and by our own
reader, with the same boxes within 1e-3 px; shared stems, remote images and bad label lines."""

from __future__ import annotations

from pathlib import Path

import pytest
import supervision as sv
import yaml

from annolab.errors import DataError, ValidationError
from annolab.io.records import Record
from annolab.io.yolo import FORMATS
from annolab.schema.payloads import BoxesPayload
from tests.test_format_coco import (
    LABELS,
    SIZES,
    assert_close,
    context,
    detections_by_label,
    draw_image,
    make_records,
    read,
    sorted_boxes,
    write,
    xyxy_by_label,
)

YOLO = FORMATS[0]


def test_the_folder_is_an_ultralytics_dataset_supervision_reads(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src")
    out = tmp_path / "yolo"
    report = write(YOLO, records, out, context())
    assert (report.written, report.tasks, report.notes) == (5, 5, [])
    data = yaml.safe_load((out / "data.yaml").read_text(encoding="utf-8"))
    assert data == {
        "train": "images",
        "val": "images",
        "names": dict(enumerate(LABELS)),
        "nc": 4,
    }
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(s[0] for s in SIZES)
    assert (out / "labels" / "empty.txt").read_text(encoding="utf-8") == ""
    first = (out / "labels" / "street.txt").read_text(encoding="utf-8").splitlines()[0]
    assert first.split()[0] == "0" and all(len(v.split(".")[1]) == 6 for v in first.split()[1:])
    dataset = sv.DetectionDataset.from_yolo(
        images_directory_path=str(out / "images"),
        annotations_directory_path=str(out / "labels"),
        data_yaml_path=str(out / "data.yaml"),
    )
    assert dataset.classes == list(LABELS)
    assert len(dataset) == 5
    for record, (name, *_) in zip(records, SIZES, strict=True):
        assert record.payload is not None
        detections = dataset.annotations[str(out / "images" / name)]
        got = detections_by_label(detections, dataset.classes)
        assert_close(got, xyxy_by_label(record.payload["boxes"]), 1e-3)


def test_our_reader_gives_back_the_tasks_and_boxes(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src")
    out = tmp_path / "yolo"
    write(YOLO, records, out, context(images="link"))
    assert (out / "images" / "park.jpg").is_symlink()
    items = read(YOLO, out, context())
    assert [i.error for i in items] == [None] * 5
    by_task = {i.task: i for i in items}
    assert sorted(by_task) == sorted(Path(s[0]).stem for s in SIZES)
    for record, (name, width, height, _) in zip(records, SIZES, strict=True):
        item = by_task[Path(name).stem]
        assert item.data == {"image": str(out / "images" / name), "width": width, "height": height}
        got, want = sorted_boxes(item.payload), sorted_boxes(record.payload)
        assert [b["label"] for b in got] == [b["label"] for b in want]
        for g, w in zip(got, want, strict=True):
            for key in ("x", "y", "width", "height"):
                assert g[key] == pytest.approx(w[key], abs=1e-2)
        BoxesPayload.model_validate(item.payload)


def test_integer_boxes_round_trip_exactly(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src", integer=True, seed=3)
    out = tmp_path / "yolo"
    write(YOLO, records, out, context(images="none"))
    assert list((out / "images").iterdir()) == []
    # Without images in the folder, the reader has nothing to size: copy them in as a user would.
    for record in records:
        source = Path(record.data["image"])
        (out / "images" / source.name).write_bytes(source.read_bytes())
    items = {i.task: i for i in read(YOLO, out / "data.yaml", context())}
    for record in records:
        item = items[Path(record.data["image"]).stem]
        assert sorted_boxes(item.payload) == sorted_boxes(record.payload)


def test_shared_stems_remote_images_unknown_sizes_and_second_answers_are_noted(
    tmp_path: Path,
) -> None:
    for folder in ("a", "b"):
        draw_image(tmp_path / folder / "cat.png", 20, 10)
    box = {"x": 0, "y": 0, "width": 20, "height": 10, "label": "dog", "score": 0.5}
    answer = {"kind": "boxes", "boxes": [box]}
    url = "https://example.org/pics/dog.jpg"
    records = [
        Record("t/a", {"image": str(tmp_path / "a" / "cat.png")}, answer, "ann"),
        Record("t/b", {"image": str(tmp_path / "b" / "cat.png")}, None),
        Record("t/a", {"image": str(tmp_path / "a" / "cat.png")}, answer, "bob"),
        Record("r", {"image": url, "width": 40, "height": 20}, answer),
        Record("s", {"image": "https://example.org/x.jpg"}),
    ]
    out = tmp_path / "yolo"
    report = write(YOLO, records, out, context())
    assert (report.written, report.tasks) == (3, 4)
    assert report.notes == [
        ("t/a", "box scores are not written (YOLO labels)"),
        ("t/b", "image name 'cat.png' is taken by task 't/a'; written as 't_b_cat.png'"),
        ("t/a", "a second answer by bob; YOLO holds one answer per image; left out"),
        ("r", f"image {url!r} is not a local file; not copied (its boxes are written)"),
        ("r", "box scores are not written (YOLO labels)"),
        (
            "s",
            "image 'https://example.org/x.jpg' has no width and height and no local file to "
            "read them from; YOLO needs them; left out",
        ),
    ]
    labels = sorted(p.name for p in (out / "labels").iterdir())
    assert labels == ["cat.txt", "dog.txt", "t_b_cat.txt"]
    assert sorted(p.name for p in (out / "images").iterdir()) == ["cat.png", "t_b_cat.png"]
    assert (out / "labels" / "cat.txt").read_text() == "3 0.500000 0.500000 1.000000 1.000000\n"
    assert (out / "labels" / "t_b_cat.txt").read_text() == ""
    # The remote image's labels are written, normalised by the size its task gives.
    assert (out / "labels" / "dog.txt").read_text() == "3 0.250000 0.250000 0.500000 0.500000\n"


def test_the_ultralytics_split_layout_and_names_as_a_list_are_read(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    draw_image(root / "images" / "train" / "a.png", 100, 50)
    draw_image(root / "images" / "val" / "b.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("1 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.2 0.2 0.9\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [cat, dog]\n")
    items = read(YOLO, root, context())
    assert [(i.where, i.task, i.error) for i in items] == [
        ("images/train/a.png", "a", None),
        ("images/val/b.jpg", "b", None),
    ]
    assert items[0].payload == {
        "kind": "boxes",
        "boxes": [
            {"x": 40.0, "y": 15.0, "width": 20.0, "height": 20.0, "label": "dog"},
            {"x": 0.0, "y": 0.0, "width": 20.0, "height": 10.0, "label": "cat", "score": 0.9},
        ],
    }
    assert items[1].payload == {"kind": "boxes", "boxes": []}


def test_bad_label_lines_are_refused_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for name in ("a", "b", "c"):
        draw_image(root / "images" / f"{name}.png", 10, 10)
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text(
        "0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n0 0.5 0.5 -0.1 0.1\n0 0.5 x 0.1 0.1\n0 1 2\n"
    )
    (root / "labels" / "b.txt").write_text("0 0.1 0.2 0.3 0.4 0.5 0.6 0.7\n")
    (root / "labels" / "c.txt").write_text("1 0.5 0.5 1 1\n")
    (root / "images" / "d.png").write_bytes(b"not an image")
    (root / "data.yaml").write_text("names: {0: cat, 1: dog}\n")
    items = read(YOLO, root, context())
    assert [(i.where, i.error) for i in items if i.error] == [
        ("labels/a.txt line 2", "class '7' is not a class of data.yaml (0 to 1)"),
        ("labels/a.txt line 3", "w=-0.1 h=0.1 is a negative size"),
        ("labels/a.txt line 4", "'0.5 x 0.1 0.1' are not all numbers"),
        ("labels/a.txt line 5", "has 3 columns; a box is 'class cx cy w h' (and a score)"),
        ("labels/b.txt line 1", "has 8 columns; a box is 'class cx cy w h' (and a score)"),
        ("images/d.png", "its size can not be read from its header"),
    ]
    # The images with a refused line are left out whole; the good one is read.
    assert [i.task for i in items if not i.error] == ["c"]


def test_folders_that_are_not_yolo_datasets_and_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"has no data\.yaml"):
        read(YOLO, tmp_path, context())
    (tmp_path / "data.yaml").write_text("names: 3\n")
    with pytest.raises(DataError, match="must be a list of labels"):
        read(YOLO, tmp_path, context())
    (tmp_path / "data.yaml").write_text("names: [a]\n")
    with pytest.raises(DataError, match="has no images folder"):
        read(YOLO, tmp_path, context())
    with pytest.raises(ValidationError, match="use copy, link, none"):
        write(YOLO, [], tmp_path / "out", context(images="move"))
