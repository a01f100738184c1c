"""A project's labels: names, colours, hotkeys, and whether spans may overlap.

``LabelSchema.coerce`` (the same as ``validate_labels``) is the way in from outside; it accepts the
shapes people write in notebooks and raises ``annolab.errors.ValidationError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Strict, field_validator

from annolab.schema.payloads import SchemaModel, annolab_error, text_problem

__all__ = [
    "MIN_TEXT_CONTRAST",
    "PALETTE",
    "Label",
    "LabelSchema",
    "contrast_with_black",
    "label_color",
    "pick_hotkey",
]

# Light tints (Tableau 20's light half): black text stays readable on each, and each still shows
# on white. Labels past the tenth get generated colours (label_color), so none repeats.
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

# Past the palette: hues a golden angle apart (each new hue lands in the widest gap left), with
# lightness alternating so neighbours in hue still differ. widgets/src/common/labels.ts computes
# the same colours with the same arithmetic; tests pin a few values on both sides.
_GOLDEN_ANGLE = 137.508
_SATURATION = 0.62
_LIGHTNESS = (0.80, 0.70)
# Black text on a label colour must keep at least this contrast ratio (WCAG AA for text).
MIN_TEXT_CONTRAST = 4.5


def _hsl_to_hex(hue: float, saturation: float, lightness: float) -> str:
    chroma = (1 - abs(2 * lightness - 1)) * saturation
    x = chroma * (1 - abs((hue / 60) % 2 - 1))
    m = lightness - chroma / 2
    sector = int(hue // 60) % 6
    r, g, b = [
        (chroma, x, 0.0),
        (x, chroma, 0.0),
        (0.0, chroma, x),
        (0.0, x, chroma),
        (x, 0.0, chroma),
        (chroma, 0.0, x),
    ][sector]
    # floor(v + 0.5), not round(): Python rounds halves to even, JavaScript up.
    return "#" + "".join(f"{math.floor((v + m) * 255 + 0.5):02x}" for v in (r, g, b))


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of ``#rrggbb``.

    >>> relative_luminance("#ffffff")
    1.0
    """
    channels = []
    for pair in (color[1:3], color[3:5], color[5:7]):
        c = int(pair, 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_black(color: str) -> float:
    """The WCAG contrast ratio of black text on ``color`` (1 to 21).

    >>> round(contrast_with_black("#ffffff"), 1)
    21.0
    """
    return (relative_luminance(color) + 0.05) / 0.05


def label_color(index: int) -> str:
    """The colour of the label at position ``index``: the palette, then generated, never repeated.

    >>> label_color(0), label_color(10)
    ('#aec7e8', '#ecb4ac')
    """
    if index < len(PALETTE):
        return PALETTE[index]
    step = index - len(PALETTE)
    hue = (step * _GOLDEN_ANGLE + 7.0) % 360
    lightness = _LIGHTNESS[step % 2]
    color = _hsl_to_hex(hue, _SATURATION, lightness)
    # Blue and violet hues are dark at equal lightness: lighten until black text reads.
    while contrast_with_black(color) < MIN_TEXT_CONTRAST:
        lightness = min(lightness + 0.04, 0.96)
        color = _hsl_to_hex(hue, _SATURATION, lightness)
    return color


# Hotkeys for labels past the digits: a letter of the label's name first (so "LOC" gets "l"),
# then any free letter, then capitals, then punctuation. "?" opens the shortcut list and
# "0 + - = _" zoom an image, so they are never handed out.
_DIGITS = "123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_PUNCTUATION = "!@#$%^&*()[]{};:',.<>/|\\`~\""


def pick_hotkey(name: str, taken: set[str]) -> str | None:
    """The hotkey a label without one gets, given the keys already ``taken`` (None: all are).

    The free digits first, then the letters of ``name``, then any letter, then punctuation.
    widgets/src/common/hotkeys.ts picks the same way for labels that reach it without a key.

    >>> pick_hotkey("LOC", set("123456789"))
    'l'
    >>> pick_hotkey("LOC", set("123456789l"))
    'o'
    """
    own = [ch for ch in name.lower() if ch in _LOWER]
    candidates: list[str] = [*_DIGITS, *own, *_LOWER, *_LOWER.upper(), *_PUNCTUATION]
    for key in candidates:
        if key not in taken:
            return key
    return None


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
            else label.model_copy(update={"color": label_color(index)})
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
        """Labels from names alone: colours by position, hotkeys "1".."9" then letters.

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

    def hotkeys(self) -> dict[str, str]:
        """The key of every label as the widgets assign them: its own, else ``pick_hotkey``.

        >>> LabelSchema.coerce([{"name": "PER", "hotkey": "p"}, {"name": "ORG"}]).hotkeys()
        {'PER': 'p', 'ORG': '1'}
        """
        keys = {label.name: label.hotkey for label in self.labels if label.hotkey is not None}
        taken = set(keys.values())
        for label in self.labels:
            if label.name in keys:
                continue
            key = pick_hotkey(label.name, taken)
            if key is None:
                break
            taken.add(key)
            keys[label.name] = key
        return {label.name: keys[label.name] for label in self.labels if label.name in keys}

    def __repr__(self) -> str:
        """One line per label (hotkey, name, colour), so ``proj.labels`` reads in a console.

        >>> LabelSchema.from_names(["PER", "ORG"])
        LabelSchema: 2 labels, spans may not overlap
          [1] PER  #aec7e8
          [2] ORG  #ffbb78
        """
        overlap = "spans may overlap" if self.allow_overlap else "spans may not overlap"
        count = f"{len(self.labels)} label{'' if len(self.labels) == 1 else 's'}"
        lines = [f"LabelSchema: {count}, {overlap}"]
        width = max((len(label.name) for label in self.labels), default=0)
        keys = self.hotkeys()
        for label in self.labels:
            key = f"[{keys[label.name]}]" if label.name in keys else "[ ]"
            line = f"  {key} {label.name:<{width}}  {label.color}"
            if label.description:
                line += f"  {label.description}"
            lines.append(line)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A legend for notebooks: a swatch in the label's colour, its name, hotkey, description."""
        from html import escape

        rows = []
        keys = self.hotkeys()
        for label in self.labels:
            color = label.color or "#ffffff"
            key = escape(keys.get(label.name, ""))
            rows.append(
                "<tr>"
                f'<td><span class="annolab-legend-chip" style="background:{color};'
                f"color:#000;border:1px solid #0006;border-radius:4px;padding:2px 8px;"
                f'display:inline-block;min-height:20px;line-height:20px">'
                f"{escape(label.name)}</span></td>"
                f'<td><kbd style="font-size:13px">{key}</kbd></td>'
                f"<td><code>{color}</code></td>"
                f"<td>{escape(label.description)}</td>"
                "</tr>"
            )
        overlap = "Spans may overlap." if self.allow_overlap else "Spans may not overlap."
        count = f"{len(self.labels)} label{'' if len(self.labels) == 1 else 's'}"
        return (
            '<div class="annolab-legend">'
            f"<p><strong>Labels</strong> ({count}). {overlap}</p>"
            '<table style="font-size:13px"><thead><tr><th>Label</th><th>Key</th>'
            "<th>Colour</th><th>Description</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
