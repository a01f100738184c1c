"""Pascal VOC: our folder read by supervision (1-based inclusive pixels, exact for integer
boxes) and by our own reader; float boxes rounded or kept; hostile and bad XML refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import supervision as sv
from defusedxml.ElementTree import parse  # type: ignore[import-untyped]

from annolab.errors import DataError, ValidationError
from annolab.io.records import Record
from annolab.io.voc import FORMATS
from tests.test_format_coco import (
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

VOC = FORMATS[0]


def test_supervision_reads_integer_boxes_exactly(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src", integer=True, seed=11)
    out = tmp_path / "voc"
    report = write(VOC, records, out, context())
    assert (report.written, report.tasks, report.notes) == (5, 5, [])
    dataset = sv.DetectionDataset.from_pascal_voc(
        images_directory_path=str(out / "JPEGImages"),
        annotations_directory_path=str(out / "Annotations"),
    )
    assert len(dataset) == 5
    for record, (name, *_) in zip(records, SIZES, strict=True):
        assert record.payload is not None
        detections = dataset.annotations[str(out / "JPEGImages" / name)]
        got = detections_by_label(detections, dataset.classes)
        assert_close(got, xyxy_by_label(record.payload["boxes"]), 0)


def test_the_xml_follows_the_devkit(tmp_path: Path) -> None:
    draw_image(tmp_path / "a.png", 40, 30)
    box = {"x": 0, "y": 0, "width": 40, "height": 30, "label": "dog"}
    out = tmp_path / "voc"
    answer = {"kind": "boxes", "boxes": [box]}
    write(VOC, [Record("t", {"image": str(tmp_path / "a.png")}, answer)], out, context())
    root = parse(out / "Annotations" / "a.xml").getroot()
    assert [(e.tag, (e.text or "").strip()) for e in root] == [
        ("folder", "JPEGImages"),
        ("filename", "a.png"),
        ("path", str(tmp_path / "a.png")),
        ("size", ""),
        ("segmented", "0"),
        ("object", ""),
    ]
    assert [root.findtext(f"size/{t}") for t in ("width", "height", "depth")] == ["40", "30", "3"]
    obj = root.find("object")
    fields = ("name", "pose", "truncated", "difficult")
    assert [obj.findtext(t) for t in fields] == ["dog", "Unspecified", "0", "0"]
    # A box over the whole image covers pixels 1..40 and 1..30, as the devkit counts them.
    corners = [obj.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")]
    assert corners == ["1", "1", "40", "30"]


def test_our_reader_round_trips_integer_boxes_exactly(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src", integer=True, seed=5)
    out = tmp_path / "voc"
    write(VOC, records, out, context())
    items = read(VOC, out, context())
    assert [i.error for i in items] == [None] * 5
    by_task = {i.task: i for i in items}
    for record, (name, width, height, _) in zip(records, SIZES, strict=True):
        item = by_task[Path(name).stem]
        image = str(out / "JPEGImages" / name)
        assert item.data == {"image": image, "width": width, "height": height}
        assert sorted_boxes(item.payload) == sorted_boxes(record.payload)
    (single,) = read(VOC, out / "Annotations" / "park.xml", context())
    assert single.payload == by_task["park"].payload


def test_float_boxes_are_rounded_and_noted_or_kept_with_decimals(tmp_path: Path) -> None:
    records = make_records(tmp_path / "src", seed=2)
    rounded = write(VOC, records, tmp_path / "whole", context(images="none"))
    assert rounded.notes == [
        ("img-1", "15 box(es) rounded to whole pixels (VOC's own)"),
        ("img-2", "6 box(es) rounded to whole pixels (VOC's own)"),
        ("img-3", "3 box(es) rounded to whole pixels (VOC's own)"),
        ("img-4", "9 box(es) rounded to whole pixels (VOC's own)"),
    ]
    by_task = {i.task: i for i in read(VOC, tmp_path / "whole", context())}
    for record in records:
        got = sorted_boxes(by_task[Path(record.data["image"]).stem].payload)
        assert len(got) == len(sorted_boxes(record.payload))
        for box in got:
            assert all(box[k] == round(box[k]) for k in ("x", "y", "width", "height"))
    exact = write(VOC, records, tmp_path / "exact", context(whole_pixels=False))
    assert exact.notes == []
    by_task = {i.task: i for i in read(VOC, tmp_path / "exact", context())}
    for record in records:
        got = sorted_boxes(by_task[Path(record.data["image"]).stem].payload)
        want = sorted_boxes(record.payload)
        assert [b["label"] for b in got] == [b["label"] for b in want]
        for g, w in zip(got, want, strict=True):
            assert [g[k] for k in "xy"] == pytest.approx([w[k] for k in "xy"], abs=1e-6)
            assert g["width"] == pytest.approx(w["width"], abs=1e-6)
            assert g["height"] == pytest.approx(w["height"], abs=1e-6)
    with pytest.raises(ValidationError, match="must be true or false"):
        write(VOC, records, tmp_path / "bad", context(whole_pixels="maybe"))


def test_shared_stems_and_second_answers_are_noted(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        draw_image(tmp_path / folder / "cat.png", 20, 10)
    records = [
        Record("t1", {"image": str(tmp_path / "a" / "cat.png")}, None, "ann"),
        Record("t2", {"image": str(tmp_path / "b" / "cat.png")}, None),
        Record("t1", {"image": str(tmp_path / "a" / "cat.png")}, None, "bob"),
        Record("r", {"image": "https://example.org/dog.jpg"}),
    ]
    report = write(VOC, records, tmp_path / "voc", context())
    remote = "image 'https://example.org/dog.jpg'"
    assert report.notes == [
        ("t2", "image name 'cat.png' is taken by task 't1'; written as 't2_cat.png'"),
        ("t1", "a second answer by bob; VOC holds one answer per image; left out"),
        ("r", f"{remote} has no known size; written as 0 x 0"),
        ("r", f"{remote} is not a local file; not copied (its boxes are written)"),
    ]
    items = read(VOC, tmp_path / "voc", context())
    images = tmp_path / "voc" / "JPEGImages"
    assert [(i.task, i.data) for i in items] == [
        ("cat", {"image": str(images / "cat.png"), "width": 20, "height": 10}),
        ("dog", {"image": "https://example.org/dog.jpg"}),
        ("t2_cat", {"image": str(images / "t2_cat.png"), "width": 20, "height": 10}),
    ]


BAD_OBJECTS = """<annotation><filename>x.png</filename>
<size><width>10</width><height>10</height></size>
<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
<object><name>cat</name></object>
<object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
<object><name>cat</name><bndbox><xmin>6</xmin><ymin>1</ymin><xmax>3</xmax><ymax>5</ymax></bndbox></object>
</annotation>"""

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotation><filename>&lol2;</filename></annotation>"""


def test_bad_objects_and_hostile_xml_are_refused_by_place(tmp_path: Path) -> None:
    folder = tmp_path / "voc" / "Annotations"
    folder.mkdir(parents=True)
    (folder / "a.xml").write_text(BAD_OBJECTS)
    (folder / "b.xml").write_text(BOMB)
    (folder / "c.xml").write_text("<annotation><object>")
    (folder / "d.xml").write_text("<other/>")
    (folder / "e.xml").write_text("<annotation><filename>e.png</filename></annotation>")
    items = read(VOC, tmp_path / "voc", context())
    errors = [(i.where, i.error) for i in items if i.error]
    assert errors[:4] == [
        ("Annotations/a.xml object 2", "has no name"),
        ("Annotations/a.xml object 3", "'cat' has no bndbox"),
        ("Annotations/a.xml object 4", "'cat' bndbox needs four numbers xmin, ymin, xmax, ymax"),
        ("Annotations/a.xml object 5", "'cat' bndbox xmax=3 ymax=5 is before xmin=6 ymin=1"),
    ]
    assert errors[4][0] == "Annotations/b.xml"
    assert errors[4][1] is not None and "is not readable VOC XML" in errors[4][1]
    assert "EntitiesForbidden" in errors[4][1]
    assert errors[5][0] == "Annotations/c.xml"
    assert errors[6] == ("Annotations/d.xml", "its root element is not <annotation>")
    (empty,) = [i for i in items if not i.error]
    assert (empty.task, empty.payload) == ("e", {"kind": "boxes", "boxes": []})
    with pytest.raises(DataError, match="has no Annotations folder"):
        read(VOC, tmp_path, context())
