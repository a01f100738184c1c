"""A project's labels: names, colours, hotkeys, and whether spans may overlap.

``LabelSchema.coerce`` (the same as ``validate_labels``) is the way in from outside; it accepts the
shapes people write in notebooks and raises ``annolab.errors.ValidationError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Strict, field_validator

from annolab.schema.payloads import SchemaModel, annolab_error, text_problem

__all__ = ["PALETTE", "Label", "LabelSchema"]

# Light tints (Tableau 20's light half): black text stays readable on each, and each still shows
# on white. Labels past the tenth reuse them in order.
PALETTE: tuple[str, ...] = (
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
    "#c7c7c7",
)

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _check_storable(text: str) -> None:
    problem = text_problem(text)
    if problem is not None:
        raise annolab_error(problem, value=text)


class Label(SchemaModel):
    """One label of a project.

    ``color`` is ``#rrggbb`` (stored lower case); left as None, the ``LabelSchema`` holding the
    label picks one from ``PALETTE`` by position. ``hotkey`` is one printable character.

    >>> Label(name="PER", color="#AEC7E8", hotkey="p").color
    '#aec7e8'
    """

    name: Annotated[str, Strict()]
    color: Annotated[str, Strict()] | None = None
    hotkey: Annotated[str, Strict()] | None = None
    description: Annotated[str, Strict()] = ""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.strip():
            raise annolab_error("must not be empty or only spaces", value=name)
        if name != name.strip():
            raise annolab_error("has spaces around it; remove them", value=name)
        _check_storable(name)
        return name

    @field_validator("color")
    @classmethod
    def _color(cls, color: str | None) -> str | None:
        if color is not None and not _COLOR.fullmatch(color):
            raise annolab_error(
                "is not a colour of the form '#rrggbb' (e.g. '#aec7e8')", value=color
            )
        return None if color is None else color.lower()

    @field_validator("hotkey")
    @classmethod
    def _hotkey(cls, hotkey: str | None) -> str | None:
        if hotkey is not None and (
            len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace()
        ):
            raise annolab_error("must be one printable character other than a space", value=hotkey)
        return hotkey

    @field_validator("description")
    @classmethod
    def _description(cls, description: str) -> str:
        _check_storable(description)
        return description


class LabelSchema(SchemaModel):
    """The labels of a project, in display order, and whether their spans may overlap.

    >>> schema = LabelSchema.from_names(["PER", "ORG"])
    >>> schema.names
    ('PER', 'ORG')
    >>> schema.label("ORG").hotkey
    '2'
    """

    labels: tuple[Label, ...] = ()
    allow_overlap: Annotated[bool, Strict()] = False

    @field_validator("labels")
    @classmethod
    def _unique_and_coloured(cls, labels: tuple[Label, ...]) -> tuple[Label, ...]:
        names: dict[str, int] = {}
        hotkeys: dict[str, int] = {}
        for index, label in enumerate(labels):
            first = names.setdefault(label.name, index)
            if first != index:
                rule = f"is already the name of labels[{first}]; names must be unique"
                raise annolab_error(rule, path=(index, "name"), value=label.name)
            if label.hotkey is not None:
                first = hotkeys.setdefault(label.hotkey, index)
                if first != index:
                    rule = f"is already the hotkey of labels[{first}]; hotkeys must be unique"
                    raise annolab_error(rule, path=(index, "hotkey"), value=label.hotkey)
        return tuple(
            label
            if label.color is not None
            else label.model_copy(update={"color": PALETTE[index % len(PALETTE)]})
            for index, label in enumerate(labels)
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The label names in display order.

        >>> LabelSchema.from_names(["PER", "ORG"]).names
        ('PER', 'ORG')
        """
        return tuple(label.name for label in self.labels)

    def label(self, name: str) -> Label:
        """The label called ``name``; raises ``ValidationError`` naming the known labels.

        >>> LabelSchema.from_names(["PER"]).label("PER").color
        '#aec7e8'
        """
        for label in self.labels:
            if label.name == name:
                return label
        from annolab.schema.validate import not_a_label

        raise not_a_label("label", name, self)

    @classmethod
    def from_names(cls, names: Iterable[str], *, allow_overlap: bool = False) -> LabelSchema:
        """Labels from names alone: palette colours, hotkeys "1".."9" for the first nine.

        >>> LabelSchema.from_names(["PER", "ORG"]).label("PER").to_dict()
        {'name': 'PER', 'color': '#aec7e8', 'hotkey': '1', 'description': ''}
        """
        from annolab.schema.validate import validate_labels

        # A bare string is a common slip (from_names("PER")) that would give one label per letter.
        names_list: Any = names if isinstance(names, str) else list(names)
        return validate_labels({"labels": names_list, "allow_overlap": allow_overlap})

    @classmethod
    def coerce(cls, raw: object) -> LabelSchema:
        """A LabelSchema from any accepted shape; the same as ``validate_labels``.

        Accepts a LabelSchema, a list of names, a list of dicts or Labels, or a dict
        ``{"labels": [...], "allow_overlap": ...}``.

        >>> LabelSchema.coerce({"labels": ["PER"], "allow_overlap": True}).allow_overlap
        True
        """
        from annolab.schema.validate import validate_labels

        return validate_labels(raw)

    @classmethod
    def from_dict(cls, data: object) -> LabelSchema:
        """The inverse of ``to_dict()``.

        >>> schema = LabelSchema.from_names(["PER"])
        >>> LabelSchema.from_dict(schema.to_dict()) == schema
        True
        """
        return cls.coerce(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, every field written out so the stored schema reads on its own.

        >>> LabelSchema.from_names(["PER"]).to_dict()["allow_overlap"]
        False
        """
        return self.model_dump(mode="json")
