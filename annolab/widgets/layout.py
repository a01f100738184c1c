"""LayoutWidget: one form over a task, composed from a ``Layout``.

The display blocks (header, guidelines, suggestions) and the choice, choices, rating and text
questions go to ``Form`` widgets; each spans question gets an ``NER`` and each boxes question a
``BBox``, configured from the question (labels, colours, hotkeys, overlap). The parts sit in an
``ipywidgets.VBox`` in layout order; ``value`` is the one payload of the layout (the question's
own for a one-question layout, a ``FormPayload`` otherwise) and submit is refused, with the
reason shown, while ``layout.check_answer`` refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets

from annolab.errors import ValidationError
from annolab.schema import Payload, validate_payload
from annolab.widgets._base import AnnotationWidget, WidgetCallback, WidgetTraitError
from annolab.widgets._telemetry import TelemetrySummary
from annolab.widgets.form import Form

if TYPE_CHECKING:
    from annolab.schema.layout import Layout

__all__ = ["LayoutWidget"]

_NONCES = ("submit_count", "skip_count", "draft_count")

# Builds the widget of a question kind LayoutWidget does not draw itself:
# ``(question, task data, labels) -> widget`` (``annolab.kinds``' widget facet).
PartFactory = Callable[[Any, Mapping[str, Any], Any], AnnotationWidget]


class LayoutWidget(ipywidgets.VBox):  # type: ignore[misc]  # ipywidgets ships no types
    """Every question of a layout over one task, answered and submitted together.

    ``layout`` is an ``annolab.Layout`` (or a layout name to load); ``data`` the task's fields
    (checked with ``layout.check_task``). ``labels`` are the project's labels, used by
    questions that name none. ``suggestions`` maps a question name to a payload (or, for a
    spans question, a list of spans) offered to accept; the suggestions block shows only when
    one exists. ``value`` is a payload to start from (a ``FormPayload`` or its dict).
    ``parts`` builds the widgets of question kinds other than the form controls, spans and
    boxes (pairwise, ranking, …); ``project.annotate()`` passes the registered kinds' own.

    It keeps the contract of ``AnnotationWidget`` (``on_submit``, ``on_skip``, ``on_draft``,
    ``submit()``, ``skip()``, ``error``, ``show_draft``, ``payload``), so ``project.annotate()``
    can show it. Keys: Tab / Shift+Tab and Alt+Down / Alt+Up go from question to question;
    a question's hotkeys act while it has focus; Ctrl+Enter submits, Esc skips.

    Example:
        >>> import annolab as al
        >>> seed = al.Layout.load("clinical-ner-v1")
        >>> w = al.LayoutWidget(seed, {"document_text": "Fever treated with aspirin."})
        >>> [type(part).__name__ for part in w.children]
        ['Form', 'NER', 'Form']
        >>> w.part("confidence").value = {"confidence": "high"}
        >>> w.value.answers["confidence"].label
        'high'
    """

    value = traitlets.Any(None)
    error = traitlets.Unicode("")
    show_draft = traitlets.Bool(False)

    def __init__(
        self,
        layout: Layout | str,
        data: Mapping[str, Any],
        *,
        labels: object = None,
        suggestions: Mapping[str, Any] | None = None,
        value: object = None,
        parts: PartFactory | None = None,
    ) -> None:
        from annolab.schema.layout import Layout

        self._make_part = parts
        given: object = Layout.load(layout) if isinstance(layout, str) else layout
        if not isinstance(given, Layout):
            rule = "must be an annolab.Layout or the name of a layout"
            raise WidgetTraitError("layout", given, rule)
        layout = given
        if not isinstance(data, Mapping):
            raise WidgetTraitError("data", data, "must be a dict of the task's fields")
        layout.check_task(data)
        self.form_layout = layout
        self.data = dict(data)
        self._labels = labels
        self._suggestions = self._check_suggestions(suggestions)
        self._submit_callbacks: list[WidgetCallback] = []
        self._skip_callbacks: list[WidgetCallback] = []
        self._draft_callbacks: list[WidgetCallback] = []
        self._parts: dict[str, AnnotationWidget] = {}
        self._syncing = False
        # A given value goes into each part as it is built: set afterwards, a long document's
        # spans would travel to the browser twice.
        start = None if value is None else self._check_value(value)
        self._start = {} if start is None else _answers(start, self.form_layout.questions[0].name)
        super().__init__()
        self.add_class("annolab-layout")
        self._mount()
        drawn = [q.name for q in layout.questions if not isinstance(self._parts[q.name], Form)]
        if start is not None:
            self._syncing = True
            try:
                self.value = start
            finally:
                self._syncing = False
        if start is None or any(name not in self._start for name in drawn):
            self._refresh()

    def offer(self, suggestions: Mapping[str, Any]) -> None:
        """Offer answers to accept or reject, as the ``suggestions`` argument does; the parts
        are built again around the current value (the loop offers them before any work)."""
        checked = self._check_suggestions(suggestions)
        if not checked:
            return
        start = self.value
        self._suggestions = checked
        self._start = {} if start is None else _answers(start, self.form_layout.questions[0].name)
        self._mount()

    def suggestions_for(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A stored answer (a form's, or one question's payload) as ``suggestions``: a form's
        answers by question, else the payload for the first question of its kind."""
        if payload.get("kind") == "form":
            return dict(payload.get("answers") or {})
        asked = next((q for q in self.form_layout.questions if q.kind == payload.get("kind")), None)
        return {} if asked is None else {asked.name: payload}

    # -- composition ---------------------------------------------------------------------------

    def _check_suggestions(self, suggestions: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(suggestions or {})
        asked = [q.name for q in self.form_layout.questions]
        for name in given:
            if name not in asked:
                rule = (
                    f"is not a question of layout {self.form_layout.name!r}; "
                    f"its questions are {asked}"
                )
                raise WidgetTraitError("suggestions", name, rule)
        return given

    def _mount(self) -> None:
        built: tuple[Any, ...] = tuple(getattr(self, "children", ()))
        for part in built:
            part.unobserve(self._on_part_value, names="value")
            for nonce in _NONCES:
                part.unobserve(self._on_nonce, names=nonce)
        self._parts = {}
        self.children = self._compose()
        self._bar = self.children[-1]
        for part in self.children:
            part.observe(self._on_part_value, names="value")
            for nonce in _NONCES:
                part.observe(self._on_nonce, names=nonce)

    def _compose(self) -> list[AnnotationWidget]:
        from annolab.schema.layout import BoxesQuestion, SpansQuestion
        from annolab.widgets.bbox import BBox
        from annolab.widgets.ner import NER

        children: list[AnnotationWidget] = []
        blocks: list[dict[str, Any]] = []
        questions: list[dict[str, Any]] = []

        def flush() -> None:
            if blocks or questions:
                given = {
                    q["name"]: self.form_layout.question(q["name"]).value_of(
                        self._start.get(q["name"])
                    )
                    for q in questions
                }
                form = Form(
                    blocks=list(blocks), questions=list(questions), value=given, show_submit=False
                )
                for q in questions:
                    self._parts[q["name"]] = form
                children.append(form)
                blocks.clear()
                questions.clear()

        for block in self.form_layout.visible(self.data, self._suggestions):
            shown = self._block(block)
            if shown is not None:
                blocks.append(shown)
        for question in self.form_layout.questions:
            control = self._control(question)
            if control is not None:
                questions.append(control)
                continue
            flush()
            schema = self.form_layout.labels_for(question.name, self._labels)
            source = self.data.get(str(getattr(question, "field", "")))
            suggested = self._suggested(question)
            answer = self._start.get(question.name)
            given = None if answer is None else question.value_of(answer)
            part: AnnotationWidget
            if not isinstance(question, (SpansQuestion, BoxesQuestion)):
                part = self._other_part(question, schema, given, suggested)
            elif isinstance(question, SpansQuestion):
                part = NER(
                    source if isinstance(source, str) else "",
                    labels=schema,
                    allow_overlap=schema.allow_overlap,
                    snap_to_words=question.snap_to_words,
                    value=given,
                    suggestions=suggested,
                    show_submit=False,
                )
            else:
                part = BBox(
                    source or "",
                    labels=schema,
                    value=given,
                    suggestions=suggested,
                    show_submit=False,
                )
            self._parts[question.name] = part
            children.append(part)
        flush()
        last = children[-1] if children else None
        if not isinstance(last, Form):
            # The Submit and Skip buttons and the reason a submit was refused live in a Form.
            last = Form(show_submit=False)
            children.append(last)
        last.show_submit = True
        return children

    def _other_part(
        self, question: Any, schema: Any, given: Any, suggested: list[dict[str, Any]]
    ) -> AnnotationWidget:
        """The widget of a question kind this module does not draw itself, from ``parts``."""
        if self._make_part is None:
            rule = (
                "has no widget here; pass parts= (project.annotate() passes the registered "
                "kinds' widgets)"
            )
            raise WidgetTraitError(f"questions.{question.name}.kind", question.kind, rule)
        part = self._make_part(question, self.data, schema)
        part.show_submit = False
        if given is not None:
            part.value = given
        if suggested and hasattr(part, "suggestions"):
            part.suggestions = suggested
        return part

    def _block(self, block: Any) -> dict[str, Any] | None:
        if block.kind == "header":
            fields = [
                {"name": name, "value": _shown(self.data.get(name))}
                for name in block.fields
                if self.data.get(name) is not None
            ]
            badges = [
                badge.render(self.data.get(badge.field, self._default(badge.field)))
                for badge in block.badges
            ]
            return {"kind": "header", "fields": fields, "badges": [b for b in badges if b]}
        if block.kind == "guidelines":
            return (
                None
                if not block.text
                else {"kind": "guidelines", "title": "Guidelines", "text": block.text}
            )
        if block.kind == "text":
            return {
                "kind": "text",
                "title": block.field,
                "text": _shown(self.data.get(block.field)),
            }
        if block.kind == "suggestions":
            count = len(self._suggested(self.form_layout.question(block.question)))
            text = (
                f"{count} suggested for {block.question!r}: shown in that question, "
                "accept or reject them there"
            )
            return {"kind": "suggestions", "title": "AI suggestions", "text": text}
        return None  # an image block is shown by the question that reads the image

    def _default(self, field: str) -> Any:
        spec = self.form_layout.input(field)
        return None if spec is None else getattr(spec, "default", None)

    def _suggested(self, question: Any) -> list[dict[str, Any]]:
        found = self._suggestions.get(question.name)
        if isinstance(found, (list, tuple)):
            return [dict(item) for item in found]  # the items themselves (a spans list)
        return question.suggestions_of(found)  # type: ignore[no-any-return]

    def _control(self, question: Any) -> dict[str, Any] | None:
        return question.control(self.form_layout.labels_for(question.name, self._labels))  # type: ignore[no-any-return]

    # -- reading -------------------------------------------------------------------------------

    def part(self, question: str) -> AnnotationWidget:
        """The widget that asks ``question`` (a ``Form`` may ask several)."""
        self.form_layout.question(question)
        return self._parts[question]

    @property
    def payload(self) -> Payload:
        """``value`` checked by the layout: required answers and completion rules hold.

        Raises ``ValidationError`` naming the question that is missing or wrong.
        """
        collected = self._collect(strict=True)
        return self.form_layout.check_answer(collected, self._labels, data=self.data)

    def _collect(self, *, strict: bool = False) -> dict[str, Any]:
        """Every part's answer; a part that cannot give one yet (a pairwise not chosen) is
        unanswered, or, when ``strict``, the reason, named after its question."""
        answers: dict[str, Any] = {}
        for question in self.form_layout.questions:
            part = self._parts[question.name]
            if isinstance(part, Form):
                answer = question.answer_of(part.value.get(question.name))
            else:
                try:
                    answer = part.payload.to_dict()
                except ValidationError as exc:
                    if strict:
                        field = f"answers.{question.name}.{exc.field}"
                        raise ValidationError(field, exc.value, exc.rule) from exc
                    answer = None
            if answer is not None:
                answers[question.name] = answer
        if len(self.form_layout.questions) == 1:
            only = self.form_layout.questions[0].name
            return answers.get(only) or {"kind": self.form_layout.questions[0].kind}
        ordered = {q.name: answers[q.name] for q in self.form_layout.questions if q.name in answers}
        return {"kind": "form", "answers": ordered}

    def _refresh(self) -> None:
        raw = self._collect()
        try:
            value: Any = validate_payload(raw)
        except ValidationError:
            value = None  # a one-question form not answered yet
        self._syncing = True
        try:
            self.value = value
        finally:
            self._syncing = False

    def _on_part_value(self, _change: traitlets.Bunch) -> None:
        if not self._syncing:
            self._refresh()

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> Any:
        raw = proposal["value"]
        if raw is None or self._syncing:
            return raw
        return self._check_value(raw)

    def _check_value(self, raw: object) -> Any:
        checked = validate_payload(raw)
        kinds = self.form_layout.answer_kinds
        if checked.kind not in kinds:
            rule = f"is not what layout {self.form_layout.name!r} asks for ({', '.join(kinds)})"
            raise WidgetTraitError("value.kind", checked.kind, rule)
        return checked

    @traitlets.observe("value")
    def _distribute(self, change: traitlets.Bunch) -> None:
        if self._syncing or change["new"] is None:
            return
        new = change["new"]
        # A FormPayload for several questions (kind "form"), else the one question's payload.
        answers = _answers(new, self.form_layout.questions[0].name)
        self._syncing = True
        try:
            for question in self.form_layout.questions:
                answer = answers.get(question.name)
                part = self._parts[question.name]
                if isinstance(part, Form):
                    part.value = {**part.value, question.name: question.value_of(answer)}
                elif answer is not None:
                    part.value = question.value_of(answer)
        except ValidationError as exc:
            raise WidgetTraitError(
                f"value.answers.{question.name}.{exc.field}", exc.value, exc.rule
            ) from exc
        finally:
            self._syncing = False
        # The value is already checked; read the parts back only when one (an NER or a BBox
        # left out of the value) adds an answer of its own, since each read re-validates it.
        drawn = [
            q.name for q in self.form_layout.questions if not isinstance(self._parts[q.name], Form)
        ]
        if any(name not in answers for name in drawn):
            self._refresh()

    @traitlets.observe("error")
    def _show_error(self, change: traitlets.Bunch) -> None:
        self._bar.error = change["new"]

    @traitlets.observe("show_draft")
    def _show_draft(self, change: traitlets.Bunch) -> None:
        self._bar.show_draft = change["new"]

    # -- submit, skip, draft -------------------------------------------------------------------

    def on_submit(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` on each submit that the layout accepts."""
        self._submit_callbacks.append(callback)

    def on_skip(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` each time the annotator skips (Skip, Esc)."""
        self._skip_callbacks.append(callback)

    def on_draft(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` each time the annotator saves a draft (Ctrl+S)."""
        self._draft_callbacks.append(callback)

    def submit(self) -> None:
        """Submits from Python, as the Submit button does."""
        self._bar.submit_count += 1

    def skip(self) -> None:
        """Skips from Python, as the Skip button does."""
        self._bar.skip_count += 1

    def _on_nonce(self, change: traitlets.Bunch) -> None:
        if change["name"] == "submit_count":
            try:
                self.payload  # noqa: B018  # checked here so a refused submit stores nothing
            except ValidationError as exc:
                self.error = f"Not submitted: {exc}"
                return
            self.error = ""
            callbacks = self._submit_callbacks
        elif change["name"] == "skip_count":
            callbacks = self._skip_callbacks
        else:
            callbacks = self._draft_callbacks
        for callback in list(callbacks):
            callback(self)

    def take_telemetry(self) -> list[TelemetrySummary]:
        """The summaries every part's front end sent since the last call (each part counts
        its own keys, pointer actions and edits; see ``AnnotationWidget.take_telemetry``)."""
        taken: list[TelemetrySummary] = []
        for part in getattr(self, "children", ()):
            if isinstance(part, AnnotationWidget):
                taken.extend(part.take_telemetry())
        return taken

    def __repr__(self) -> str:
        names = [q.name for q in self.form_layout.questions]
        return f"LayoutWidget({self.form_layout.name!r}, questions={names})"


def _answers(payload: Any, one: str) -> dict[str, Any]:
    """The answers by question name: a FormPayload's, or the one question's payload."""
    return dict(payload.answers) if payload.kind == "form" else {one: payload}


def _shown(value: object) -> str:
    return "" if value is None else str(value)
