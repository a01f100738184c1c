"""``project.annotate()``: the annotation loop in a cell.

The project's widget, bound to your session: Submit & next (Ctrl+Enter), Save draft (Ctrl+S),
Skip (Esc), your progress, the guidelines, and a clear message when nothing is left. A failed
save keeps the annotation in the widget with the error shown; submitting again retries, and the
retry can never duplicate (the annotation id is derived from the assignment).

At a review step the loop shows the work under review read-only with Approve / Reject (a reason
is required) / Revise (an edited copy in the project's widget); at an adjudication step every
released answer side by side, what they disagree on, and Pick / Merge / Write my own. A
persona's or model's latest answer to the task is offered as suggestions (``suggestions=``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ipywidgets
import sqlalchemy as sa
import traitlets

from annolab.errors import AnnolabError
from annolab.session import Item, Session
from annolab.widgets.review import AdjudicationPanel, ReviewPanel

if TYPE_CHECKING:
    from annolab.project import Project
    from annolab.widgets._base import AnnotationWidget

WidgetFactory = Callable[["Project", Item], "AnnotationWidget"]


def default_widget(project: Project, item: Item) -> AnnotationWidget:
    """The widget the project's layout asks for, filled with the claimed task."""
    from annolab.widgets import NER, BBox, Classify, LayoutWidget

    if len(project.layout.questions) > 1:
        # Several questions answer as one FormPayload, which only the composed form gives.
        # LayoutWidget keeps AnnotationWidget's contract by duck typing (it is an ipywidgets box).
        return LayoutWidget(project.layout, item.data, labels=project.labels)
    layout = str(project._row.layout.get("name", "ner"))
    labels = project.labels
    if layout == "ner":
        return NER(item.text or "", labels=labels, allow_overlap=labels.allow_overlap)
    if layout == "classify":
        return Classify(item.text or "", labels=labels)
    if layout == "bbox":
        return BBox(item.data.get("image") or item.data.get("text") or "", labels=labels)
    msg = f"layout={layout!r} has no annotation widget yet; use ner, classify or bbox"
    raise AnnolabError(msg)


class AnnotationLoop(ipywidgets.VBox):  # type: ignore[misc]  # ipywidgets ships no types
    """A VBox holding the status line, the guidelines and the current task's widget."""

    def __init__(
        self,
        project: Project,
        session: Session,
        widget_for: WidgetFactory = default_widget,
        *,
        suggestions: bool = True,
    ) -> None:
        self.project = project
        self.session = session
        self._widget_for = widget_for
        self._suggestions = suggestions
        self.panel: ReviewPanel | AdjudicationPanel | None = None
        self._status = ipywidgets.Label()  # Label renders text, never HTML
        self._message = ipywidgets.Label()
        guidelines = ipywidgets.Textarea(
            project._row.guidelines, disabled=True, layout={"width": "100%"}
        )
        self._guides = ipywidgets.Accordion(children=[guidelines], titles=("Guidelines",))
        self._guides.selected_index = None
        self.widget: AnnotationWidget | None = None
        super().__init__([self._status, self._guides, self._message])
        self._advance()

    @property
    def progress(self) -> str:
        """The status line, e.g. ``"1 of 3 in your queue done; 2 to go"``."""
        return str(self._status.value)

    @property
    def message(self) -> str:
        """What the loop says when no task is on screen ("Nothing left ..." or a refusal)."""
        return str(self._message.value)

    def _advance(self) -> None:
        try:
            item = self.session.next()
        except AnnolabError as exc:
            self._show(None, str(exc))
            return
        if item is None:
            self._show(None, "Nothing left in your queue. Thank you!")
            return
        kind = self.project.workflow.step(item.step).kind
        if kind == "review":
            self._review(item)
            return
        if kind == "adjudicate":
            self._adjudicate(item)
            return
        widget = self._bind(self._widget_for(self.project, item), self._save)
        if self._suggestions:
            self._offer(widget, self.session.suggestion())
        self._show(widget, "")

    def _bind(
        self, widget: AnnotationWidget, save: Callable[..., None], *, drafts: bool = True
    ) -> AnnotationWidget:
        widget.on_submit(lambda w: save(w, draft=False))
        widget.on_skip(lambda _w: self._skip())
        if drafts:
            widget.on_draft(lambda w: save(w, draft=True))
        widget.show_draft = drafts
        widget.observe(lambda _change: self._renew(), names="value")
        return widget

    def _offer(self, widget: AnnotationWidget, payload: dict[str, Any] | None) -> None:
        """Show a persona's or model's answer as suggestions the annotator accepts or rejects."""
        if payload is None:
            return
        kind = payload.get("kind")
        try:
            if kind == "spans":
                widget.suggestions = payload["spans"]
            elif kind == "boxes":
                widget.suggestions = payload["boxes"]
            # A persona's answer carries no confidence; the widgets then say just "suggested".
            elif kind == "choice":
                widget.suggestions = [{"label": payload["label"]}]
            elif kind == "choices":
                widget.suggestions = [{"label": x} for x in payload["labels"]]
        except (AnnolabError, traitlets.TraitError) as exc:
            # A suggestion that no longer fits (labels changed since) is left out, not fatal.
            widget.error = f"The suggested answer was left out: {exc}"

    def _review(self, item: Item) -> None:
        panel = ReviewPanel(
            item.shown,
            item.shown_by,
            text=item.text,
            labels=self.project.labels,
            blind=self.project.workflow.blind,
        )
        panel.bar.on_press(lambda name: self._decide(panel, item, name))
        self._show(None, "", panel)

    def _decide(self, panel: ReviewPanel, item: Item, name: str) -> None:
        reason = panel.bar.reason.strip()
        if name == "revise":
            widget = self._bind(
                self._widget_for(self.project, item), self._save_revision, drafts=False
            )
            _fill(widget, item.shown[0] if item.shown else None)
            self._show(widget, "")
            return
        if name == "reject" and not reason:
            panel.bar.error = "reason='' : a rejection needs a reason saying what is wrong"
            return
        try:
            self.session.review(name, reason)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            panel.bar.error = f"Not recorded: {exc}"
            return
        self._advance()

    def _save_revision(self, widget: AnnotationWidget, *, draft: bool) -> None:
        del draft  # a revision has no drafts: the loop hides the button
        reason = self.panel.bar.reason.strip() if isinstance(self.panel, ReviewPanel) else ""
        try:
            self.session.revise(widget.payload, reason)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        self._advance()

    def _adjudicate(self, item: Item) -> None:
        panel = AdjudicationPanel(
            item.shown,
            item.shown_by,
            text=item.text,
            labels=self.project.labels,
            blind=self.project.workflow.blind,
        )
        panel.bar.on_press(lambda name: self._judge(panel, item, name))
        self._show(None, "", panel)

    def _judge(self, panel: AdjudicationPanel, item: Item, name: str) -> None:
        if name.startswith("pick"):
            i = int(name.removeprefix("pick"))
            try:
                self.session.adjudicate(item.shown[i], chosen=item.shown_ids[i])
            except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
                panel.bar.error = f"Not recorded: {exc}"
                return
            self._advance()
            return
        widget = self._bind(self._widget_for(self.project, item), self._save_adjudicated)
        if name == "merge":
            _fill(widget, union(item.shown, self.project.labels.allow_overlap))
        self._show(widget, "", panel)

    def _save_adjudicated(self, widget: AnnotationWidget, *, draft: bool) -> None:
        try:
            if draft:
                self.session.save_draft(widget.payload)
                widget.error = ""
                return
            self.session.adjudicate(widget.payload)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        self._advance()

    def _show(
        self,
        widget: AnnotationWidget | None,
        message: str,
        panel: ReviewPanel | AdjudicationPanel | None = None,
    ) -> None:
        self.widget = widget
        self.panel = panel
        self._message.value = message
        self._status.value = self._progress_line()
        shown: list[Any] = [self._status, self._guides]
        # While a reviewer revises, the panel stays off screen: the reason they typed is kept
        # and goes with the revision. An adjudicator's merge keeps the answers in view above.
        if panel is not None and not (widget is not None and isinstance(panel, ReviewPanel)):
            shown.append(panel)
        if isinstance(panel, ReviewPanel) and widget is not None:
            shown.append(ipywidgets.Label("Revise: edit the copy and submit it (Ctrl+Enter)"))
        if widget is not None:
            shown.append(widget)
        elif panel is None:
            shown.append(self._message)
        self.children = shown

    def _save(self, widget: AnnotationWidget, *, draft: bool) -> None:
        try:
            payload = widget.payload
            if draft:
                self.session.save_draft(payload)
                widget.error = ""
                return
            self.session.submit(payload)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            # Keep everything the annotator did; they can fix it or press submit again.
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        self._advance()

    def _skip(self) -> None:
        try:
            self.session.skip()
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            if self.widget is not None:
                self.widget.error = f"Could not skip: {exc}"
            return
        self._advance()

    def _renew(self) -> None:
        """Keep the lease while the annotator works: renew once half of it has passed."""
        item = self.session.current
        if item is None:
            return
        lease = dt.timedelta(minutes=self.project.workflow.lease_minutes)
        if item.lease_expires_at - self.session.clock() < lease / 2:
            try:
                until = self.session.renew()
            except AnnolabError as exc:
                if self.widget is not None:
                    self.widget.error = str(exc)
                return
            self.session.current = replace(item, lease_expires_at=until)

    def _progress_line(self) -> str:
        done, open_ = self.session.queue_counts()
        total = done + open_
        return f"{done} of {total} in your queue done" + (f"; {open_} to go" if open_ else "")


def _fill(widget: AnnotationWidget, payload: dict[str, Any] | None) -> None:
    """Put ``payload`` in the widget as its editable value."""
    if payload is None:
        return
    kind = payload.get("kind")
    if kind == "spans":
        widget.value = payload["spans"]
    elif kind == "boxes":
        widget.value = payload["boxes"]
    elif kind == "choice":
        widget.value = payload["label"]
    elif kind == "choices":
        widget.value = list(payload["labels"])


def union(answers: Sequence[dict[str, Any]], allow_overlap: bool) -> dict[str, Any] | None:
    """The answers merged as a starting point for an adjudicator to edit.

    Spans and boxes: every distinct one, in order (without overlaps when the labels forbid
    them: the first answer's span wins); a single choice: the first answer's.
    """
    if not answers:
        return None
    kind = answers[0].get("kind")
    if kind == "spans":
        spans: list[dict[str, Any]] = []
        for answer in answers:
            for span in answer.get("spans", []):
                key = (span["start"], span["end"], span["label"])
                if any((s["start"], s["end"], s["label"]) == key for s in spans):
                    continue
                if not allow_overlap and any(
                    s["start"] < span["end"] and span["start"] < s["end"] for s in spans
                ):
                    continue
                spans.append(dict(span))
        return {"kind": "spans", "spans": sorted(spans, key=lambda s: (s["start"], s["end"]))}
    if kind == "boxes":
        boxes = [dict(b) for a in answers for b in a.get("boxes", [])]
        distinct = [b for i, b in enumerate(boxes) if b not in boxes[:i]]
        return {"kind": "boxes", "boxes": distinct}
    if kind == "choices":
        labels = [x for a in answers for x in a.get("labels", [])]
        return {"kind": "choices", "labels": list(dict.fromkeys(labels))}
    return dict(answers[0])


def annotate(
    project: Project, user: str | None = None, *, suggestions: bool = True, **kwargs: Any
) -> AnnotationLoop:
    """The annotation loop for ``project`` as ``user`` (default: you).

    ``suggestions``: offer the latest persona or model answer to each task as suggestions.
    """
    return AnnotationLoop(project, Session(project, user), suggestions=suggestions, **kwargs)
