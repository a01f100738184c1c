"""Boxes: labelled rectangles in an image's natural pixels.

Two people never draw the same box to the pixel, so boxes vote by overlap: boxes of one label
with IoU >= 0.5 are one box, drawn where their (weighted) mean puts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.errors import ValidationError
from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    SURE,
    Unit,
    distinct_merge,
    json_object,
    label_schema,
    label_studio_region,
    no_label_units,
    read_field,
)
from annolab.kinds._imports import region_value, score_of, single_label
from annolab.schema import BoxesPayload, LabelSchema

_FIELDS = ("x", "y", "width", "height", "label")
MATCH = 0.5  # the IoU at which two boxes of one label are the same box


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.bbox import BBox

    return BBox(read_field(question, data) or "", labels=labels)


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [
        f"{b['label']} at ({b['x']:g}, {b['y']:g}) {b['width']:g} by {b['height']:g}"
        for b in payload.get("boxes") or []
    ]


def _size(target: Target) -> tuple[int, int]:
    if not target.width or not target.height:
        rule = "is needed to write boxes: Label Studio and Prodigy place them on the image's size"
        raise ValidationError(f"{target.field}.size", (target.width, target.height), rule)
    return target.width, target.height


def to_label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """One ``rectanglelabels`` region per box, in percent of the image (Label Studio's unit)."""
    width, height = _size(target)
    regions = []
    for b in payload.get("boxes") or []:
        value = {
            "x": 100 * b["x"] / width,
            "y": 100 * b["y"] / height,
            "width": 100 * b["width"] / width,
            "height": 100 * b["height"] / height,
            "rotation": 0,
            "rectanglelabels": [b["label"]],
        }
        region = label_studio_region(target, "rectanglelabels", value)
        region.update(original_width=width, original_height=height, image_rotation=0)
        if b.get("score") is not None:
            region["score"] = b["score"]
        regions.append(region)
    return regions


def to_prodigy(payload: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """Prodigy's ``image_manual`` fields: the image size and a ``rect`` span per box, in
    pixels, with its corner points clockwise from the top left."""
    width, height = _size(target)
    spans = []
    for b in payload.get("boxes") or []:
        x, y, w, h = b["x"], b["y"], b["width"], b["height"]
        spans.append(
            {
                "label": b["label"],
                "type": "rect",
                "x": x,
                "y": y,
                "width": w,
                "height": h,
                "center": [x + w / 2, y + h / 2],
                "points": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
            }
        )
    return {"width": width, "height": height, "spans": spans}


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    from annolab.widgets.bbox import BBox

    source = read_field(question, data)
    if not source:
        return None
    boxes = payload.get("boxes") or []
    return BBox(source, labels=labels, value=boxes, read_only=True, disputed=list(disputed))


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """A box is disputed when some other answer has no box of its label with IoU >= 0.5."""
    found = [units(p) for p in payloads]
    return [
        [
            i
            for i, box in enumerate(mine)
            if not all(
                any(o[4] == box[4] and iou(o, box) >= MATCH for o in other)
                for k, other in enumerate(found)
                if k != j
            )
        ]
        for j, mine in enumerate(found)
    ]


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    number = {"type": "number", "minimum": 0}
    box = json_object(
        {
            "label": label_schema(labels),
            "x": number,
            "y": number,
            "width": number,
            "height": number,
        },
        SURE,
    )
    return json_object({"boxes": {"type": "array", "items": box}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    boxes = answer.get("boxes")
    return {
        "kind": "boxes",
        "boxes": [_box(b) for b in boxes] if isinstance(boxes, list) else boxes,
    }


def _box(box: object) -> object:
    if not isinstance(box, dict):
        return box
    # Models write whole pixels as ints; the payload wants floats.
    return {
        "score" if k == "confidence" else k: float(v)
        if k != "label" and isinstance(v, int) and not isinstance(v, bool)
        else v
        for k, v in box.items()
    }


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"boxes": list(payload.get("boxes") or [])}


def units(payload: Mapping[str, Any]) -> list[Unit]:
    return [tuple(b.get(f) for f in _FIELDS) for b in payload["boxes"]]


def iou(a: Unit, b: Unit) -> float:
    """Intersection over union of two ``(x, y, width, height, label)`` boxes."""
    ax, ay, aw, ah, _ = a
    bx, by, bw, bh, _ = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return float(inter / (aw * ah + bw * bh - inter))


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any]:
    """Boxes that more than ``needed`` weight drew, each at the weighted mean of its votes.

    Each annotator's box joins the best-overlapping group of the same label (IoU >= 0.5 with the
    group's mean box) that has no box of theirs yet, or starts a new group.
    """
    groups: list[dict[int, Unit]] = []  # annotator -> (x, y, width, height, label)
    for who, payload in enumerate(payloads):
        for box in units(payload):
            scored = [
                (iou(_mean(group, weights), box), n)
                for n, group in enumerate(groups)
                if who not in group and next(iter(group.values()))[4] == box[4]
            ]
            best = max(scored, default=(0.0, -1))
            if best[0] >= MATCH:
                groups[best[1]][who] = box
            else:
                groups.append({who: box})
    kept = [_mean(group, weights) for group in groups if sum(weights[w] for w in group) > needed]
    boxes = [dict(zip(_FIELDS, box, strict=True)) for box in sorted(kept, key=lambda b: b[:4])]
    return {"kind": "boxes", "boxes": boxes}


def _mean(group: dict[int, Unit], weights: Sequence[float]) -> Unit:
    total = sum(weights[w] for w in group)
    label = next(iter(group.values()))[4]
    coords = [
        round(sum(weights[w] * float(box[k]) for w, box in group.items()) / total, 2)
        for k in range(4)
    ]
    return (*coords, label)


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, value, "must be a number")
    return value


def _pixels(value: float) -> float:
    # Percent and back is not exact: 100 * 4 / 40 * 40 / 100 may be 4.000000000000001.
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """``rectanglelabels`` regions (percent of ``original_width`` and ``original_height``) as
    boxes in natural pixels; a region without the image's size, or rotated, is refused."""
    boxes = []
    for i, region in enumerate(regions):
        value = region_value(regions, i)
        width, height = region.get("original_width"), region.get("original_height")
        if not (isinstance(width, (int, float)) and width > 0) or not (
            isinstance(height, (int, float)) and height > 0
        ):
            rule = "is needed to place a box in pixels: the region gives no image size"
            raise ValidationError(f"regions[{i}].original_width", width, rule)
        if value.get("rotation") not in (None, 0, 0.0):
            rule = "must be 0: annolab's boxes are not rotated"
            raise ValidationError(f"regions[{i}].value.rotation", value.get("rotation"), rule)
        at = f"regions[{i}].value"
        x, y = _number(value.get("x"), f"{at}.x"), _number(value.get("y"), f"{at}.y")
        w, h = (
            _number(value.get("width"), f"{at}.width"),
            _number(value.get("height"), f"{at}.height"),
        )
        label = single_label(value.get("rectanglelabels"), f"{at}.rectanglelabels")
        box = {
            "x": _pixels(x * width / 100),
            "y": _pixels(y * height / 100),
            "width": _pixels(w * width / 100),
            "height": _pixels(h * height / 100),
            "label": label,
        }
        boxes.append({**box, **score_of(region)})
    return {"kind": "boxes", "boxes": boxes}


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """``image_manual`` spans as boxes in pixels: ``x``/``y``/``width``/``height`` when given,
    else the rectangle of the four ``points`` of a ``rect``. None without ``spans``."""
    found = line.get("spans")
    if found is None:
        return None
    if not isinstance(found, list):
        raise ValidationError("spans", found, "must be a list")
    boxes = []
    for i, span in enumerate(found):
        if not isinstance(span, Mapping):
            raise ValidationError(f"spans[{i}]", span, "must be an object")
        label = span.get("label")
        if not isinstance(label, str):
            raise ValidationError(f"spans[{i}].label", label, "must be a label name")
        if all(k in span for k in ("x", "y", "width", "height")):
            x, y = _number(span["x"], f"spans[{i}].x"), _number(span["y"], f"spans[{i}].y")
            w = _number(span["width"], f"spans[{i}].width")
            h = _number(span["height"], f"spans[{i}].height")
        else:
            points = span.get("points")
            corners: list[Any] = points if isinstance(points, list) and len(points) == 4 else []
            if not all(isinstance(p, list) and len(p) == 2 for p in corners):
                corners = []
            xs = sorted({_number(p[0], f"spans[{i}].points") for p in corners})
            ys = sorted({_number(p[1], f"spans[{i}].points") for p in corners})
            if len(xs) != 2 or len(ys) != 2 or span.get("type", "rect") != "rect":
                rule = "must be the four corners of a rectangle (a polygon is not a box)"
                raise ValidationError(f"spans[{i}].points", points, rule)
            x, y, w, h = xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0]
        boxes.append({"x": x, "y": y, "width": w, "height": h, "label": label})
    return {"kind": "boxes", "boxes": boxes}


KIND = register(
    Kind(
        name="boxes",
        payload=BoxesPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=units,
        consensus=consensus,
        label_units=no_label_units,
        measure="boxes",
        media="image",
        title="Boxes",
        parts=parts,
        disputed=disputed,
        merge=distinct_merge("boxes"),
        view=view,
        exports={"label-studio": to_label_studio, "prodigy": to_prodigy},
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
