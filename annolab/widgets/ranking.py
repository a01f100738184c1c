"""Ranking: order several model outputs answering one prompt, best first.

Front end: ``widgets/src/ranking/`` built into ``annolab/static/ranking.js``. The prompt and the
outputs' texts travel as UTF-8 bytes (binary buffers, the outputs as one JSON array); the ids
and the ranking are small traits. Each edit comes back as a patch (``place``, ``unrank``,
``set``) checked here before it reaches ``value``.

``value`` is the ranking so far: the ids placed, best first. It starts empty (nothing ranked):
the outputs are shown in the order given, below a "not ranked yet" line, and the annotator
places them. A submit with an output not placed is refused, naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import RankingPayload, validate_payload
from annolab.schema.layout import output_ids
from annolab.widgets._base import AnnotationWidget, WidgetCallback, WidgetTraitError, front_end

__all__ = ["Ranking", "outputs_of", "place"]

_REPR_OUTPUTS = 3


def outputs_of(outputs: object) -> list[dict[str, str]]:
    """``outputs`` (strings, or ``{"id", "text"}`` dicts) as ``[{"id", "text"}]``, the ids
    those of ``annolab.schema.layout.output_ids`` (a string's is its position); raises
    ``WidgetTraitError`` naming the bad item.

    >>> outputs_of(["Paris.", "Lyon."])
    [{'id': '0', 'text': 'Paris.'}, {'id': '1', 'text': 'Lyon.'}]
    """
    if not isinstance(outputs, list | tuple) or not outputs:
        rule = "must be a non-empty list of outputs: strings, or {'id': ..., 'text': ...} dicts"
        raise WidgetTraitError("outputs", outputs, rule)
    ids = output_ids(list(outputs))
    out: list[dict[str, str]] = []
    for index, (item, id_) in enumerate(zip(outputs, ids, strict=True)):
        if isinstance(item, Mapping):
            text = item.get("text")
            if item.get("id") is None or id_ == "":
                rule = "has no id; give each {'id', 'text'} output a non-empty id"
                raise WidgetTraitError(f"outputs[{index}].id", item.get("id"), rule)
        else:
            text = item
        if not isinstance(text, str):
            rule = "must be a str (the output shown)"
            raise WidgetTraitError(f"outputs[{index}].text", text, rule)
        if id_ in ids[:index]:
            rule = f"is the id of outputs[{ids.index(id_)}] too; give each output its own id"
            raise WidgetTraitError(f"outputs[{index}].id", id_, rule)
        out.append({"id": id_, "text": text})
    return out


class Ranking(AnnotationWidget):
    """Order model outputs best first: drag the cards, or place them by keyboard.

    ``outputs`` are strings (ids "0", "1", ... by position) or ``{"id", "text"}`` dicts.
    ``value`` is the list of ids ranked so far, best first; it starts empty (or as given): the
    outputs show in the given order under "Not ranked yet", and each placed output moves up into
    the ranking. ``payload`` (and a submit) needs every output ranked, and says which are not.

    Keys while the widget has focus: Up/Down focus a card; Alt+Up/Alt+Down (or Shift+Up/Down)
    move it one place (down from the last place unranks it); 1..9 put it at that rank (or
    right after the last ranked card); Delete unranks it; Enter takes the order shown as the
    ranking; ``e`` expands or clamps a long output; Ctrl+Z / Ctrl+Shift+Z undo and redo;
    Ctrl+Enter submits and Esc skips. With the mouse, drag a card above the line to rank it.

    Example:
        >>> from annolab.widgets.ranking import Ranking
        >>> w = Ranking(["Paris.", "Lyon, I think.", "It is Paris, since 508."],
        ...             prompt="Capital of France?")
        >>> w.value = ["2", "0", "1"]
        >>> w.payload.to_dict()
        {'kind': 'ranking', 'order': ['2', '0', '1']}
    """

    _esm = front_end("ranking", "js")
    _css = front_end("ranking", "css")

    _prompt_utf8 = traitlets.Bytes(b"").tag(sync=True)
    # The outputs' texts as one UTF-8 JSON array, in the order of ``ids``.
    _outputs_utf8 = traitlets.Bytes(b"[]").tag(sync=True)
    ids: traitlets.List[str] = traitlets.List(traitlets.Unicode()).tag(sync=True)
    value: traitlets.List[str] = traitlets.List(traitlets.Unicode()).tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        outputs: Sequence[object],
        *,
        prompt: str = "",
        value: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(prompt, str):
            raise WidgetTraitError("prompt", prompt, "must be a str (the text shown)")
        self._outputs = outputs_of(outputs)
        self._prompt = prompt
        texts = [o["text"] for o in self._outputs]
        super().__init__(
            _prompt_utf8=prompt.encode("utf-8"),
            _outputs_utf8=json.dumps(texts, ensure_ascii=False).encode("utf-8"),
            ids=[o["id"] for o in self._outputs],
            **kwargs,
        )
        # After the ids: the value is checked against them.
        self.value = list(value or [])

    # -- what is shown -------------------------------------------------------------------------

    @property
    def prompt(self) -> str:
        return self._prompt

    @property
    def outputs(self) -> list[dict[str, str]]:
        """The outputs as ``[{"id", "text"}]``, in the order given."""
        return [dict(o) for o in self._outputs]

    @property
    def unranked(self) -> list[str]:
        """The ids not ranked yet, in the order given."""
        return [i for i in self.ids if i not in self.value]

    # -- the value -----------------------------------------------------------------------------

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> list[str]:
        raw = proposal["value"]
        ids = list(self.ids)
        for index, id_ in enumerate(raw):
            if id_ not in ids:
                rule = f"is not the id of an output here; the ids are {ids}"
                raise WidgetTraitError(f"value[{index}]", id_, rule)
            if id_ in raw[:index]:
                rule = f"is ranked twice (also at value[{list(raw).index(id_)}]); rank each once"
                raise WidgetTraitError(f"value[{index}]", id_, rule)
        return list(raw)

    @property
    def payload(self) -> RankingPayload:
        """``value`` as a validated ``RankingPayload``; raises ``WidgetTraitError`` naming the
        outputs not ranked yet."""
        missing = self.unranked
        if missing:
            rule = (
                f"ranks {len(self.value)} of {len(self.ids)} outputs; not ranked yet: "
                f"{', '.join(missing)}. Place each (drag, or a number key), or press Enter to "
                "take the order shown"
            )
            raise WidgetTraitError("value", list(self.value), rule)
        try:
            payload = validate_payload({"kind": "ranking", "order": list(self.value)})
        except ValidationError as exc:
            raise WidgetTraitError(exc.field, exc.value, exc.rule) from exc
        assert isinstance(payload, RankingPayload)
        return payload

    # -- submit: only a complete ranking reaches the callbacks ----------------------------------

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
        if self.read_only and op in ("place", "unrank", "set"):
            raise WidgetTraitError("op", op, "edits a ranking shown read-only")
        if op == "place":  # put one output at a rank (0-based), the others keeping their order
            self.value = place(self.value, self._known(patch.get("id")), patch.get("index"))
        elif op == "unrank":
            id_ = self._known(patch.get("id"))
            self.value = [i for i in self.value if i != id_]
        elif op == "set":  # Enter, undo and redo: the whole (small) ranking
            given = patch.get("value")
            if not isinstance(given, list):
                raise WidgetTraitError("value", given, "must be a list of output ids")
            self.value = given
        else:
            return super()._apply_patch(patch, buffers)
        return None

    def _known(self, id_: object) -> str:
        if not isinstance(id_, str) or id_ not in self.ids:
            rule = f"is not the id of an output here; the ids are {list(self.ids)}"
            raise WidgetTraitError("id", id_, rule)
        return id_

    def __repr__(self) -> str:
        shown = ", ".join(self.ids[:_REPR_OUTPUTS])
        more = f", … ({len(self.ids)} in all)" if len(self.ids) > _REPR_OUTPUTS else ""
        return f"Ranking(ids=[{shown}{more}], value={list(self.value)!r})"


def place(ranked: Sequence[str], id_: str, index: object) -> list[str]:
    """``ranked`` with ``id_`` moved (or added) to position ``index``, clamped to the end of the
    ranking: the others keep their order.

    >>> place(["a", "b"], "c", 0), place(["a", "b"], "a", 5)
    (['c', 'a', 'b'], ['b', 'a'])
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise WidgetTraitError("index", index, "must be an int >= 0 (a rank, 0 for the best)")
    rest = [i for i in ranked if i != id_]
    at = min(index, len(rest))
    return [*rest[:at], id_, *rest[at:]]
