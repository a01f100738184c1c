"""``workspace.personas.evaluate([...], project)``: persona versions side by side on gold
answers, so a refinement is kept only with evidence.

Each version annotates the gold items as a frame: nothing is stored in the project, and the
response cache is shared with project runs (same labels, guidelines and item texts).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from annolab.errors import DataError, ValidationError
from annolab.personas.answers import comparable, metric_kind
from annolab.personas.schemas import task_kind
from annolab.quality import gold_accuracy, span_agreement

if TYPE_CHECKING:
    from annolab.personas.persona import Persona
    from annolab.project import Project

EVALUATION_SCHEMA: dict[str, Any] = {
    "rank": pl.Int64,
    "persona": pl.String,
    "version": pl.Int32,
    "items": pl.Int64,
    "answered": pl.Int64,
    "exact": pl.Int64,
    "accuracy": pl.Float64,
    "score": pl.Float64,
    "span_f1": pl.Float64,
}


def gold_answers(project: Project, gold: Any) -> pl.DataFrame:
    """``external_id, text, value`` (canonical payload JSON) of the gold items.

    ``gold`` is None (the project's annotations of kind 'gold'), a named gold version
    ``(set, version)`` of ``project.gold`` (``version`` None: the set's working version), or a
    frame with ``id`` or ``external_id`` and a ``payload`` (dict or JSON) or ``spans`` column.
    """
    tasks = project.tasks().select("external_id", "text")
    if isinstance(gold, tuple):
        if len(gold) != 2:
            rule = "must be a (set, version) pair, e.g. ('default', 2), or a frame"
            raise ValidationError("gold", gold, rule)
        named = gold
        gold = project.gold.answers(named[0], named[1])
        if gold.height == 0:
            raise ValidationError("gold", named, "names a gold version with no entries")
    if gold is None:
        rows = (
            project.annotations(raw=True)
            .filter(pl.col("kind") == "gold")
            .sort("updated_at")
            .unique("external_id", keep="last", maintain_order=True)
            .select("external_id", "payload")
        )
        if rows.height == 0:
            msg = (
                f"project {project.name!r} has no gold annotations: add some with "
                "project.add_annotation(task, payload, kind='gold'), or pass gold=frame"
            )
            raise DataError(msg)
    else:
        frame = gold if isinstance(gold, pl.DataFrame) else pl.DataFrame(gold)
        key = "external_id" if "external_id" in frame.columns else "id"
        if key not in frame.columns or not {"payload", "spans"} & set(frame.columns):
            msg = (
                "gold must have an 'id' (or 'external_id') column and a 'payload' or 'spans' "
                f"column; its columns are {', '.join(frame.columns)}"
            )
            raise DataError(msg)
        if "payload" in frame.columns:
            payloads = [
                p if isinstance(p, str) else json.dumps(p) for p in frame["payload"].to_list()
            ]
        else:
            payloads = [json.dumps({"kind": "spans", "spans": s}) for s in frame["spans"].to_list()]
        rows = pl.DataFrame(
            {"external_id": frame[key].cast(pl.String), "payload": payloads},
            schema={"external_id": pl.String, "payload": pl.String},
        )
    joined = rows.join(tasks, on="external_id", how="left", maintain_order="left")
    missing = joined.filter(pl.col("text").is_null())
    if missing.height:
        rule = f"is not a task of project {project.name!r}"
        raise ValidationError("gold.id", missing["external_id"][0], rule)
    return joined.select(
        "external_id",
        "text",
        pl.col("payload").map_elements(comparable, return_dtype=pl.String).alias("value"),
    )


def evaluate(
    versions: Sequence[Persona], project: Project, *, gold: Any = None, **annotate: Any
) -> pl.DataFrame:
    """Score each persona version on the gold items, best first.

    ``gold``: a named gold version ``(set, version)``, e.g. ``("default", 2)``, scores
    against ``project.gold``'s entries of that version; None reads the project's annotations
    of kind 'gold'; a frame gives the answers directly (see ``gold_answers``).

    ``items``: gold items; ``answered``: those the version answered; ``exact``: answers equal to
    gold; ``accuracy`` = exact / items; ``score``: mean credit over all gold items (overlap F1
    for spans, 1 or 0 for categories; an unanswered item counts 0); ``span_f1``: overlap F1 of
    all spans pooled (spans only). Other keyword arguments go to ``Persona.annotate``.
    """
    if not versions:
        raise ValidationError("versions", list(versions), "must name at least one persona version")
    return evaluate_on(versions, project, gold_answers(project, gold), **annotate)


def evaluate_on(
    versions: Sequence[Persona], project: Project, answers: pl.DataFrame, **annotate: Any
) -> pl.DataFrame:
    """``evaluate`` on gold ``answers`` as ``gold_answers`` gives them (a chosen subset, say)."""
    frame = answers.select(pl.col("external_id").alias("id"), "text")
    kind = task_kind(project._row.layout)
    rows = []
    for persona in versions:
        summary = persona.annotate(
            frame,
            labels=project._row.label_schema,
            task=kind,
            guidelines=project._row.guidelines,
            **annotate,
        )
        rows.append(_score(persona, summary.results, answers))
    table = pl.DataFrame(rows, schema={k: v for k, v in EVALUATION_SCHEMA.items() if k != "rank"})
    ranked = table.sort(["score", "version"], descending=[True, False], maintain_order=True)
    return ranked.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def _score(persona: Persona, results: pl.DataFrame, answers: pl.DataFrame) -> dict[str, Any]:
    label = f"{persona.name} v{persona.version}"
    given = results.filter(pl.col("payload").is_not_null()).select(
        pl.col("item"),
        pl.lit(label).alias("annotator"),
        pl.col("payload").map_elements(comparable, return_dtype=pl.String).alias("value"),
    )
    reference = answers.select(pl.col("external_id").alias("item"), "value")
    n = reference.height
    kind = metric_kind(reference["value"][0])
    exact, credit, f1 = 0, 0.0, None
    if given.height:
        scored = gold_accuracy(given, reference, kind=kind).row(0, named=True)
        exact = int(scored["exact"])
        credit = float(scored["score"]) * int(scored["items"])
    if kind == "spans":
        pairs = pl.concat(
            [reference.with_columns(pl.lit(" gold").alias("annotator")), given], how="diagonal"
        )
        table = span_agreement(pairs.select("item", "annotator", "value"), tokens="chars")
        overall = table.filter((pl.col("match") == "overlap") & pl.col("label").is_null())
        # Unanswered gold items count as spans missed: add their gold spans to the totals.
        missed = sum(
            len(json.loads(v)["spans"])
            for v in reference.join(given, on="item", how="anti")["value"]
        )
        matched, n_a, n_b = overall.select("matched", "n_a", "n_b").row(0)
        total = n_a + n_b + missed
        f1 = 2 * matched / total if total else None
    return {
        "persona": persona.name,
        "version": persona.version,
        "items": n,
        "answered": given.height,
        "exact": exact,
        "accuracy": exact / n if n else None,
        "score": credit / n if n else None,
        "span_f1": f1,
    }
