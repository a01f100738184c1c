"""Agreement on judgements of model outputs: rankings, pairwise preferences and rubric scores.

A ranking value is the ids of an item's outputs, best first: a list (or tuple) of ids, a
``RankingPayload``, a payload dict ``{"kind": "ranking", "order": [...]}``, or the JSON text of
either (as ``Project.annotations()`` returns payloads). Pairwise and rubric values are their
payloads (models, dicts or JSON). Null is a missing value.

- ``kendall_tau``: the mean Kendall's tau-b between two annotators' rankings of an item;
- ``ranking_alpha``: Krippendorff's alpha (ordinal) of the rank each annotator gave each output;
- ``ranking_agreement``, ``pairwise_agreement``, ``rubric_agreement``: the figures
  ``agreement_frame`` reports for each kind, as a frame with one row per figure.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import require_columns, to_polars
from annolab.quality._payloads import by_item, sorted_names
from annolab.quality._result import AgreementResult
from annolab.quality.categorical import percent_agreement
from annolab.quality.krippendorff import krippendorff_alpha
from annolab.schema import PairwisePayload, RubricPayload
from annolab.schema.payloads import SchemaModel

__all__ = [
    "FIGURES_SCHEMA",
    "kendall_tau",
    "pairwise_agreement",
    "ranking_agreement",
    "ranking_alpha",
    "rubric_agreement",
]

NO_PAIRS = (
    "no item has two rankings with an order to compare (tau-b needs two or more outputs "
    "ranked apart by each annotator)"
)

# The columns of the per-kind figure frames (agreement_frame adds ``match``).
FIGURES_SCHEMA: dict[str, Any] = {
    "metric": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "n_items": pl.Int64,
    "n_annotators": pl.Int64,
    "reason": pl.String,
}

Rankings = dict[Any, dict[Any, list[str]]]


def _decoded(raw: object, where: str) -> object:
    if isinstance(raw, SchemaModel):
        return raw.to_dict()
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError as exc:
            msg = f"{where}: the value is text but not JSON ({exc}); expected a payload"
            raise QualityError(msg) from exc
    if isinstance(raw, pl.Series):
        return raw.to_list()
    return raw


def _order(raw: object, where: str) -> list[str]:
    """The ids of one ranking, best first, checked (each once, strings or whole numbers)."""
    found = _decoded(raw, where)
    if isinstance(found, Mapping):
        if found.get("kind", "ranking") != "ranking" or "order" not in found:
            msg = f"{where}: {_cut(found)} is not a ranking; expected {{'kind': 'ranking', ...}}"
            raise QualityError(msg)
        found = found["order"]
    if not isinstance(found, list | tuple):
        msg = f"{where}: expected a ranking (a list of output ids, best first), got {_cut(found)}"
        raise QualityError(msg)
    order: list[str] = []
    for index, id_ in enumerate(found):
        if isinstance(id_, bool) or not isinstance(id_, str | int):
            msg = f"{where}: order[{index}]={id_!r} is not an output id (a string)"
            raise QualityError(msg)
        if str(id_) in order:
            msg = f"{where}: order[{index}]={id_!r} is ranked twice; a ranking places each once"
            raise QualityError(msg)
        order.append(str(id_))
    return order


def _payload(raw: object, model: type[SchemaModel], where: str) -> dict[str, Any]:
    found = _decoded(raw, where)
    kind = model.model_fields["kind"].default
    if not isinstance(found, Mapping) or found.get("kind", kind) != kind:
        msg = f"{where}: {_cut(found)} is not a {kind} payload"
        raise QualityError(msg)
    return dict(found)


def _cut(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _rows(frame: object, item: str, annotator: str, value: str) -> list[tuple[Any, Any, Any]]:
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    return [
        row
        for row in df.select(item, annotator, value).iter_rows()
        if row[2] is not None and not (isinstance(row[2], float) and math.isnan(row[2]))
    ]


def _rankings(frame: object, item: str, annotator: str, value: str, metric: str) -> Rankings:
    rows = _rows(frame, item, annotator, value)
    read = [(it, who, _order(raw, f"item {it!r}, annotator {who!r}")) for it, who, raw in rows]
    return by_item(read, metric)


def _tau_b(first: list[str], second: list[str]) -> float:
    """Kendall's tau-b of two rankings over the outputs either ranked; an output one of them
    left out is tied last in that one. NaN when either ranking ties every output."""
    outputs = sorted(set(first) | set(second))
    x = [first.index(o) if o in first else len(first) for o in outputs]
    y = [second.index(o) if o in second else len(second) for o in outputs]
    score = 0
    tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(outputs)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        tied_x += dx == 0
        tied_y += dy == 0
        score += (dx > 0) - (dx < 0) if dy > 0 else (dx < 0) - (dx > 0) if dy < 0 else 0
    pairs = len(outputs) * (len(outputs) - 1) // 2
    denominator = math.sqrt((pairs - tied_x) * (pairs - tied_y))
    return score / denominator if denominator > 0 else math.nan


def kendall_tau(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> AgreementResult:
    """The mean Kendall's tau-b between two annotators' rankings of the same item.

    For each item, tau-b of every pair of its annotators (1: the same order, -1: reversed,
    over the outputs either ranked, an output one left out tied last in theirs); then the
    mean over the pairs of the item, and the mean over items (items weigh the same whatever
    their number of annotators, as in ``percent_agreement``). A pair where either ranking
    orders nothing (a single output) is left out. NaN with a reason when no pair is left.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": ["q1", "q1", "q2", "q2"],
    ...     "annotator": ["ann", "bob"] * 2,
    ...     "value": [["a", "b", "c"], ["a", "c", "b"], ["x", "y"], ["x", "y"]],
    ... })
    >>> kendall_tau(frame)
    AgreementResult(value=0.6667, n_items=2, n_annotators=2)
    """
    grouped = _rankings(frame, item, annotator, value, "kendall_tau")
    annotators = {who for mine in grouped.values() for who in mine}
    per_item: list[float] = []
    for mine in grouped.values():
        names = sorted_names(mine)
        taus = [_tau_b(mine[a], mine[b]) for a, b in itertools.combinations(names, 2)]
        defined = [t for t in taus if not math.isnan(t)]
        if defined:
            per_item.append(math.fsum(defined) / len(defined))
    if not per_item:
        return AgreementResult(math.nan, 0, len(annotators), NO_PAIRS)
    return AgreementResult(math.fsum(per_item) / len(per_item), len(per_item), len(annotators))


def _rank_frame(grouped: Rankings) -> pl.DataFrame:
    """One row per (item, output, annotator): ``unit`` (a code of the item and output),
    ``item`` (a code of the item), ``output``, ``annotator`` and ``rank`` (1 for the best)."""
    units: dict[tuple[int, str], int] = {}
    rows: list[tuple[int, int, str, str, int]] = []
    # Items and annotators may be of any type: codes keep them apart without comparing them.
    for code, mine in enumerate(grouped.values()):
        for who, order in mine.items():
            for place, output in enumerate(order, start=1):
                unit = units.setdefault((code, output), len(units))
                rows.append((unit, code, output, repr(who), place))
    schema = {
        "unit": pl.Int64,
        "item": pl.Int64,
        "output": pl.String,
        "annotator": pl.String,
        "rank": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def ranking_alpha(
    frame: object,
    *,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
    ci: float | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> AgreementResult:
    """Krippendorff's alpha (ordinal) of the ranks given: each (item, output) is a unit, and
    the place an annotator gave the output (1 for the best) is their value for it. An output an
    annotator did not rank is a missing value. ``ci``, ``resamples`` and ``seed`` are those of
    ``krippendorff_alpha`` (its bootstrap draws units: (item, output) pairs). ``n_items``
    counts those units.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": ["q1", "q1", "q2", "q2"],
    ...     "annotator": ["ann", "bob"] * 2,
    ...     "value": [["a", "b", "c"], ["a", "c", "b"], ["x", "y"], ["x", "y"]],
    ... })
    >>> ranking_alpha(frame)
    AgreementResult(value=0.775, n_items=5, n_annotators=2)
    """
    ranks = _rank_frame(_rankings(frame, item, annotator, value, "ranking_alpha"))
    return krippendorff_alpha(
        ranks,
        level="ordinal",
        item="unit",
        value="rank",
        ci=ci,
        resamples=resamples,
        seed=seed,
    )


def _figure(metric: str, label: str | None, result: AgreementResult) -> dict[str, Any]:
    return {
        "metric": metric,
        "label": label,
        "value": result.value,
        "n_items": result.n_items,
        "n_annotators": result.n_annotators,
        "reason": result.reason,
    }


def ranking_agreement(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> pl.DataFrame:
    """The figures of rankings, one row each (columns ``FIGURES_SCHEMA``): ``kendall_tau``;
    ``krippendorff_alpha`` (ordinal) over every (item, output) rank; ``percent_agreement`` of
    whole orders (the same ranking, or not); and, per output id (``label``) ranked on two or
    more items, Krippendorff's alpha (ordinal) of the rank that output got on each item: for
    outputs named alike across items, such as by the model that wrote them."""
    grouped = _rankings(frame, item, annotator, value, "ranking_agreement")
    ranks = _rank_frame(grouped)
    whole = pl.DataFrame(
        [
            (code, repr(who), json.dumps(order))
            for code, mine in enumerate(grouped.values())
            for who, order in mine.items()
        ],
        schema={"item": pl.Int64, "annotator": pl.String, "value": pl.String},
        orient="row",
    )
    figures = [
        _figure(
            "kendall_tau", None, kendall_tau(frame, item=item, annotator=annotator, value=value)
        ),
        _figure(
            "krippendorff_alpha",
            None,
            krippendorff_alpha(ranks, level="ordinal", item="unit", value="rank"),
        ),
        _figure("percent_agreement", None, percent_agreement(whole)),
    ]
    spread = ranks.group_by("output").agg(pl.col("item").n_unique().alias("items"))
    for output in sorted(spread.filter(pl.col("items") >= 2)["output"].to_list()):
        alpha = krippendorff_alpha(
            ranks.filter(pl.col("output") == output), level="ordinal", value="rank"
        )
        figures.append(_figure("krippendorff_alpha", output, alpha))
    return pl.DataFrame(figures, schema=FIGURES_SCHEMA, orient="row")


def _payload_frame(
    frame: object,
    *,
    item: str,
    annotator: str,
    value: str,
    model: type[SchemaModel],
    read: Callable[[dict[str, Any]], dict[str, Any]],
) -> pl.DataFrame:
    """One row per (item, annotator, key) of what ``read`` takes out of each payload."""
    rows = _rows(frame, item, annotator, value)
    grouped = by_item(
        [
            (it, who, _payload(raw, model, f"item {it!r}, annotator {who!r}"))
            for it, who, raw in rows
        ],
        f"{model.model_fields['kind'].default}_agreement",
    )
    out = [
        (repr(it), repr(who), key, found)
        for it, mine in grouped.items()
        for who, payload in mine.items()
        for key, found in read(payload).items()
    ]
    schema = {"item": pl.String, "annotator": pl.String, "key": pl.String, "value": pl.Object}
    return pl.DataFrame(out, schema=schema, orient="row")


def _by_key(table: pl.DataFrame, key: str, dtype: type[pl.DataType]) -> pl.DataFrame:
    picked = table.filter(pl.col("key") == key)
    return pl.DataFrame(
        {
            "item": picked["item"],
            "annotator": picked["annotator"],
            "value": pl.Series(picked["value"].to_list(), dtype=dtype),
        }
    )


def pairwise_agreement(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> pl.DataFrame:
    """The figures of pairwise preferences (columns ``FIGURES_SCHEMA``): ``percent_agreement``
    and ``krippendorff_alpha`` (nominal) of the verdict (a, b, tie or both_bad), then per
    criterion (``label``) Krippendorff's alpha (nominal) of its verdict. Rationales are free
    text and are not compared.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"item": [1, 1, 2, 2], "annotator": ["ann", "bob"] * 2,
    ...                       "value": [{"kind": "pairwise", "choice": c} for c in "aabb"]})
    >>> pairwise_agreement(frame)["value"].to_list()
    [1.0, 1.0]
    """

    def read(payload: dict[str, Any]) -> dict[str, Any]:
        criteria = {f"criterion:{k}": v for k, v in (payload.get("criteria") or {}).items()}
        return {"choice": payload.get("choice"), **criteria}

    table = _payload_frame(
        frame, item=item, annotator=annotator, value=value, model=PairwisePayload, read=read
    )
    choice = _by_key(table, "choice", pl.String)
    figures = [
        _figure("percent_agreement", None, percent_agreement(choice)),
        _figure("krippendorff_alpha", None, krippendorff_alpha(choice)),
    ]
    for key in sorted(k for k in table["key"].unique().to_list() if k.startswith("criterion:")):
        criterion = key.removeprefix("criterion:")
        figures.append(
            _figure(
                "krippendorff_alpha", criterion, krippendorff_alpha(_by_key(table, key, pl.String))
            )
        )
    return pl.DataFrame(figures, schema=FIGURES_SCHEMA, orient="row")


def rubric_agreement(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> pl.DataFrame:
    """The figures of rubric scores (columns ``FIGURES_SCHEMA``): per criterion (``label``)
    Krippendorff's alpha (ordinal) of its scores. Comments are free text and are not compared.

    >>> import polars as pl
    >>> scores = [{"accuracy": 4, "tone": 2}, {"accuracy": 4, "tone": 3},
    ...           {"accuracy": 1, "tone": 5}, {"accuracy": 2, "tone": 5}]
    >>> frame = pl.DataFrame({"item": [1, 1, 2, 2], "annotator": ["ann", "bob"] * 2,
    ...                       "value": [{"kind": "rubric", "scores": s} for s in scores]})
    >>> rubric_agreement(frame).select("label", pl.col("value").round(4)).rows()
    [('accuracy', 0.8333), ('tone', 0.8333)]
    """
    table = _payload_frame(
        frame,
        item=item,
        annotator=annotator,
        value=value,
        model=RubricPayload,
        read=lambda p: dict(p.get("scores") or {}),
    )
    figures = [
        _figure(
            "krippendorff_alpha",
            criterion,
            krippendorff_alpha(_by_key(table, criterion, pl.Int64), level="ordinal"),
        )
        for criterion in sorted(table["key"].unique().to_list())
    ]
    return pl.DataFrame(figures, schema=FIGURES_SCHEMA, orient="row")
