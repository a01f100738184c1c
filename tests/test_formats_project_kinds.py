"""Exports through a project for the detectors' and trainers' formats: boxes imported from
COCO and written as COCO, YOLO and VOC, read back by pycocotools and supervision; the WNUT 2017
dev set (CC-BY 4.0, Derczynski et al. 2017) written as a Hugging Face dataset and a spaCy DocBin
read back by their own loaders."""

from __future__ import annotations

import uuid
from importlib.resources import files
from pathlib import Path

import datasets
import pytest
import spacy
import supervision as sv
from pycocotools.coco import COCO  # type: ignore[import-untyped]
from spacy.tokens import DocBin

import annolab as al
from annolab.datasets import WNUT17_LABELS
from annolab.io.coco import FORMATS as COCO_FORMATS
from annolab.io.records import Record
from tests.test_format_coco import (
    LABELS,
    SIZES,
    assert_close,
    context,
    detections_by_label,
    make_records,
    write,
    xyxy_by_label,
)

pytestmark = pytest.mark.db

WNUT_DEV = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))


@pytest.fixture(scope="module")
def boxes(
    workspace: al.Workspace, tmp_path_factory: pytest.TempPathFactory
) -> tuple[al.Project, list[Record]]:
    """A box project whose five images and integer boxes came in from a COCO file."""
    folder = tmp_path_factory.mktemp("boxes")
    records = make_records(folder / "src", integer=True, seed=3)
    write(COCO_FORMATS[0], records, folder / "in.json", context())
    proj = workspace.create_project(
        f"boxes-{uuid.uuid4().hex[:8]}", labels=list(LABELS), layout="bbox"
    )
    report = proj.import_file(folder / "in.json", image_root=str(folder / "src"))
    assert (report.tasks_added, report.annotations, report.refused) == (5, 5, [])  # one empty
    return proj, records


def by_image(records: list[Record]) -> dict[str, list[tuple[str, float, float, float, float]]]:
    return {
        Path(r.data["image"]).name: xyxy_by_label(r.payload["boxes"] if r.payload else [])
        for r in records
    }


def test_boxes_export_as_coco_that_pycocotools_reads(
    boxes: tuple[al.Project, list[Record]], tmp_path: Path
) -> None:
    proj, records = boxes
    report = proj.export(tmp_path / "out.json", format="coco")
    assert (report.written, report.tasks, report.notes) == (5, 5, [])
    coco = COCO(str(tmp_path / "out.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(LABELS)
    want = by_image(records)
    for image in coco.loadImgs(coco.getImgIds()):
        name = Path(image["file_name"]).name
        assert (name, image["width"], image["height"]) in {(s[0], s[1], s[2]) for s in SIZES}
        found = [
            (coco.loadCats(a["category_id"])[0]["name"], *a["bbox"])
            for a in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        ]
        corners = sorted((lab, x, y, x + w, y + h) for lab, x, y, w, h in found)
        assert corners == want[name]


def test_boxes_export_as_yolo_and_voc_that_supervision_reads(
    boxes: tuple[al.Project, list[Record]], tmp_path: Path
) -> None:
    proj, records = boxes
    want = by_image(records)
    assert proj.export(tmp_path / "yolo", format="yolo").written == 5
    yolo = sv.DetectionDataset.from_yolo(
        images_directory_path=str(tmp_path / "yolo" / "images"),
        annotations_directory_path=str(tmp_path / "yolo" / "labels"),
        data_yaml_path=str(tmp_path / "yolo" / "data.yaml"),
    )
    assert proj.export(tmp_path / "voc", format="voc").written == 5
    voc = sv.DetectionDataset.from_pascal_voc(
        images_directory_path=str(tmp_path / "voc" / "JPEGImages"),
        annotations_directory_path=str(tmp_path / "voc" / "Annotations"),
    )
    assert yolo.classes == list(LABELS)
    for dataset, tolerance in ((yolo, 1e-3), (voc, 0)):
        assert len(dataset) == 5
        for path, detections in dataset.annotations.items():
            got = detections_by_label(detections, dataset.classes)
            assert_close(got, want[Path(path).name], tolerance)


@pytest.fixture(scope="module")
def wnut(workspace: al.Workspace) -> al.Project:
    proj = workspace.create_project(f"wnut-{uuid.uuid4().hex[:8]}", labels=WNUT17_LABELS)
    assert proj.import_file(WNUT_DEV).annotations == 1009
    return proj


def conll_entities() -> int:
    lines = WNUT_DEV.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.endswith(tuple(f"\tB-{x}" for x in WNUT17_LABELS)))


def test_wnut_exports_as_a_hugging_face_dataset_with_every_entity(
    wnut: al.Project, tmp_path: Path
) -> None:
    report = wnut.export(tmp_path / "hf", format="hf")
    assert (report.written, report.notes) == (1009, [])
    dataset = datasets.load_from_disk(str(tmp_path / "hf"))
    names = dataset.features["ner_tags"].feature.names
    begins = sum(names[t].startswith("B-") for tags in dataset["ner_tags"] for t in tags)
    assert (len(dataset), begins) == (1009, conll_entities())
    assert sum(len(spans) for spans in dataset["spans"]) == conll_entities()


def test_wnut_exports_as_a_spacy_docbin_with_every_entity(wnut: al.Project, tmp_path: Path) -> None:
    assert wnut.export(tmp_path / "dev.spacy").written == 1009
    docs = list(DocBin().from_disk(tmp_path / "dev.spacy").get_docs(spacy.blank("en").vocab))
    assert len(docs) == 1009
    assert sum(len(doc.ents) for doc in docs) == conll_entities() == 836
