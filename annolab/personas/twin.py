"""Annotator twins: a persona built from one person's annotations and comments, measured by
how well it predicts that person on items it never saw.

The items are split with a seed; the persona's examples come from the training items (the
person's own answers), its description and traits from their model's reading of that work
(``prompts/twin.j2``), and the held-out items are answered as a frame, so the project is left
as it was.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pydantic

from annolab.errors import ValidationError
from annolab.personas.answers import as_answer, comparable, metric_kind
from annolab.personas.ask import ask_json
from annolab.personas.checks import converted
from annolab.personas.prompts import render
from annolab.personas.schemas import task_kind
from annolab.personas.spec import Example, Trait
from annolab.quality import gold_accuracy, item_agreement
from annolab.store.feedback import comments_by
from annolab.store.personas import find_user

if TYPE_CHECKING:
    from annolab.personas.persona import Persona
    from annolab.project import Project
    from annolab.workspace import Workspace

TWIN_TEMPLATE = "twin.j2"


class _Profile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    description: pydantic.StrictStr
    traits: tuple[Trait, ...] = ()


PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "traits": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "value": {"type": "number", "minimum": 0, "maximum": 1},
                    "description": {"type": "string"},
                },
                "required": ["name", "value", "description"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["description", "traits"],
    "additionalProperties": False,
}

ITEM_SCHEMA: dict[str, Any] = {
    "external_id": pl.String,
    "text": pl.String,
    "user": pl.String,
    "twin": pl.String,
    "agreement": pl.Float64,
}


@dataclass(frozen=True, repr=False)
class TwinResult:
    """The twin persona and how well it predicts its person on held-out items.

    ``agreement``: mean credit of the twin's answer against the person's over the held-out
    items (overlap F1 for spans, 1 or 0 for categories; an item the twin failed counts 0);
    ``exact``: held-out items answered exactly as the person did; ``items``: one row each.
    """

    persona: Persona
    user: str
    trained_on: int
    held_out: int
    agreement: float
    exact: int
    items: pl.DataFrame

    def frame(self) -> pl.DataFrame:
        """The result as one row: persona, version, user, trained_on, held_out, exact,
        agreement."""
        return pl.DataFrame(
            [
                {
                    "persona": self.persona.name,
                    "version": self.persona.version,
                    "user": self.user,
                    "trained_on": self.trained_on,
                    "held_out": self.held_out,
                    "exact": self.exact,
                    "agreement": self.agreement,
                }
            ],
            schema={
                "persona": pl.String,
                "version": pl.Int32,
                "user": pl.String,
                "trained_on": pl.Int64,
                "held_out": pl.Int64,
                "exact": pl.Int64,
                "agreement": pl.Float64,
            },
        )

    def __repr__(self) -> str:
        return (
            f"<TwinResult {self.persona.name!r} v{self.persona.version} of {self.user!r}: "
            f"trained on {self.trained_on} items, agreement {self.agreement:.3f} on "
            f"{self.held_out} held out ({self.exact} exact)>"
        )


def split(ids: list[str], holdout: float, seed: int) -> tuple[list[str], list[str]]:
    """``(training, held out)``: ``ids`` shuffled with ``seed``, the last share held out.

    >>> split(["a", "b", "c", "d", "e"], 0.4, seed=1)
    (['c', 'd', 'e'], ['a', 'b'])
    """
    order = sorted(ids)
    random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible split, not a secret
    held = min(len(order) - 1, max(1, round(holdout * len(order))))
    return order[: len(order) - held], order[len(order) - held :]


def twin(
    workspace: Workspace,
    user: str,
    project: Project,
    *,
    model: str,
    holdout: float,
    seed: int,
    name: str | None,
    max_examples: int,
    **annotate: Any,
) -> TwinResult:
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 < holdout < 1:
        raise ValidationError("holdout", holdout, "must be a share between 0 and 1, such as 0.2")
    theirs = (
        project.annotations(raw=True)
        .filter(
            (pl.col("user") == user)
            & (pl.col("kind") == "human")
            & pl.col("status").is_in(["submitted", "approved"])
        )
        .sort("updated_at")
        .unique("external_id", keep="last", maintain_order=True)
        .join(project.tasks().select("external_id", "text"), on="external_id")
    )
    if theirs.height < 2:
        rule = (
            f"has {theirs.height} submitted annotation(s) in project {project.name!r}; a twin "
            "needs at least two (some to learn from, some to test on)"
        )
        raise ValidationError("user", user, rule)
    answers = {r["external_id"]: r for r in theirs.iter_rows(named=True)}
    train, test = split(list(answers), holdout, seed)
    kind = task_kind(project._row.layout)
    with workspace.engine.begin() as conn:
        found = find_user(conn, user)
        comments = (
            [] if found is None else comments_by(conn, user_id=found[0], project_id=project.id)
        )
    shown = [
        {"text": answers[i]["text"], "answer": as_answer(answers[i]["payload"], answers[i]["text"])}
        for i in train
    ]
    profile = _profile(
        user=user,
        kind=kind,
        project=project,
        items=shown,
        comments=comments,
        model=model,
        host=annotate.get("host"),
    )
    examples = [
        Example(input=s["text"], output=s["answer"], explanation=f"how {user} annotated it")
        for s in shown[: max(0, max_examples)]
    ]
    persona = _save(
        workspace,
        name or f"twin-{user}",
        model=model,
        description=profile.description,
        traits=[t.model_dump() for t in profile.traits],
        examples=[e.model_dump() for e in examples],
    )
    frame = pl.DataFrame({"id": test, "text": [answers[i]["text"] for i in test]})
    summary = persona.annotate(
        frame,
        labels=project._row.label_schema,
        task=kind,
        guidelines=project._row.guidelines,
        **annotate,
    )
    return _measure(
        persona, user=user, answers=answers, train=train, test=test, results=summary.results
    )


def _profile(
    *,
    user: str,
    kind: str,
    project: Project,
    items: list[dict[str, Any]],
    comments: list[str],
    model: str,
    host: str | None,
) -> _Profile:
    prompt = render(
        TWIN_TEMPLATE,
        user=user,
        kind=kind,
        labels=[
            {"name": label.name, "description": label.description}
            for label in project.labels.labels
        ],
        items=items,
        comments=comments,
    )
    raw = ask_json(model=model, prompt=prompt, schema=PROFILE_SCHEMA, host=host)
    try:
        return _Profile.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        rule = f"is not valid JSON ({exc.msg} at character {exc.pos})"
        raise ValidationError("profile", raw, rule) from exc
    except pydantic.ValidationError as exc:
        raise converted(exc, "profile") from exc


def _save(workspace: Workspace, name: str, **spec: Any) -> Persona:
    """Create the twin, or make the new profile its next version (none when unchanged)."""
    personas = workspace.personas
    with workspace.engine.begin() as conn:
        exists = find_user(conn, name) is not None
    if exists:
        return personas.get(name).edit(**spec)
    return personas.create(name, **spec)


def _measure(
    persona: Persona,
    *,
    user: str,
    answers: dict[str, dict[str, Any]],
    train: list[str],
    test: list[str],
    results: pl.DataFrame,
) -> TwinResult:
    predicted = dict(results.select("item", "payload").iter_rows())
    rows = []
    for key in test:
        mine = comparable(answers[key]["payload"])
        guess = predicted.get(key)
        score = 0.0
        if guess is not None:
            pair = pl.DataFrame(
                {
                    "item": [key, key],
                    "annotator": ["twin", "user"],
                    "value": [comparable(guess), mine],
                }
            )
            score = float(item_agreement(pair, kind=metric_kind(mine))["agreement"][0])
        rows.append((key, answers[key]["text"], mine, guess, score))
    items = pl.DataFrame(rows, schema=ITEM_SCHEMA, orient="row")
    given = items.filter(pl.col("twin").is_not_null())
    exact = 0
    if given.height:
        reference = items.select(pl.col("external_id").alias("item"), pl.col("user").alias("value"))
        scored = gold_accuracy(
            given.select(
                pl.col("external_id").alias("item"),
                pl.lit("twin").alias("annotator"),
                pl.col("twin").map_elements(comparable, return_dtype=pl.String).alias("value"),
            ),
            reference,
            kind=metric_kind(items["user"][0]),
        )
        exact = int(scored["exact"][0])
    return TwinResult(
        persona=persona,
        user=user,
        trained_on=len(train),
        held_out=len(test),
        agreement=sum(items["agreement"].to_list()) / len(test),
        exact=exact,
        items=items,
    )
