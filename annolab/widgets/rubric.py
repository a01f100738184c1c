"""Rubric: score one model output on each criterion of a rubric, 1 up to the criterion's scale.

Front end: ``widgets/src/rubric/`` built into ``annolab/static/rubric.js``. The prompt and the
output travel as UTF-8 bytes (binary buffers); each edit comes back as a patch (``score``,
``comment``, ``set``) checked here before it reaches ``value``. A complete answer follows
``RubricQuestion.check``: every criterion scored, each on its scale.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import RubricPayload, validate_payload
from annolab.schema.layout import RubricQuestion
from annolab.widgets._base import AnnotationWidget, WidgetCallback, WidgetTraitError, front_end
from annolab.widgets.pairwise import criteria_of

__all__ = ["Rubric"]

_REPR_CHARS = 40


class Rubric(AnnotationWidget):
    """Score ``output`` (a model's answer to ``prompt``) on each of ``criteria``.

    ``criteria`` are ``Criterion`` models or dicts ``{"name", "description", "scale"}`` (scale
    2 to 10, 5 unless told). ``value`` is None or ``{"scores": {criterion: int}, "comment"}``,
    the fields of a ``RubricPayload``; ``payload`` needs every criterion scored.
    ``read_only=True`` shows a given answer without editing.

    Keys while the widget has focus: a digit scores the focused criterion row (``0`` is 10 on a
    scale of 10); arrow down/up move between rows; Backspace clears the row's score; Tab moves
    to the comment; Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+Enter submits and Esc skips.

    Example:
        >>> from annolab.widgets.rubric import Rubric
        >>> w = Rubric("Paris is the capital of France.", prompt="Capital of France?",
        ...            criteria=[{"name": "accuracy", "scale": 5}, {"name": "tone", "scale": 3}])
        >>> w.value = {"scores": {"accuracy": 5, "tone": 2}, "comment": ""}
        >>> w.payload.to_dict()
        {'kind': 'rubric', 'scores': {'accuracy': 5, 'tone': 2}, 'comment': ''}
    """

    _esm = front_end("rubric", "js")
    _css = front_end("rubric", "css")

    _prompt_utf8 = traitlets.Bytes(b"").tag(sync=True)
    _output_utf8 = traitlets.Bytes(b"").tag(sync=True)
    # [{"name", "description", "scale"}]
    criteria: traitlets.List[Any] = traitlets.List().tag(sync=True)
    value = traitlets.Any(None).tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        output: str,
        *,
        criteria: Iterable[object],
        prompt: str = "",
        value: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for name, text in (("output", output), ("prompt", prompt)):
            if not isinstance(text, str):
                raise WidgetTraitError(name, text, "must be a str (the text shown)")
        self._criteria = criteria_of(criteria)
        if not self._criteria:
            rule = "must name at least one criterion, e.g. [{'name': 'accuracy', 'scale': 5}]"
            raise WidgetTraitError("criteria", list(criteria), rule)
        self._texts = (prompt, output)
        super().__init__(
            _prompt_utf8=prompt.encode("utf-8"),
            _output_utf8=output.encode("utf-8"),
            criteria=[c.model_dump() for c in self._criteria],
            **kwargs,
        )
        self.value = value

    @property
    def prompt(self) -> str:
        return self._texts[0]

    @property
    def output(self) -> str:
        return self._texts[1]

    @property
    def question(self) -> RubricQuestion:
        """The widget's criteria as a ``RubricQuestion`` (its rules check ``payload``)."""
        return RubricQuestion(name="rubric", field="output", criteria=tuple(self._criteria))

    @property
    def payload(self) -> RubricPayload:
        """``value`` as a validated ``RubricPayload``; raises ``WidgetTraitError`` naming the
        first criterion not scored yet."""
        value = self.value or {"scores": {}, "comment": ""}
        try:
            payload = validate_payload({"kind": "rubric", **value})
            self.question.check(payload, None, "value.")
        except ValidationError as exc:
            rule = exc.rule
            if exc.value is None and rule.startswith("is required"):
                rule = "is not scored yet: focus its row and press a digit"
            raise WidgetTraitError(exc.field, exc.value, rule) from exc
        assert isinstance(payload, RubricPayload)
        return payload

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> dict[str, Any] | None:
        return self._check_value(proposal["value"])

    def _check_value(self, raw: object) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise WidgetTraitError("value", raw, "must be None or a dict {'scores', 'comment'}")
        unknown = sorted(set(raw) - {"scores", "comment"})
        if unknown:
            rule = "is not a field of a rubric answer; use scores and comment"
            raise WidgetTraitError(f"value.{unknown[0]}", raw[unknown[0]], rule)
        comment = raw.get("comment") or ""
        if not isinstance(comment, str):
            raise WidgetTraitError("value.comment", comment, "must be a str")
        scores = raw.get("scores") or {}
        if not isinstance(scores, Mapping):
            raise WidgetTraitError("value.scores", scores, "must be a dict {criterion: score}")
        scales = {c.name: c.scale for c in self._criteria}
        for name, score in scores.items():
            if name not in scales:
                rule = f"is not a criterion here; criteria are {list(scales)}"
                raise WidgetTraitError("value.scores", name, rule)
            # bool is an int but not a score; numpy and polars integers are.
            if isinstance(score, bool) or not isinstance(score, numbers.Integral):
                raise WidgetTraitError(f"value.scores.{name}", score, "must be a whole number")
            if not 1 <= int(score) <= scales[name]:
                rule = f"is off the scale of {name!r}; score it 1 to {scales[name]}"
                raise WidgetTraitError(f"value.scores.{name}", score, rule)
        ordered = {name: int(scores[name]) for name in scales if name in scores}
        if not ordered and not comment:
            return None
        return {"scores": ordered, "comment": comment}

    def _fire(self, callbacks: list[WidgetCallback], event: str) -> None:
        if event == "on_submit":
            try:
                self.payload  # noqa: B018  # checked here so a refused submit stores nothing
            except ValidationError as exc:
                self.error = f"Not submitted: {exc}"
                return
            self.error = ""
        super()._fire(callbacks, event)

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        op = patch.get("op")
        if self.read_only and op in ("score", "comment", "set"):
            raise WidgetTraitError("op", op, "edits an answer shown read-only")
        current = dict(self.value or {"scores": {}, "comment": ""})
        if op == "score":  # one criterion's score (None clears it)
            scores = dict(current.get("scores") or {})
            name, score = patch.get("criterion"), patch.get("score")
            if score is None:
                scores.pop(name, None)
            else:
                scores[name] = score
            self.value = {**current, "scores": scores}
        elif op == "comment":
            self.value = {**current, "comment": patch.get("text")}
        elif op == "set":  # undo and redo: the whole (small) value
            self.value = patch.get("value")
        else:
            return super()._apply_patch(patch, buffers)
        return None

    def __repr__(self) -> str:
        text = self.output
        cut = text if len(text) <= _REPR_CHARS else f"{text[:_REPR_CHARS]}…"
        names = [c.name for c in self._criteria]
        return f"Rubric({cut!r}, criteria={names}, value={self.value!r})"
