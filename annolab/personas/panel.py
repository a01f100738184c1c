"""Persona panels: several personas annotate the same items and are measured like a team.

Agreement among the personas and between each persona and the people (or gold) who annotated
the same items comes from ``annolab.quality``. Items the panel disagrees on, or that some of its
personas could not answer, go to the front of the human queue, with the reason in the event log.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from annolab.errors import ValidationError
from annolab.personas.answers import comparable, metric_kind
from annolab.personas.summary import RunSummary
from annolab.quality import gold_accuracy, item_agreement
from annolab.quality.report import agreement_frame
from annolab.store.routing import Route, route_tasks

if TYPE_CHECKING:
    from annolab.personas.persona import Persona
    from annolab.project import Project
    from annolab.workspace import Workspace

# How many priority points a routed task gains per tenth of agreement it lacks: the less the
# personas agree, the sooner a person sees it, even without a workflow's urgency ordering.
PRIORITY_PER_TENTH = 1

ITEM_SCHEMA: dict[str, Any] = {
    "task_id": pl.Int64,
    "external_id": pl.String,
    "personas": pl.Int64,
    "agreement": pl.Float64,
    "exact": pl.Boolean,
    "routed": pl.Boolean,
    "priority": pl.Int64,
    "reason": pl.String,
}
HUMAN_SCHEMA: dict[str, Any] = {
    "persona": pl.String,
    "version": pl.Int32,
    "reference": pl.String,
    "items": pl.Int64,
    "exact": pl.Int64,
    "accuracy": pl.Float64,
    "score": pl.Float64,
}


@dataclass(frozen=True, repr=False)
class PanelResult:
    """What a panel run found.

    ``agreement``: agreement among the personas (``project.agreement`` figures); ``with_humans``:
    each persona against each person and gold answer on the same items (``gold_accuracy``:
    ``score`` is the mean credit, overlap F1 for spans); ``items``: one row per item with the
    personas' mean pairwise agreement and whether it was routed; ``summaries``: each run.
    """

    personas: tuple[str, ...]
    threshold: float
    summaries: tuple[RunSummary, ...]
    agreement: pl.DataFrame
    with_humans: pl.DataFrame
    items: pl.DataFrame
    routed: int = field(default=0)

    def __repr__(self) -> str:
        agreed = self.items["agreement"].drop_nulls().to_list()
        mean = f"{sum(agreed) / len(agreed):.3f}" if agreed else "n/a"
        return (
            f"<PanelResult {', '.join(self.personas)}: {self.items.height} items, mean agreement "
            f"{mean}; {self.routed} under {self.threshold:g} routed to people>"
        )


class Panel:
    """Personas that annotate the same items: ``workspace.personas.panel([a, b, c])``.

    >>> panel = ws.personas.panel([strict, loose])  # doctest: +SKIP
    >>> result = panel.run(proj, limit=50, threshold=0.8)  # doctest: +SKIP
    >>> result.items.filter(pl.col("routed"))  # doctest: +SKIP
    """

    def __init__(self, workspace: Workspace, personas: Sequence[Persona]) -> None:
        names = [p.name for p in personas]
        if len(personas) < 2:
            rule = "must hold at least two personas: a panel measures how they agree"
            raise ValidationError("personas", names, rule)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            rule = f"name persona {repeated[0]!r} twice; a panel holds one version of each"
            raise ValidationError("personas", names, rule)
        self.workspace = workspace
        self.personas = tuple(personas)

    def run(
        self,
        project: Project,
        *,
        limit: int | None = None,
        threshold: float = 0.8,
        priority: int = 10,
        route: bool = True,
        unsure_below: float = 0.5,
        **annotate: Any,
    ) -> PanelResult:
        """Let every persona annotate the project's first ``limit`` tasks (see
        ``Persona.annotate`` for the other options), then measure them.

        An item whose mean pairwise agreement is under ``threshold``, or that fewer than two
        personas answered, or where a persona said it was less sure than ``unsure_below`` (the
        ``confidence`` a model may give with each span, box or choice), is routed (with
        ``route``): its priority rises to at least ``priority`` plus one point per tenth of
        agreement it lacks, and its ``confidence`` becomes the agreement, so the urgency
        ordering puts it first too.
        """
        if isinstance(unsure_below, bool) or not 0 <= unsure_below <= 1:
            raise ValidationError("unsure_below", unsure_below, "must be a number from 0 to 1")
        if isinstance(threshold, bool) or not 0 <= threshold <= 1:
            raise ValidationError("threshold", threshold, "must be a number from 0 to 1")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ValidationError("priority", priority, "must be a whole number")
        summaries = tuple(p.annotate(project, limit=limit, **annotate) for p in self.personas)
        tasks = project.tasks()
        if limit is not None:
            tasks = tasks.head(limit)
        rows = project.annotations().filter(pl.col("task_id").is_in(tasks["task_id"].implode()))
        mine = self._answers(rows)
        items = self._items(
            tasks, mine, threshold=threshold, priority=priority, unsure_below=unsure_below
        )
        routed = 0
        if route:
            raised = self._route(project, items, threshold)
            routed = len(raised)
            # The priority each routed task has now: one already higher kept its own.
            items = items.with_columns(
                pl.col("task_id")
                .replace_strict(raised, default=None, return_dtype=pl.Int64)
                .alias("priority")
            )
        else:
            items = items.with_columns(
                pl.lit(False).alias("routed"), pl.lit(None, pl.Int64).alias("priority")
            )
        return PanelResult(
            personas=tuple(f"{p.name} v{p.version}" for p in self.personas),
            threshold=threshold,
            summaries=summaries,
            agreement=agreement_frame(mine, kind="persona", tasks=tasks),
            with_humans=self._with_humans(rows, mine),
            items=items,
            routed=routed,
        )

    def _answers(self, rows: pl.DataFrame) -> pl.DataFrame:
        """The panel's own annotations: each persona at the version in the panel."""
        wanted = pl.lit(False)
        for p in self.personas:
            wanted |= (pl.col("user") == p.name) & (pl.col("persona_version") == p.version)
        return rows.filter((pl.col("kind") == "persona") & wanted)

    def _items(
        self,
        tasks: pl.DataFrame,
        mine: pl.DataFrame,
        *,
        threshold: float,
        priority: int,
        unsure_below: float,
    ) -> pl.DataFrame:
        least_sure: dict[int, float] = {}
        for task_id, payload in mine.select("task_id", "payload").iter_rows():
            sure = _least_sure(payload)
            if sure is not None:
                least_sure[task_id] = min(sure, least_sure.get(task_id, 1.0))
        per_item: dict[int, tuple[int, float | None, bool | None]] = {}
        if mine.height:
            values = _values(mine, "user")
            kind = metric_kind(values["value"][0])
            for it, n, _, agreement, exact in item_agreement(values, kind=kind).iter_rows():
                per_item[it] = (n, agreement, exact)
        out = []
        for task_id, external_id in tasks.select("task_id", "external_id").iter_rows():
            n, agreement, exact = per_item.get(task_id, (0, None, None))
            reason = None
            if n < 2:
                reason = f"only {n} of {len(self.personas)} personas answered"
            elif agreement is not None and agreement < threshold:
                reason = f"personas disagree: agreement {agreement:.3f} under {threshold:g}"
            elif least_sure.get(task_id, 1.0) < unsure_below:
                sure = least_sure[task_id]
                reason = f"a persona is unsure: confidence {sure:.2f} under {unsure_below:g}"
            lacking = 1 - (agreement or 0.0)
            boost = priority + PRIORITY_PER_TENTH * math.ceil(round(lacking * 10, 9))
            routed = reason is not None
            out.append(
                (
                    task_id,
                    external_id,
                    n,
                    agreement,
                    exact,
                    routed,
                    boost if routed else None,
                    reason,
                )
            )
        return pl.DataFrame(out, schema=ITEM_SCHEMA, orient="row")

    def _route(self, project: Project, items: pl.DataFrame, threshold: float) -> dict[int, int]:
        ws = self.workspace
        names = [f"{p.name} v{p.version}" for p in self.personas]
        routes = [
            Route(
                task_id=row["task_id"],
                priority=row["priority"],
                confidence=row["agreement"] or 0.0,
                reason=row["reason"],
                details={"agreement": row["agreement"], "threshold": threshold, "personas": names},
            )
            for row in items.filter(pl.col("routed")).iter_rows(named=True)
        ]
        with ws.engine.begin() as conn:
            return dict(route_tasks(conn, routes, actor=ws.user, project_id=project.id))

    def _with_humans(self, rows: pl.DataFrame, mine: pl.DataFrame) -> pl.DataFrame:
        """Each persona scored against each person's (and the gold) answers on the same items."""
        people = rows.filter(
            pl.col("kind").is_in(["human", "gold"])
            & pl.col("status").is_in(["submitted", "approved"])
        ).with_columns(
            pl.when(pl.col("kind") == "gold")
            .then(pl.lit("gold"))
            .otherwise(pl.col("user"))
            .alias("reference")
        )
        out: list[dict[str, Any]] = []
        if not mine.height or not people.height:
            return pl.DataFrame(out, schema=HUMAN_SCHEMA)
        answers = _values(mine, "user")
        kind = metric_kind(answers["value"][0])
        for reference in sorted(people["reference"].unique().to_list()):
            theirs = _values(people.filter(pl.col("reference") == reference), "reference")
            gold = theirs.unique("item", keep="last").select("item", "value")
            scores = gold_accuracy(answers, gold, kind=kind)
            for p in self.personas:
                found = scores.filter(pl.col("annotator") == p.name)
                if found.height and found["items"][0] > 0:
                    _, n, exact, accuracy, score = found.row(0)
                    out.append(
                        {
                            "persona": p.name,
                            "version": p.version,
                            "reference": reference,
                            "items": n,
                            "exact": exact,
                            "accuracy": accuracy,
                            "score": score,
                        }
                    )
        return pl.DataFrame(out, schema=HUMAN_SCHEMA)


def _values(rows: pl.DataFrame, who: str) -> pl.DataFrame:
    return (
        rows.sort("updated_at")
        .select(
            pl.col("task_id").alias("item"),
            pl.col(who).alias("annotator"),
            pl.col("payload").map_elements(comparable, return_dtype=pl.String).alias("value"),
        )
        .unique(["item", "annotator"], keep="last", maintain_order=True)
    )


def _least_sure(payload: str | dict[str, Any]) -> float | None:
    """The lowest confidence (``score``) a persona gave in one answer, None if it gave none."""
    data = json.loads(payload) if isinstance(payload, str) else payload
    parts = [data, *data.get("spans", ()), *data.get("boxes", ())]
    scores = [
        float(p["score"]) for p in parts if isinstance(p, dict) and p.get("score") is not None
    ]
    return min(scores) if scores else None
