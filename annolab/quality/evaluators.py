"""Evaluators that plugins add: a name and a function scoring one submitted answer.

Built-in scores (``completeness``, ``gold_accuracy``) are computed by the workflow when an
answer is submitted; a plugin's ``SubmissionEvaluator`` (``annolab_evaluators`` hook) is scored
beside them, and a quality rule names it like any other evaluator:

>>> def short(payload, gold):
...     return 1.0 if len(payload.get("text", "")) <= 280 else 0.0
>>> ev = SubmissionEvaluator("short_enough", short)
>>> ev.score({"kind": "text", "text": "ok"}, None)
1.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from annolab.errors import PluginError
from annolab.hooks import manager as hooks

# The names the workflow scores itself: a plugin can not take them.
BUILTIN_EVALUATORS = ("completeness", "gold_accuracy")


@dataclass(frozen=True)
class SubmissionEvaluator:
    """``score(payload, gold)`` rates one submitted answer (``gold``: the task's gold answer,
    or None) from 0.0 to 1.0; None means it has nothing to say about this answer (no score is
    recorded, as ``gold_accuracy`` records none for a task without gold)."""

    name: str
    score: Callable[[Mapping[str, Any], Mapping[str, Any] | None], float | None]


_cache: dict[int, tuple[SubmissionEvaluator, ...]] = {}


def plugin_evaluators() -> tuple[SubmissionEvaluator, ...]:
    """The evaluators plugins give, asked again only after plugins change."""
    generation = hooks.generation()
    found = _cache.get(generation)
    if found is not None:
        return found
    evaluators: dict[str, SubmissionEvaluator] = {}
    for plugin, ev in hooks.contributions("annolab_evaluators"):
        where = f"plugin {plugin!r}: annolab_evaluators"
        if not isinstance(ev, SubmissionEvaluator):
            rule = "give annolab.quality.evaluators.SubmissionEvaluator objects"
            raise PluginError(f"{where} gave {type(ev).__name__}; {rule}")
        if ev.name in BUILTIN_EVALUATORS or ev.name in evaluators:
            raise PluginError(f"{where} gave evaluator {ev.name!r}, a name already taken")
        evaluators[ev.name] = ev
    _cache.clear()
    _cache[generation] = tuple(evaluators.values())
    return _cache[generation]


def checked_score(ev: SubmissionEvaluator, value: object) -> float | None:
    """A plugin's score as a float in [0, 1], or None; anything else is the plugin's error."""
    if value is None:
        return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not isinstance(value, (int, float)) or not number or not 0.0 <= value <= 1.0:
        msg = f"evaluator {ev.name!r} scored {value!r}; a score is a number from 0.0 to 1.0 or None"
        raise PluginError(msg)
    return float(value)
