"""``persona.refine()``: the persona's model reads people's feedback and proposes the next
version, which a person accepts or not. Nothing changes until ``proposal.accept()``.

New examples are not written by the model: it picks corrected items, and each example's input
and answer are taken from the item's text and the person's correction.

A proposal is kept on evidence: ``proposal.evaluate(project)`` scores the current version and
the proposed one on held-out gold (gold items whose text is not one of the proposal's worked
examples, which would be answered from memory), and ``accept()`` applies it only when the
proposed version scores higher. ``accept(override="why")`` applies it anyway and records the
reason in the event log.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pydantic

from annolab.errors import DataError, PersonaError, ValidationError
from annolab.personas.answers import as_answer
from annolab.personas.ask import ask_json
from annolab.personas.checks import converted
from annolab.personas.prompts import render
from annolab.personas.spec import Example, PersonaSpec, Trait
from annolab.store.events import record_event

if TYPE_CHECKING:
    from annolab.personas.persona import Persona
    from annolab.project import Project

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
    # Set by evaluate(): the evidence accept() asks for.
    evaluation: pl.DataFrame | None = dataclasses.field(default=None, compare=False)

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

    def candidate(self) -> Persona:
        """The proposed version as a persona that can annotate frames but is not stored: its
        number is the next one, and a failure it meets is logged under the current version."""
        from annolab.personas.persona import Persona, system_prompt

        spec = PersonaSpec.coerce({**self.persona.spec.to_dict(), **self.changes()})
        row = dataclasses.replace(
            self.persona._row,
            version=self.persona.version + 1,
            description=spec.description,
            traits=[t.model_dump() for t in spec.traits],
            examples=[e.model_dump() for e in spec.examples],
            system_prompt=system_prompt(self.persona.name, spec),
        )
        return Persona(self.persona.workspace, row)

    def evaluate(self, project: Project, *, gold: Any = None, **annotate: Any) -> pl.DataFrame:
        """Score the current version and the proposed one on held-out gold, best first (the
        columns of ``workspace.personas.evaluate`` and ``proposed``); ``accept()`` reads it.

        Gold items whose text is one of the proposed version's worked examples are left out:
        the proposal has seen their answers. ``gold`` and the other keyword arguments are as
        for ``workspace.personas.evaluate`` (``host=``, ``progress=``...).

        >>> proposal.evaluate(proj)  # doctest: +SKIP
        """
        from annolab.personas.evaluate import evaluate_on, gold_answers

        answers = gold_answers(project, gold)
        seen = {e.input for e in (*self.persona.examples, *self.examples)}
        held_out = answers.filter(~pl.col("text").is_in(list(seen)))
        if held_out.height == 0:
            msg = (
                f"no held-out gold to measure the proposal on: all {answers.height} gold items "
                f"of project {project.name!r} are worked examples of the proposed version; add "
                "gold answers for other tasks, or accept(override='why') to apply it anyway"
            )
            raise DataError(msg)
        table = evaluate_on([self.persona, self.candidate()], project, held_out, **annotate)
        table = table.with_columns(
            (pl.col("version") == self.persona.version + 1).alias("proposed")
        )
        # The proposal itself never changes (frozen); its measurement is attached once taken.
        object.__setattr__(self, "evaluation", table)
        return table

    def accept(self, *, override: str | None = None) -> Persona:
        """Make the proposal the persona's next version (``persona.edit``) and log why.

        It must score higher than the current version in ``evaluate()`` (held-out gold), or
        come with ``override``, the reason to apply it without that evidence, which is
        recorded in the ``persona.refined`` event.

        >>> proposal.evaluate(proj)  # doctest: +SKIP
        >>> better = proposal.accept()  # doctest: +SKIP
        """
        if override is not None and (not isinstance(override, str) or not override.strip()):
            rule = "must say why the proposal is applied without evidence, e.g. 'checked by hand'"
            raise ValidationError("override", override, rule)
        evidence = self._evidence()
        if override is None:
            self._check_improved(evidence)
        new = self.persona.edit(**self.changes())
        after: dict[str, Any] = {"version": new.version, "summary": self.summary}
        if evidence is not None:
            after["evidence"] = evidence
        if override is not None:
            after["override"] = override.strip()
        ws = self.persona.workspace
        with ws.engine.begin() as conn:
            record_event(
                conn,
                actor=ws.user,
                action="persona.refined",
                entity="user",
                entity_id=new._row.user_id,
                before={"version": self.persona.version},
                after=after,
            )
        return new

    def _evidence(self) -> dict[str, Any] | None:
        """The two scores of the last ``evaluate()``, as the event records them."""
        table = self.evaluation
        if table is None:
            return None
        by = {row["proposed"]: row for row in table.iter_rows(named=True)}
        return {
            "items": by[True]["items"],
            "score_before": by[False]["score"],
            "score_after": by[True]["score"],
        }

    def _check_improved(self, evidence: dict[str, Any] | None) -> None:
        name, version = self.persona.name, self.persona.version
        if evidence is None:
            msg = (
                f"the proposal for {name!r} v{version} has not been measured: run "
                "proposal.evaluate(project) to score it on held-out gold first, or "
                "accept(override='why') to apply it without evidence"
            )
            raise PersonaError(msg)
        before, after = evidence["score_before"] or 0.0, evidence["score_after"] or 0.0
        if after <= before:
            msg = (
                f"the proposal for {name!r} scored {after:.3f} on {evidence['items']} held-out "
                f"gold items, not above v{version}'s {before:.3f}: it is not applied; "
                "accept(override='why') applies it anyway"
            )
            raise PersonaError(msg)

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
