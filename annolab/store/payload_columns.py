"""Payloads unnested into typed columns, so ``proj.annotations()`` reads as a table: spans as a
list of ``{start, end, label, text}``, a choice as its label, boxes as a list of structs, a
rating as a number. The JSON ``payload`` column stays beside them.

A column is added for each payload kind the frame holds or the project's layout takes (so an
empty project's frame has the columns its answers will fill); rows of another kind hold null.
A form's answers stay in ``payload``: its questions differ per layout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import polars as pl

_SPAN = pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String, "text": pl.String})
_ERROR_SPAN = pl.Struct(
    {
        "start": pl.Int64,
        "end": pl.Int64,
        "label": pl.String,
        "text": pl.String,
        "comment": pl.String,
    }
)
_BOX = pl.Struct(
    {
        "x": pl.Float64,
        "y": pl.Float64,
        "width": pl.Float64,
        "height": pl.Float64,
        "label": pl.String,
    }
)
_SCORE = pl.Struct({"criterion": pl.String, "score": pl.Int64})


def _spans(data: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [
        {
            "start": s["start"],
            "end": s["end"],
            "label": s["label"],
            "text": text[s["start"] : s["end"]],
        }
        for s in data.get("spans", [])
    ]


def _error_spans(data: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [
        {**span, "comment": s.get("comment", "")}
        for span, s in zip(_spans(data, text), data.get("spans", []), strict=True)
    ]


def _boxes(data: dict[str, Any], text: str) -> list[dict[str, Any]]:
    keys = ("x", "y", "width", "height", "label")
    return [{k: b[k] for k in keys} for b in data.get("boxes", [])]


# payload kind -> (column, dtype, value of a payload of that kind given the task's text)
COLUMNS: dict[str, tuple[str, pl.DataType, Callable[[dict[str, Any], str], Any]]] = {
    "spans": ("spans", pl.List(_SPAN), _spans),
    "errors": ("error_spans", pl.List(_ERROR_SPAN), _error_spans),
    "choice": ("label", pl.String(), lambda d, _: d.get("label")),
    "choices": ("labels", pl.List(pl.String), lambda d, _: list(d.get("labels", []))),
    "boxes": ("boxes", pl.List(_BOX), _boxes),
    "rating": ("rating", pl.Int64(), lambda d, _: d.get("value")),
    "text": ("answer_text", pl.String(), lambda d, _: d.get("text")),
    "correction": ("answer_text", pl.String(), lambda d, _: d.get("text")),
    "pairwise": ("verdict", pl.String(), lambda d, _: d.get("choice")),
    "ranking": ("order", pl.List(pl.String), lambda d, _: list(d.get("order", []))),
    "rubric": (
        "scores",
        pl.List(_SCORE),
        lambda d, _: [{"criterion": k, "score": v} for k, v in d.get("scores", {}).items()],
    ),
}


def unnest_payloads(
    frame: pl.DataFrame, texts: Sequence[str | None], kinds: Iterable[str] = ()
) -> pl.DataFrame:
    """``frame`` (with a JSON ``payload`` column) with ``answer_kind`` and one column per
    payload kind present or in ``kinds``; ``texts`` are the rows' task texts, for span text.

    >>> frame = pl.DataFrame({"payload": ['{"kind": "choice", "label": "pos"}']})
    >>> unnest_payloads(frame, [""]).select("answer_kind", "label").row(0)
    ('choice', 'pos')
    """
    decoded = [json.loads(p) if p is not None else {} for p in frame["payload"].to_list()]
    present = [d.get("kind") for d in decoded]
    wanted = {k for k in (*present, *kinds) if k in COLUMNS}
    columns: dict[str, pl.Series] = {
        "answer_kind": pl.Series("answer_kind", present, dtype=pl.String)
    }
    for kind, (name, dtype, value) in COLUMNS.items():  # a fixed order, whatever came first
        if kind not in wanted:
            continue
        values = [
            value(d, t or "") if d.get("kind") == kind else None
            for d, t in zip(decoded, texts, strict=True)
        ]
        if name in columns:  # text and correction share answer_text
            values = [v if v is not None else o for v, o in zip(values, columns[name], strict=True)]
        columns[name] = pl.Series(name, values, dtype=dtype)
    index = frame.columns.index("payload") + 1
    before, after = frame.columns[:index], frame.columns[index:]
    return pl.concat(
        [frame.select(before), pl.DataFrame(list(columns.values())), frame.select(after)],
        how="horizontal",
    )
