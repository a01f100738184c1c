"""Workflow specs: which steps a task goes through, who may do each, and what happens next.

A spec is configuration: pydantic models that round-trip through dicts and YAML, validated
before anything is stored. The built-in shapes are functions that return a spec:

>>> vote(annotators=2, metric="span_f1", threshold=0.8).steps[0].annotators
2
>>> Workflow.from_yaml(review(fraction=0.1, seed=7).to_yaml()) == review(fraction=0.1, seed=7)
True
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from annolab.errors import WorkflowError, describe
from annolab.schema.enums import Proficiency, Role
from annolab.schema.fields import MAX_NAME_CHARS
from annolab.schema.payloads import text_problem
from annolab.workflow.expr import check

DONE = "done"
ESCALATE = "escalate"
MAX_DEPTH = 4  # nested sub-workflows deeper than this are almost surely a mistake (or a loop)
# A lease is how long a claimed task stays yours untouched; a year is already far past any
# session, and a bound keeps "now + lease" a date Python and Postgres can hold.
MAX_LEASE_MINUTES = 525_600.0
MAX_CONCURRENT = 100_000
# Urgency weights multiply numbers in [0, 7] inside the claim query; beyond this they would only
# risk overflowing Postgres' double precision.
MAX_WEIGHT = 1e6

StepKind = Literal["annotate", "review", "adjudicate"]
Metric = Literal["exact", "span_f1", "box_f1", "kappa"]
Consensus = Literal["majority", "weighted", "unanimous"]
Trigger = Literal["complete", "agreement", "disagreement"]


def _storable_name(name: str) -> str:
    problem = text_problem(name)
    if problem is not None:
        raise ValueError(problem)
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"is {len(name):,} characters long; it must be at most {MAX_NAME_CHARS}")
    return name


# Step names, targets, teams and skills are stored as text and compared in SQL.
Name = Annotated[str, Field(min_length=1), AfterValidator(_storable_name)]
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Built directly (``Step(...)``, ``single(lease_minutes=...)``): our error, not pydantic's.
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise workflow_error(exc) from exc

    # Marked as pydantic's own __init__ so that validating a nested step (from a dict or YAML)
    # does not call it: only the outermost call turns pydantic's error into ours, with its path.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class Eligibility(_Config):
    """Who may take a step: every listed condition must hold."""

    roles: tuple[Role, ...] = (Role.ANNOTATOR,)
    skills: dict[Name, Proficiency] = Field(default_factory=dict)
    teams: tuple[Name, ...] = ()
    exclude_earlier_steps: bool = False  # "did not annotate this task in an earlier step"


class Agreement(_Config):
    """How k annotations of one task are compared, and when they count as agreeing."""

    metric: Metric = "exact"
    threshold: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    consensus: Consensus = "majority"


class Urgency(_Config):
    """Human-in-the-loop ordering: on top of ``priority``, tasks the model or persona was unsure
    of come first (``1 - confidence``), then older ones (age in days, capped at 7, over 7), then
    harder ones (``complexity``). Confidence and complexity are numbers in [0, 1] in the task's
    data (columns of the frame given to ``add_tasks``); a task without them scores 0 there."""

    confidence: Weight = 1.0
    age: Weight = 1.0
    complexity: Weight = 0.5


class Transition(_Config):
    """Where a task goes when a step ends: on ``complete``, on (dis)agreement, or when
    ``when`` (an expression over the step's annotations, see ``annolab.workflow.expr``) is true."""

    on: Trigger = "complete"
    when: str | None = None
    to: Name = DONE

    @field_validator("when")
    @classmethod
    def _check_when(cls, when: str | None) -> str | None:
        if when is not None:
            _storable_name(when)
            check(when)  # refused now, not when a task first reaches it
        return when


class Step(_Config):
    """One step of a workflow, done by ``annotators`` different people."""

    name: Name
    kind: StepKind = "annotate"
    annotators: int = Field(1, ge=1, le=50)
    max_annotators: int | None = Field(None, ge=1, le=50)  # room to add people on disagreement
    who: Eligibility = Field(default_factory=Eligibility)
    agreement: Agreement | None = None
    sample: float | None = Field(
        None, gt=0.0, le=1.0, allow_inf_nan=False
    )  # a review step sees only this fraction
    workflow: Workflow | None = None  # a nested sub-workflow run in place of this step
    then: tuple[Transition, ...] = (Transition(),)

    @model_validator(mode="after")
    def _check(self) -> Step:
        if self.max_annotators is not None and self.max_annotators < self.annotators:
            msg = (
                f"steps[{self.name!r}].max_annotators={self.max_annotators} is below "
                f"annotators={self.annotators}"
            )
            raise ValueError(msg)
        needs_agreement = any(t.on != "complete" for t in self.then)
        if needs_agreement and self.agreement is None:
            msg = f"steps[{self.name!r}] branches on agreement but sets no agreement rule"
            raise ValueError(msg)
        return self


class Workflow(_Config):
    """A graph of steps; a task starts at ``start`` and ends at ``done`` (or ``escalate``)."""

    kind: Name = "custom"
    steps: tuple[Step, ...]
    start: Name | None = None
    # Review sampling and any other chance are seeded: the same run twice agrees.
    seed: int = Field(0, ge=-(2**63), le=2**63 - 1, strict=True)
    max_concurrent: int = Field(10, ge=1, le=MAX_CONCURRENT)  # open tasks one person may hold
    lease_minutes: float = Field(30.0, gt=0, le=MAX_LEASE_MINUTES, allow_inf_nan=False, strict=True)
    blind: bool = True  # annotators never see each other's work on an item until it is released
    urgency: Urgency | None = None  # None: by priority, then order of arrival (index-fast)

    @field_validator("steps")
    @classmethod
    def _unique_names(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        if not steps:
            raise ValueError("a workflow needs at least one step")
        names = [s.name for s in steps]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"step names must be unique; repeated: {repeated}")
        reserved = {DONE, ESCALATE} & set(names)
        if reserved:
            raise ValueError(f"{sorted(reserved)} are reserved targets, not step names")
        return steps

    @model_validator(mode="after")
    def _check_graph(self) -> Workflow:
        names = {s.name for s in self.steps}
        if self.start is not None and self.start not in names:
            raise ValueError(f"start={self.start!r} is not a step; steps are {sorted(names)}")
        for step in self.steps:
            for t in step.then:
                if t.to not in names | {DONE, ESCALATE}:
                    raise ValueError(f"steps[{step.name!r}] goes to {t.to!r}, which is not a step")
        _check_depth(self, 1)
        return self

    @property
    def first(self) -> str:
        return self.start or self.steps[0].name

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        names = [s.name for s in self.steps]
        msg = f"step={name!r} is not a step of this workflow; steps are {names}"
        raise WorkflowError(msg)

    def flat(self) -> Workflow:
        """The same workflow with nested sub-workflows spliced in: their steps are named
        ``parent/child``, their ``done`` leads where the parent step's completion led, and
        transitions into the parent step enter the sub-workflow's first step."""
        entries = {
            s.name: f"{s.name}/{s.workflow.flat().first}"
            for s in self.steps
            if s.workflow is not None
        }

        def into(name: str) -> str:
            return entries.get(name, name)

        steps: list[Step] = []
        for step in self.steps:
            if step.workflow is None:
                then = tuple(t.model_copy(update={"to": into(t.to)}) for t in step.then)
                steps.append(step.model_copy(update={"then": then}))
                continue
            exit_to = into(next((t.to for t in step.then if t.on == "complete"), DONE))
            for inner in step.workflow.flat().steps:
                then = tuple(
                    t.model_copy(
                        update={
                            "to": exit_to
                            if t.to == DONE
                            else t.to
                            if t.to == ESCALATE
                            else f"{step.name}/{t.to}"
                        }
                    )
                    for t in inner.then
                )
                steps.append(
                    inner.model_copy(update={"name": f"{step.name}/{inner.name}", "then": then})
                )
        return self.model_copy(update={"steps": tuple(steps), "start": into(self.first)})

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True) | {"kind": self.kind}

    @classmethod
    def from_dict(cls, data: object) -> Workflow:
        """Build and check a workflow; errors name the field, quote the value, say the rule."""
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise workflow_error(exc) from exc

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str) -> Workflow:
        if not isinstance(text, str):
            raise WorkflowError(describe("text", text, "must be the YAML text of a workflow"))
        try:
            data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            msg = f"the workflow is not valid YAML: {exc}"
            raise WorkflowError(msg) from exc
        return cls.from_dict(data)


def workflow_error(exc: pydantic.ValidationError) -> WorkflowError:
    """pydantic's first complaint as ours: ``steps.0.annotators=0 must be >= 1``."""
    first = exc.errors(include_url=False)[0]
    rule = _WORDING.get(first["type"], first["msg"])
    rule = rule.removeprefix("Value error, ").replace("Input should be", "must be")
    if first["type"] == "string_unicode":
        rule = text_problem(str(first.get("input", ""))) or rule
    where = ".".join(str(part) for part in first["loc"])
    if not where and first["type"] == "value_error":
        # A rule over the whole spec (a step's target, the nesting): it names what is wrong.
        return WorkflowError(f"workflow: {rule}")
    return WorkflowError(describe(where or "workflow", first.get("input"), rule))


_WORDING = {
    "finite_number": "must be a finite number, not NaN or infinity",
    "extra_forbidden": "is not an option of a workflow; see help(annolab.workflows)",
    "string_too_short": "must not be empty",
    "missing": "is required",
}


class _Yaml12Loader(yaml.SafeLoader):
    """YAML where only true/false are booleans: in YAML 1.1, PyYAML's default, the key ``on``
    of a transition would read as True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _check_depth(workflow: Workflow, depth: int) -> None:
    if depth > MAX_DEPTH:
        msg = f"sub-workflows nest deeper than {MAX_DEPTH} levels"
        raise ValueError(msg)
    for step in workflow.steps:
        if step.workflow is not None:
            _check_depth(step.workflow, depth + 1)


def single(*, who: Eligibility | dict[str, Any] | None = None, **options: Any) -> Workflow:
    """One annotator per task; the task is done when they submit."""
    step = Step(name="annotate", who=Eligibility.model_validate(who or {}))
    return Workflow(kind="single", steps=(step,), **options)


def vote(
    *,
    annotators: int = 2,
    metric: Metric = "exact",
    threshold: float = 1.0,
    consensus: Consensus = "majority",
    on_disagreement: Literal["adjudicate", "more_annotators", "escalate"] = "adjudicate",
    max_annotators: int | None = None,
    who: Eligibility | dict[str, Any] | None = None,
    **options: Any,
) -> Workflow:
    """k independent annotators; agreement completes the task with a consensus annotation,
    disagreement goes to an adjudicator, to more annotators (up to ``max_annotators``), or is
    escalated. ``who`` says who may annotate (roles, skills, teams)."""
    rule = Agreement(metric=metric, threshold=threshold, consensus=consensus)
    target = {"adjudicate": "adjudicate", "more_annotators": "annotate", "escalate": ESCALATE}[
        on_disagreement
    ]
    annotate = Step(
        name="annotate",
        who=Eligibility.model_validate(who or {}),
        annotators=annotators,
        max_annotators=max_annotators
        or (annotators + 1 if on_disagreement == "more_annotators" else None),
        agreement=rule,
        then=(Transition(on="agreement", to=DONE), Transition(on="disagreement", to=target)),
    )
    steps = [annotate]
    if on_disagreement == "adjudicate":
        steps.append(
            Step(name="adjudicate", kind="adjudicate", who=Eligibility(roles=(Role.ADJUDICATOR,)))
        )
    return Workflow(kind="vote", steps=tuple(steps), **options)


def review(*, fraction: float = 1.0, seed: int = 0, **options: Any) -> Workflow:
    """One annotator, then a reviewer for ``fraction`` of the tasks (chosen with ``seed``)."""
    return Workflow(
        kind="review",
        seed=seed,
        steps=(
            Step(name="annotate", then=(Transition(to="review"),)),
            Step(
                name="review",
                kind="review",
                sample=fraction,
                who=Eligibility(roles=(Role.REVIEWER,), exclude_earlier_steps=True),
            ),
        ),
        **options,
    )
