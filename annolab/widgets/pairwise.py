"""Pairwise: which of two model outputs answers a prompt better, why, and per criterion.

Front end: ``widgets/src/pairwise/`` built into ``annolab/static/pairwise.js``. The prompt and the
two outputs travel as UTF-8 bytes (binary buffers); each edit comes back as a patch (``choose``,
``judge``, ``rationale``, ``set``) checked here before it reaches ``value``. The rules of a
complete answer are ``PairwiseQuestion.check``'s, so the widget and a layout refuse the same
answers with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pydantic
import traitlets

from annolab.errors import ValidationError
from annolab.schema import PairwisePayload, validate_payload
from annolab.schema.layout import Criterion, PairwiseQuestion
from annolab.widgets._base import AnnotationWidget, WidgetCallback, WidgetTraitError, front_end

__all__ = ["Pairwise", "criteria_of"]

_RATIONALE_MODES = ("none", "optional", "required")
_REPR_CHARS = 30


def criteria_of(criteria: Iterable[object]) -> list[Criterion]:
    """``criteria`` (``Criterion`` models, dicts ``{name, description, scale}`` or names) as
    ``Criterion`` models, each name once; raises ``WidgetTraitError`` naming the bad one."""
    if isinstance(criteria, (str, Mapping)):
        rule = "must be a list of criteria, e.g. [{'name': 'accuracy', 'description': '...'}]"
        raise WidgetTraitError("criteria", criteria, rule)
    out: list[Criterion] = []
    for i, item in enumerate(criteria):
        raw = {"name": item} if isinstance(item, str) else item
        try:
            model = raw if isinstance(raw, Criterion) else Criterion.model_validate(raw)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            field = f"criteria[{i}]" + (f".{where}" if where else "")
            rule = f"{first['msg'][0].lower()}{first['msg'][1:]}"
            raise WidgetTraitError(field, first["input"], rule) from exc
        if any(c.name == model.name for c in out):
            raise WidgetTraitError(
                f"criteria[{i}].name", model.name, "is used by another criterion"
            )
        out.append(model)
    return out


class Pairwise(AnnotationWidget):
    """Compare two model outputs ``a`` and ``b`` answering ``prompt``: A, B, a tie or both bad.

    ``criteria`` (``Criterion`` models, dicts or names) each get a verdict of their own, all
    required when listed; ``tie`` and ``both_bad`` say whether those verdicts are offered;
    ``rationale`` is ``"none"``, ``"optional"`` or ``"required"``. ``value`` is None or
    ``{"choice", "rationale", "criteria"}`` (``choice`` None until chosen), the fields of a
    ``PairwisePayload``. ``read_only=True`` shows a given answer with the chosen output marked.

    Keys while the widget has focus: ``1``/``a`` choose A, ``2``/``b`` B, ``t`` tie, ``x`` both
    bad; arrow down/up move to the criterion rows, where the same keys judge the row; Tab moves
    into the rationale box; Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+Enter submits and Esc
    skips. A submit that is not complete (no choice, a criterion not judged, a required
    rationale missing) is refused with the reason shown in the widget.

    Example:
        >>> from annolab.widgets.pairwise import Pairwise
        >>> w = Pairwise("Paris.", "It is Lyon.", prompt="Capital of France?",
        ...              criteria=["accuracy"], tie=False)
        >>> w.value = {"choice": "a", "rationale": "", "criteria": {"accuracy": "a"}}
        >>> w.payload.to_dict()
        {'kind': 'pairwise', 'choice': 'a', 'rationale': '', 'criteria': {'accuracy': 'a'}}
    """

    _esm = front_end("pairwise", "js")
    _css = front_end("pairwise", "css")

    _prompt_utf8 = traitlets.Bytes(b"").tag(sync=True)
    _a_utf8 = traitlets.Bytes(b"").tag(sync=True)
    _b_utf8 = traitlets.Bytes(b"").tag(sync=True)
    # [{"name", "description"}]: what the front end shows of each criterion.
    criteria: traitlets.List[Any] = traitlets.List().tag(sync=True)
    tie = traitlets.Bool(True).tag(sync=True)
    both_bad = traitlets.Bool(True).tag(sync=True)
    ask_rationale = traitlets.Unicode("optional").tag(sync=True)
    value = traitlets.Any(None).tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        a: str,
        b: str,
        *,
        prompt: str = "",
        criteria: Iterable[object] = (),
        tie: bool = True,
        both_bad: bool = True,
        rationale: str = "optional",
        value: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for name, text in (("a", a), ("b", b), ("prompt", prompt)):
            if not isinstance(text, str):
                raise WidgetTraitError(name, text, "must be a str (the text shown)")
        for name, flag in (("tie", tie), ("both_bad", both_bad)):
            if not isinstance(flag, bool):
                raise WidgetTraitError(name, flag, "must be True or False")
        if rationale not in _RATIONALE_MODES:
            rule = f"is not a rationale mode; use one of {', '.join(_RATIONALE_MODES)}"
            raise WidgetTraitError("rationale", rationale, rule)
        self._criteria = criteria_of(criteria)
        self._texts = (prompt, a, b)
        super().__init__(
            _prompt_utf8=prompt.encode("utf-8"),
            _a_utf8=a.encode("utf-8"),
            _b_utf8=b.encode("utf-8"),
            criteria=[{"name": c.name, "description": c.description} for c in self._criteria],
            tie=tie,
            both_bad=both_bad,
            ask_rationale=rationale,
            **kwargs,
        )
        # After the options: the value is checked against them.
        self.value = value

    # -- what is shown -------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        return self._texts[0]

    @property
    def a(self) -> str:
        return self._texts[1]

    @property
    def b(self) -> str:
        return self._texts[2]

    @property
    def verdicts(self) -> tuple[str, ...]:
        """The verdicts offered: ``a``, ``b``, then ``tie`` and ``both_bad`` when allowed."""
        return self.question.verdicts

    @property
    def question(self) -> PairwiseQuestion:
        """The widget's options as a ``PairwiseQuestion`` (its rules check ``payload``)."""
        return PairwiseQuestion(
            name="pairwise",
            a="a",
            b="b",
            criteria=tuple(self._criteria),
            tie=self.tie,
            both_bad=self.both_bad,
            rationale=self.ask_rationale,  # checked in __init__
        )

    # -- the value -----------------------------------------------------------------------------

    @property
    def payload(self) -> PairwisePayload:
        """``value`` as a validated ``PairwisePayload``; raises ``WidgetTraitError`` when the
        answer is not complete (no choice, a criterion not judged, a rationale required)."""
        value = self.value or {}
        if value.get("choice") is None:
            keys = "A (1), B (2)" + (", tie (t)" if self.tie else "")
            keys += ", both bad (x)" if self.both_bad else ""
            raise WidgetTraitError("value.choice", None, f"is not chosen yet: choose {keys}")
        try:
            payload = validate_payload({"kind": "pairwise", **value})
            self.question.check(payload, None, "value.")
        except WidgetTraitError:
            raise
        except ValidationError as exc:
            raise WidgetTraitError(exc.field, exc.value, exc.rule) from exc
        assert isinstance(payload, PairwisePayload)
        return payload

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> dict[str, Any] | None:
        return self._check_value(proposal["value"])

    def _check_value(self, raw: object) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            rule = "must be None or a dict {'choice', 'rationale', 'criteria'}"
            raise WidgetTraitError("value", raw, rule)
        unknown = sorted(set(raw) - {"choice", "rationale", "criteria"})
        if unknown:
            rule = "is not a field of a pairwise answer; use choice, rationale and criteria"
            raise WidgetTraitError(f"value.{unknown[0]}", raw[unknown[0]], rule)
        offered = self.verdicts
        choice = raw.get("choice")
        if choice is not None and choice not in offered:
            rule = f"is not offered here; choose one of {', '.join(offered)}"
            raise WidgetTraitError("value.choice", choice, rule)
        rationale = raw.get("rationale") or ""
        if not isinstance(rationale, str):
            raise WidgetTraitError("value.rationale", rationale, "must be a str")
        if rationale and self.ask_rationale == "none":
            rule = "is not asked for by this widget (rationale='none')"
            raise WidgetTraitError("value.rationale", rationale, rule)
        judged = raw.get("criteria") or {}
        if not isinstance(judged, Mapping):
            rule = "must be a dict {criterion: verdict}"
            raise WidgetTraitError("value.criteria", judged, rule)
        names = [c.name for c in self._criteria]
        for name, verdict in judged.items():
            if name not in names:
                rule = f"is not a criterion here; criteria are {names}"
                raise WidgetTraitError("value.criteria", name, rule)
            if verdict not in offered:
                rule = f"is not offered here; use one of {', '.join(offered)}"
                raise WidgetTraitError(f"value.criteria.{name}", verdict, rule)
        # Criteria in the order shown, whatever order they came in.
        ordered = {name: judged[name] for name in names if name in judged}
        if choice is None and not rationale and not ordered:
            return None
        return {"choice": choice, "rationale": rationale, "criteria": ordered}

    # -- submit: only a complete answer reaches the callbacks ------------------------------------

    def _fire(self, callbacks: list[WidgetCallback], event: str) -> None:
        if event == "on_submit":
            try:
                self.payload  # noqa: B018  # checked here so a refused submit stores nothing
            except ValidationError as exc:
                self.error = f"Not submitted: {exc}"
                return
            self.error = ""
        super()._fire(callbacks, event)

    # -- patches from the front end ------------------------------------------------------------

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        op = patch.get("op")
        if self.read_only and op in ("choose", "judge", "rationale", "set"):
            raise WidgetTraitError("op", op, "edits an answer shown read-only")
        current = dict(self.value or {"choice": None, "rationale": "", "criteria": {}})
        if op == "choose":  # the overall verdict (None clears it)
            self.value = {**current, "choice": patch.get("choice")}
        elif op == "judge":  # one criterion's verdict (None clears it)
            name = patch.get("criterion")
            judged = dict(current.get("criteria") or {})
            verdict = patch.get("verdict")
            if verdict is None:
                judged.pop(name, None)
            else:
                judged[name] = verdict
            self.value = {**current, "criteria": judged}
        elif op == "rationale":
            self.value = {**current, "rationale": patch.get("text")}
        elif op == "set":  # undo and redo: the whole (small) value
            self.value = patch.get("value")
        else:
            return super()._apply_patch(patch, buffers)
        return None

    def __repr__(self) -> str:
        def cut(text: str) -> str:
            return repr(text if len(text) <= _REPR_CHARS else f"{text[:_REPR_CHARS]}…")

        return f"Pairwise(a={cut(self.a)}, b={cut(self.b)}, value={self.value!r})"
