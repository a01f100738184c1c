"""One registry of payload kinds: what each kind of answer is and how every part of annolab
treats it.

A kind (``spans``, ``choice``, ``choices``, ``boxes``, ``rating``, ``text``) is one folder here
that registers a ``Kind``: its payload model, its widget (imported only when asked for), the JSON
schema a persona answers it in and the reading of that answer, how two answers are compared
(their agreement units), how several are merged (consensus), which measure the quality metrics
read it as, what it is drawn on (text or image), how review and adjudication show it, and how
it is written for other tools (Label Studio, Prodigy). Consumers ask ``get(name)`` instead of
branching on the kind, so a new kind is a new folder and a ``register`` call. Plugins add or
replace kinds through the ``annolab_payload_kinds`` hook.

>>> import annolab.kinds as kinds
>>> kinds.get("choice").units({"kind": "choice", "label": "pos", "score": 0.4})
[('{"kind": "choice", "label": "pos"}',)]
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import polars as pl

from annolab.errors import PluginError, ValidationError
from annolab.hooks import manager as hooks
from annolab.schema import LabelSchema
from annolab.schema.payloads import PAYLOAD_KINDS, SchemaModel

__all__ = ["BUILTIN", "FACETS", "Kind", "Target", "find", "get", "names", "register"]

PayloadDict = dict[str, Any]
Unit = tuple[Any, ...]
Measure = Literal["spans", "boxes", "category"]


@dataclass(frozen=True)
class Target:
    """What an exported answer is about: the question (``name``), the task field it reads
    (``field``: Label Studio's ``to_name``), the task's text and, for an image, its size in
    pixels (Label Studio writes boxes in percent of it)."""

    name: str
    field: str
    text: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Kind:
    """Everything annolab needs to know about one kind of payload.

    - ``payload``: the pydantic model of the payload (``annolab.schema.payloads``).
    - ``widget(question, data, labels)``: the widget that asks a layout's question of this
      kind over the task's ``data`` (the text, image or outputs the question names), or None
      for a kind asked by a form control (a one-question layout then shows a
      ``LayoutWidget``). Widgets sit above the kinds, so each is imported on call.
    - ``persona_schema(labels, question)``: the JSON schema of a model's answer (Ollama's
      ``format=``); ``question`` is the layout's question dict when there is one (a rating's
      scale). ``parse(answer, text)``: that answer (a decoded JSON object) as payload JSON, for
      the validator to check. ``as_answer(payload, text)``: a payload in the answer's JSON, for
      a few-shot example.
    - ``units(payload)``: what agreement compares, as hashable tuples (one per span, box or
      label; the whole unscored payload for single answers).
    - ``consensus(payloads, weights, needed)``: the payload that more than ``needed`` weight
      supports, or None.
    - ``label_units(payloads)``: a lazy frame of ``(row, payload)`` stored JSON of this kind as
      ``(row, start, end, label)`` units for the dashboards (none for kinds without labels).
    - ``measure``: how ``annolab.quality`` reads it (``spans``, ``boxes`` or ``category``).
    - ``media``: what a task of this kind shows (``text`` or ``image``).

    What review and adjudication show (``annolab.kinds.compare`` uses them):

    - ``title``: what one answer is called in a line of text (``Spans``, ``Label``…).
    - ``parts(payload, text)``: each part of an answer (a span, a box, a label) in words.
    - ``disputed(payloads)``: for each answer, the indexes of its parts not in every answer.
    - ``merge(payloads, allow_overlap)``: every answer's parts together, for an adjudicator to
      edit.
    - ``view(payload, question, data, labels, disputed)``: a read-only widget drawing the
      answer over the task's text or image with the disputed parts marked, or None for an
      answer a line of text shows.

    How it is written for other tools (``annolab.io.formats`` uses them):

    - ``exports``: format name -> ``export(payload, target)``, the answer in that format's
      shape for the question and task described by ``target`` (an ``Target``). Every kind
      writes ``label-studio`` (the result regions of a Label Studio annotation); ``prodigy``
      (the fields of a Prodigy task line) where Prodigy has an interface for the kind.
    - ``imports``: format name -> ``read(found, target)``, the reverse of ``exports``: the
      payload an answer written in that format stands for (raising ``ValidationError`` for what
      it cannot read). For ``label-studio``, ``found`` is the list of the result regions of one
      question (``from_name`` the question's name, or ``<question>.<part>``); a bad region is
      named ``regions[i]`` in the error's field. For ``prodigy``, ``found`` is the whole task
      line, and ``read`` returns None when the line holds no answer to the question. A kind
      without an entry cannot be imported from that format (empty by default).
    """

    name: str
    payload: type[SchemaModel]
    widget: Callable[[Any, Mapping[str, Any], LabelSchema], Any]
    persona_schema: Callable[[LabelSchema, Mapping[str, Any] | None], dict[str, Any]]
    parse: Callable[[Mapping[str, Any], str], PayloadDict]
    as_answer: Callable[[Mapping[str, Any], str], dict[str, Any]]
    units: Callable[[Mapping[str, Any]], list[Unit]]
    consensus: Callable[[Sequence[Mapping[str, Any]], Sequence[float], float], PayloadDict | None]
    label_units: Callable[[pl.LazyFrame], pl.LazyFrame]
    measure: Measure
    media: Literal["text", "image"]
    title: str
    parts: Callable[[Mapping[str, Any], str | None], list[str]]
    disputed: Callable[[Sequence[Mapping[str, Any]]], list[list[int]]]
    merge: Callable[[Sequence[Mapping[str, Any]], bool], PayloadDict]
    view: Callable[[Mapping[str, Any], Any, Mapping[str, Any], LabelSchema, Sequence[int]], Any]
    exports: Mapping[str, Callable[[Mapping[str, Any], Target], Any]]
    imports: Mapping[str, Callable[[Any, Target], PayloadDict | None]] = field(default_factory=dict)


FACETS: tuple[str, ...] = tuple(f.name for f in fields(Kind))

# The order kinds are listed to users in; a kind not named here comes after, by name.
_ORDER = (
    "spans",
    "choice",
    "choices",
    "boxes",
    "rating",
    "text",
    "pairwise",
    "ranking",
    "rubric",
    "errors",
    "correction",
)

# The kinds shipped with annolab: each subpackage of this one registers a kind on import, so a
# new kind is a new folder.
BUILTIN: tuple[str, ...] = tuple(
    sorted(
        (m.name for m in pkgutil.iter_modules(__path__) if m.ispkg),
        key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name),
    )
)

_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry (replacing one of the same name); raises ``ValidationError``
    when a facet is missing or not of its type."""
    for facet in FACETS:
        value = getattr(kind, facet, None)
        if value is None:
            raise ValidationError(f"kinds[{kind.name!r}].{facet}", value, "every facet is required")
        wanted_callable = facet not in {
            "name",
            "payload",
            "measure",
            "media",
            "title",
            "exports",
            "imports",
        }
        if wanted_callable and not callable(value):
            raise ValidationError(f"kinds[{kind.name!r}].{facet}", value, "must be callable")
    for facet in ("exports", "imports"):
        mapping = getattr(kind, facet)
        if not isinstance(mapping, Mapping) or not all(map(callable, mapping.values())):
            rule = "must map format names to functions"
            raise ValidationError(f"kinds[{kind.name!r}].{facet}", mapping, rule)
    if kind.measure not in ("spans", "boxes", "category"):
        rule = "is not a measure; use spans, boxes or category"
        raise ValidationError(f"kinds[{kind.name!r}].measure", kind.measure, rule)
    if kind.media not in ("text", "image"):
        raise ValidationError(f"kinds[{kind.name!r}].media", kind.media, "must be text or image")
    _REGISTRY[kind.name] = kind
    return kind


@functools.cache
def _load_builtin() -> None:
    # On first use, not at import: each kind's module imports this one to register itself.
    for name in BUILTIN:
        importlib.import_module(f"annolab.kinds.{name}")


# What the plugins' kinds replaced (a kind, or None for a new name), to put back when the
# plugins change; and the plugins' generation they were registered for.
_PLUGGED: dict[str, Kind | None] = {}
_plugged_at = [-1]


def _load_plugins() -> None:
    generation = hooks.generation()
    if generation == _plugged_at[0]:
        return
    for name, before in _PLUGGED.items():
        if before is None:
            gone = _REGISTRY.pop(name, None)
            if gone is not None and PAYLOAD_KINDS.get(name) is gone.payload:
                del PAYLOAD_KINDS[name]
        else:
            _REGISTRY[name] = before
    _PLUGGED.clear()
    _plugged_at[0] = generation  # set first: a plugin's hook may itself look a kind up
    try:
        _register_plugin_kinds()
    except Exception:
        _plugged_at[0] = -1  # ask again next time, and fail again, until the plugin is fixed
        raise


def _register_plugin_kinds() -> None:
    for plugin, kind in hooks.contributions("annolab_payload_kinds"):
        if not isinstance(kind, Kind):
            rule = f"gave {type(kind).__name__}; give annolab.kinds.Kind objects"
            raise PluginError(f"plugin {plugin!r}: annolab_payload_kinds {rule}")
        before = _REGISTRY.get(kind.name)
        try:
            register(kind)
        except ValidationError as exc:
            raise PluginError(f"plugin {plugin!r}: annolab_payload_kinds: {exc}") from exc
        _PLUGGED.setdefault(kind.name, before)
        if before is None:
            # The payload validator (schema, below this layer) checks a payload by its kind's
            # model: a new kind's payloads are accepted there from now on.
            PAYLOAD_KINDS.setdefault(kind.name, kind.payload)


def find(name: object) -> Kind | None:
    """The registered kind called ``name``, or None (a form, an unknown or missing kind)."""
    _load_builtin()
    _load_plugins()
    return _REGISTRY.get(name) if isinstance(name, str) else None


def get(name: object) -> Kind:
    """The registered kind called ``name``; raises ``ValidationError`` naming the known kinds."""
    found = find(name)
    if found is None:
        rule = f"is not a registered payload kind; use one of {', '.join(names())}"
        raise ValidationError("kind", name, rule)
    return found


def names() -> tuple[str, ...]:
    """The registered kinds, built-in ones first in their listed order."""
    _load_builtin()
    _load_plugins()
    # A consumer may import one kind's module before the others: order by the list, not by
    # registration.
    extra = tuple(name for name in _REGISTRY if name not in BUILTIN)
    return tuple(name for name in BUILTIN if name in _REGISTRY) + extra
