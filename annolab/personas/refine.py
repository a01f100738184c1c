"""``persona.refine()``: the persona's model reads people's feedback and proposes the next
version, which a person accepts or not. Nothing changes until ``proposal.accept()``.

New examples are not written by the model: it picks corrected items, and each example's input
and answer are taken from the item's text and the person's correction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pydantic

from annolab.errors import PersonaError, ValidationError
from annolab.personas.answers import as_answer
from annolab.personas.ask import ask_json
from annolab.personas.checks import converted
from annolab.personas.prompts import render
from annolab.personas.spec import Example, Trait
from annolab.store.events import record_event

if TYPE_CHECKING:
    from annolab.personas.persona import Persona

REFINE_TEMPLATE = "refine.j2"


class _Choice(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    item: pydantic.StrictStr
    explanation: pydantic.StrictStr = ""


class _Answer(pydantic.BaseModel):
    """The proposal as the model must write it (the schema sent says the same)."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    summary: pydantic.StrictStr = pydantic.Field(min_length=1)
    description: pydantic.StrictStr = ""
    traits: tuple[Trait, ...] = ()
    examples: tuple[_Choice, ...] = ()


def proposal_schema(items: list[str]) -> dict[str, Any]:
    """The JSON schema of a proposal that may add examples from ``items`` (corrected items)."""
    trait = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "value": {"type": "number", "minimum": 0, "maximum": 1},
            "description": {"type": "string"},
        },
        "required": ["name", "value", "description"],
        "additionalProperties": False,
    }
    item: dict[str, Any] = {"type": "string", "enum": items} if items else {"type": "string"}
    choice = {
        "type": "object",
        "properties": {"item": item, "explanation": {"type": "string"}},
        "required": ["item", "explanation"],
        "additionalProperties": False,
    }
    examples: dict[str, Any] = {"type": "array", "items": choice}
    if not items:
        examples["maxItems"] = 0
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "traits": {"type": "array", "items": trait},
            "examples": examples,
        },
        "required": ["summary", "description", "traits", "examples"],
        "additionalProperties": False,
    }


@dataclass(frozen=True, repr=False)
class Proposal:
    """A proposed next version of ``persona``: read it, then ``accept()`` it or leave it."""

    persona: Persona
    summary: str
    description: str
    traits: tuple[Trait, ...]
    examples: tuple[Example, ...]  # the new ones, added after the persona's own
    raw: str

    def changes(self) -> dict[str, Any]:
        """What ``accept`` passes to ``persona.edit``."""
        known = {e.input for e in self.persona.examples}
        added = tuple(e for e in self.examples if e.input not in known)
        return {
            "description": self.description,
            "traits": [t.model_dump() for t in self.traits],
            "examples": [e.model_dump() for e in (*self.persona.examples, *added)],
        }

    def traits_diff(self) -> pl.DataFrame:
        """Each trait's value before and after (null where a trait is new or dropped)."""
        before = {t.name: t.value for t in self.persona.traits}
        after = {t.name: t.value for t in self.traits}
        names = [*before, *(n for n in after if n not in before)]
        return pl.DataFrame(
            {"trait": names, "before": [before.get(n) for n in names]}
            | {"after": [after.get(n) for n in names]},
            schema={"trait": pl.String, "before": pl.Float64, "after": pl.Float64},
        )

    def accept(self) -> Persona:
        """Make the proposal the persona's next version (``persona.edit``) and log why."""
        new = self.persona.edit(**self.changes())
        ws = self.persona.workspace
        with ws.engine.begin() as conn:
            record_event(
                conn,
                actor=ws.user,
                action="persona.refined",
                entity="user",
                entity_id=new._row.user_id,
                before={"version": self.persona.version},
                after={"version": new.version, "summary": self.summary},
            )
        return new

    def __repr__(self) -> str:
        changed = [
            f"{name} {'-' if b is None else f'{b:.2f}'}->{'-' if a is None else f'{a:.2f}'}"
            for name, b, a in self.traits_diff().iter_rows()
            if b != a
        ]
        return (
            f"<Proposal for {self.persona.name!r} v{self.persona.version}: "
            f"{'; '.join(changed) or 'traits unchanged'}; {len(self.examples)} new example(s). "
            f"{self.summary}>"
        )


def refine(
    persona: Persona, *, host: str | None = None, timeout: float = 300.0, max_examples: int = 3
) -> Proposal:
    """Ask the persona's model for a next version from the feedback on this persona's answers
    (every version's); it may add up to ``max_examples`` corrected items as examples.

    Raises ``ValidationError`` naming the field when the answer is not a valid proposal, and
    ``PersonaError`` when there is no feedback yet.
    """
    feedback = persona.feedback()
    if feedback.height == 0:
        msg = (
            f"persona {persona.name!r} has no feedback yet: rate its answers with "
            "persona.rate(project, task, 1-5) or correct them with persona.correct(...)"
        )
        raise PersonaError(msg)
    entries, corrected = _feedback_entries(feedback)
    # The model may pick only among the corrected items it is shown.
    candidates = dict(list(corrected.items())[: max(0, max_examples)])
    prompt = render(
        REFINE_TEMPLATE,
        name=persona.name,
        description=persona.description,
        traits=[t.model_dump() for t in persona.traits],
        examples=[e.model_dump() for e in persona.examples],
        feedback=entries,
        candidates=list(candidates.values()),
    )
    raw = ask_json(
        model=persona.model,
        prompt=prompt,
        schema=proposal_schema(list(candidates)),
        options=persona.options,
        host=host,
        timeout=timeout,
    )
    return parse_proposal(persona, raw, candidates)


def _feedback_entries(
    feedback: pl.DataFrame,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    entries = []
    candidates: dict[str, dict[str, Any]] = {}
    for row in feedback.iter_rows(named=True):
        text = row["text"] or ""
        correction = None
        if row["correction"] is not None:
            correction = as_answer(row["correction"], text)
            candidates[row["external_id"]] = {
                "item": row["external_id"],
                "input": text,
                "output": correction,
            }
        entries.append(
            {
                "task": row["external_id"],
                "text": text,
                "answer": as_answer(row["payload"], text),
                "rating": row["rating"],
                "comment": row["comment"] or "",
                "errors": [text[s["start"] : s["end"]] for s in json.loads(row["error_spans"])],
                "correction": correction,
            }
        )
    return entries, candidates


def parse_proposal(persona: Persona, raw: str, candidates: dict[str, dict[str, Any]]) -> Proposal:
    """The model's answer as a ``Proposal``; raises ``ValidationError`` naming what is wrong."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        rule = f"is not valid JSON ({exc.msg} at character {exc.pos})"
        raise ValidationError("proposal", raw, rule) from exc
    try:
        answer = _Answer.model_validate(data)
    except pydantic.ValidationError as exc:
        raise converted(exc, "proposal") from exc
    names = [t.name for t in answer.traits]
    for index, name in enumerate(names):
        if name in names[:index]:
            rule = "is given twice; trait names must be unique"
            raise ValidationError(f"proposal.traits[{index}].name", name, rule)
    examples = []
    for index, choice in enumerate(answer.examples):
        found = candidates.get(choice.item)
        if found is None:
            known = ", ".join(repr(k) for k in candidates) or "none"
            rule = f"is not a corrected item; corrected items are {known}"
            raise ValidationError(f"proposal.examples[{index}].item", choice.item, rule)
        examples.append(
            Example(input=found["input"], output=found["output"], explanation=choice.explanation)
        )
    return Proposal(
        persona=persona,
        summary=answer.summary,
        description=answer.description,
        traits=answer.traits,
        examples=tuple(examples),
        raw=raw,
    )
