"""What a persona is, as configuration: description, traits, examples, model and options.

Validated with pydantic at the edge (``PersonaSpec.coerce``); errors come out as
``annolab.errors.ValidationError`` naming the field, quoting the value and saying the rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator

from annolab.errors import ValidationError
from annolab.schema.payloads import text_problem
from annolab.schema.validate import MISSING

DEFAULT_TEMPLATE = "persona.j2"

Text = Annotated[str, Strict()]
Name = Annotated[str, Strict(), Field(min_length=1)]


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Trait(_Model):
    """A trait with a strength from 0 (not at all) to 1 (entirely), e.g. recall 0.3.

    >>> Trait(name="recall", value=0.3).value
    0.3
    """

    name: Name
    value: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    description: Text = ""

    @field_validator("name", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _storable(value)


class Example(_Model):
    """A worked example shown to the model: an input, the answer, and why. Write ``output`` in
    the JSON the model answers in (``{"spans": [{"text": ..., "label": ...}]}``, ``{"label": ...}``,
    ``{"labels": [...]}`` or ``{"boxes": [...]}``), so the example teaches the format too.

    >>> Example(input="Ada met Bob", output={"label": "social"}).explanation
    ''
    """

    input: Text
    output: Any
    explanation: Text = ""

    @field_validator("input", "explanation")
    @classmethod
    def _text(cls, value: str) -> str:
        return _storable(value)

    @field_validator("output")
    @classmethod
    def _json(cls, value: Any) -> Any:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            msg = "must be JSON data (a dict, list, string or number)"
            raise ValueError(msg) from exc
        return value


class PersonaSpec(_Model):
    """Everything one version of a persona is made of (its name lives on the user row)."""

    description: Text = ""
    traits: tuple[Trait, ...] = ()
    examples: tuple[Example, ...] = ()
    model: Name
    options: dict[str, Any] = Field(default_factory=dict)
    template: Name = DEFAULT_TEMPLATE

    @field_validator("traits", mode="before")
    @classmethod
    def _traits_from_mapping(cls, traits: Any) -> Any:
        # {"recall": 0.3} is the short form people write in notebooks.
        if isinstance(traits, Mapping):
            return [{"name": k, "value": v} for k, v in traits.items()]
        return traits

    @field_validator("traits")
    @classmethod
    def _unique(cls, traits: tuple[Trait, ...]) -> tuple[Trait, ...]:
        seen: set[str] = set()
        for trait in traits:
            if trait.name in seen:
                msg = f"trait {trait.name!r} is given twice; trait names must be unique"
                raise ValueError(msg)
            seen.add(trait.name)
        return traits

    @field_validator("options")
    @classmethod
    def _options(cls, options: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(options)
        except (TypeError, ValueError) as exc:
            msg = "must hold JSON values (Ollama options such as temperature, seed, num_ctx)"
            raise ValueError(msg) from exc
        return options

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored on the persona's version row.

        >>> PersonaSpec(model="llama3.2").to_dict()["template"]
        'persona.j2'
        """
        return self.model_dump(mode="json")

    @classmethod
    def coerce(cls, data: Mapping[str, Any]) -> PersonaSpec:
        """A spec from keyword arguments or a dict; raises ``ValidationError``.

        >>> PersonaSpec.coerce({"model": "llama3.2", "traits": {"recall": 1.5}})
        Traceback (most recent call last):
        annolab.errors.ValidationError: traits[0].value=1.5 must be at most 1 (traits are 0 to 1)
        """
        try:
            return cls.model_validate(dict(data))
        except pydantic.ValidationError as exc:
            raise _convert(exc) from exc


def _convert(exc: pydantic.ValidationError) -> ValidationError:
    first = exc.errors()[0]
    field = ""
    for part in first["loc"]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    rule = first["msg"].removeprefix("Value error, ")
    if first["type"] == "less_than_equal" and field.endswith(".value"):
        rule = "must be at most 1 (traits are 0 to 1)"
    elif first["type"] == "greater_than_equal" and field.endswith(".value"):
        rule = "must be at least 0 (traits are 0 to 1)"
    elif first["type"] == "extra_forbidden":
        known = ", ".join(PersonaSpec.model_fields)
        rule = f"is not a persona field; fields are {known}"
    value = first.get("input")
    if first["type"] == "missing":
        rule, value = "is required", MISSING
    return ValidationError(field or "persona", value, rule)
