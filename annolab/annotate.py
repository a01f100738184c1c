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
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ipywidgets
import sqlalchemy as sa
import traitlets

import annolab.kinds
from annolab.errors import AnnolabError
from annolab.kinds import compare
from annolab.session import Item, Queue, Session
from annolab.widgets.layout import LayoutWidget
from annolab.widgets.review import AdjudicationPanel, ReviewPanel, Shown

if TYPE_CHECKING:
    from annolab.project import Project
    from annolab.widgets._base import AnnotationWidget

WidgetFactory = Callable[["Project", Item], "AnnotationWidget"]


def default_widget(project: Project, item: Item) -> AnnotationWidget:
    """The widget the project's layout asks for, filled with the claimed task: the question's
    own widget for a one-question layout, else a ``LayoutWidget`` composing them all."""
    layout = project.layout
    if len(layout.questions) == 1:
        question = layout.questions[0]
        labels = layout.labels_for(question.name, project.labels)
        own = annolab.kinds.get(question.kind).widget(question, item.data, labels)
        if own is not None:
            return own  # type: ignore[no-any-return]
    # Several questions answer as one FormPayload, which only the composed form gives.
    # LayoutWidget keeps AnnotationWidget's contract by duck typing (it is an ipywidgets box).
    return LayoutWidget(layout, item.data, labels=project.labels, parts=_part)


def _part(question: Any, data: Mapping[str, Any], labels: Any) -> AnnotationWidget:
    """A question's widget inside a LayoutWidget: its registered kind's."""
    built = annolab.kinds.get(question.kind).widget(question, data, labels)
    if built is None:
        rule = "has neither a form control nor a widget of its own"
        raise AnnolabError(f"questions.{question.name}.kind={question.kind!r} {rule}")
    return built  # type: ignore[no-any-return]


# No rate or finish estimate before this much work: three quick submits say nothing yet.
ESTIMATE_MIN_SUBMITS = 5
ESTIMATE_MIN_WORK = dt.timedelta(minutes=2)


class AnnotationLoop(ipywidgets.VBox):  # type: ignore[misc]  # ipywidgets ships no types
    """A VBox: a header (project, task id, position), a progress bar over your queue, a status
    line confirming the last action, ways back to skipped and drafted tasks, the guidelines
    (when the project has any) and the current task's widget."""

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
        self._header = ipywidgets.HTML()
        self.bar = ipywidgets.IntProgress(
            value=0, min=0, max=1, description="Your queue", bar_style="info"
        )
        self._counts = ipywidgets.Label()  # Label renders text, never HTML
        self._status = ipywidgets.Label()
        self._estimate = ipywidgets.Label()
        self._message = ipywidgets.Label()
        self.back_to_skipped = ipywidgets.Button(icon="undo", layout={"display": "none"})
        self.back_to_skipped.on_click(lambda _b: self._reopen(self._queue_skipped()))
        self.back_to_drafts = ipywidgets.Button(icon="pencil", layout={"display": "none"})
        self.back_to_drafts.on_click(lambda _b: self._reopen(self._queue_drafts()))
        self._ways_back = ipywidgets.HBox([self.back_to_skipped, self.back_to_drafts])
        self._guides: ipywidgets.Accordion | None = None
        if project._row.guidelines.strip():
            guidelines = ipywidgets.Textarea(
                project._row.guidelines, disabled=True, layout={"width": "100%"}
            )
            self._guides = ipywidgets.Accordion(children=[guidelines], titles=("Guidelines",))
            self._guides.selected_index = None
        self._top = ipywidgets.VBox(
            [
                self._header,
                ipywidgets.HBox([self.bar, self._counts]),
                self._ways_back,
                self._status,
                self._estimate,
            ]
        )
        self._top.add_class("annolab-loop-header")
        self.queue = Queue(0, 0, 0, 0)
        self._started = session.clock()
        self._submitted_at: list[dt.datetime] = []
        self.widget: AnnotationWidget | None = None
        super().__init__([self._top, self._message])
        self.add_class("annolab-loop")
        self._advance()

    @property
    def progress(self) -> str:
        """The counts beside the bar, e.g. ``"1 of 3 in your queue done; 2 to go (1 skipped)"``."""
        return str(self._counts.value)

    @property
    def header(self) -> str:
        """The header as text: project, task id and position."""
        return html.unescape(_TAGS.sub("", str(self._header.value)))

    @property
    def status(self) -> str:
        """What the last action did ("Draft saved 14:02:31", "Submitted doc-17"); it stays
        until the next action."""
        return str(self._status.value)

    @property
    def estimate(self) -> str:
        """Time per task and time left, once enough work was done to say ("" before)."""
        return str(self._estimate.value)

    @property
    def message(self) -> str:
        """What the loop says when no task is on screen ("Nothing left ..." or a refusal)."""
        return str(self._message.value)

    def _queue_skipped(self) -> str | None:
        skipped = self.session.skipped()
        return skipped[0] if skipped else None

    def _queue_drafts(self) -> str | None:
        current = self.session.current
        drafts = [t for t in self.session.drafts() if current is None or t != current.external_id]
        return drafts[0] if drafts else None

    def reopen(self, task: str) -> None:
        """Show task ``task`` again: one you skipped or left a draft on (your draft filled in).
        The task that was on screen stays yours and comes back after it."""
        self._reopen(task)

    def _reopen(self, task: str | None) -> None:
        if task is None:
            return
        try:
            self.session.reopen(task)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            self._status.value = f"Could not reopen {task}: {exc}"
            return
        self._open(self.session.current)
        self._status.value = f"Reopened {task}"

    def _advance(self) -> None:
        try:
            item = self.session.next()
        except AnnolabError as exc:
            self._show(None, str(exc))
            return
        self._open(item)

    def _open(self, item: Item | None) -> None:
        if item is None:
            self._show(None, "")
            self._message.value = self._nothing_left()
            return
        kind = self.project.workflow.step(item.step).kind
        if kind == "review":
            self._review(item)
            return
        if kind == "adjudicate":
            self._adjudicate(item)
            return
        widget = self._bind(self._widget_for(self.project, item), self._save)
        draft = self.session.draft()
        if draft is not None:
            _fill(self.project, widget, draft)  # the annotator's own work comes back
        elif self._suggestions:
            try:
                suggested = self.session.suggestion()
            except AnnolabError as exc:
                # A plugin's pre-annotation that breaks a rule is left out, not fatal.
                widget.error = f"The suggested answer was left out: {exc}"
            else:
                self._offer(widget, suggested)
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
        question = self.project.layout.questions[0]
        try:
            if isinstance(widget, LayoutWidget):
                widget.offer(widget.suggestions_for(payload))
            elif payload.get("kind") == question.kind:
                widget.suggestions = question.suggestions_of(payload)
        except (AnnolabError, traitlets.TraitError) as exc:
            # A suggestion that no longer fits (labels changed since) is left out, not fatal.
            widget.error = f"The suggested answer was left out: {exc}"

    def _shown(self, item: Item, *, adjudicating: bool) -> list[Shown]:
        """The task's stored answers as the panels show them."""
        layout, data, labels = self.project.layout, item.data, self.project.labels
        marks = (
            compare.disagreements(item.shown, layout) if adjudicating else [{} for _ in item.shown]
        )
        return [
            Shown(
                compare.describe(answer, layout, data),
                compare.views(answer, mark, layout, data, labels),
                compare.differs(answer, mark, layout, data) if adjudicating else "",
            )
            for answer, mark in zip(item.shown, marks, strict=True)
        ]

    def _review(self, item: Item) -> None:
        work = self._shown(item, adjudicating=False)
        model = self.session.suggestion() if item.shown else None
        against = None
        if model is not None:
            # Expert review: the person's work against the model's answer, what differs marked.
            layout, data, labels = self.project.layout, item.data, self.project.labels
            before, after = compare.disagreements([model, item.shown[0]], layout)
            against = Shown(
                compare.describe(model, layout, data),
                compare.views(model, before, layout, data, labels),
            )
            work[0] = Shown(
                work[0].line,
                compare.views(item.shown[0], after, layout, data, labels),
                compare.changes(model, item.shown[0], layout, data),
            )
        panel = ReviewPanel(work, item.shown_by, blind=self.project.workflow.blind, against=against)
        panel.bar.on_press(lambda name: self._decide(panel, item, name))
        self._show(None, "", panel)

    def _decide(self, panel: ReviewPanel, item: Item, name: str) -> None:
        reason = panel.bar.reason.strip()
        if name == "revise":
            widget = self._bind(
                self._widget_for(self.project, item), self._save_revision, drafts=False
            )
            _fill(self.project, widget, item.shown[0] if item.shown else None)
            self._show(widget, "", panel)  # the panel keeps the reason for the revision
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
        item = self.session.current
        try:
            self.session.revise(widget.payload, reason)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        finally:
            self.session.record_telemetry(widget.take_telemetry(), item)
        self._advance()

    def _adjudicate(self, item: Item) -> None:
        panel = AdjudicationPanel(
            self._shown(item, adjudicating=True),
            item.shown_by,
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
            merged = compare.merge(
                item.shown, self.project.layout, self.project.labels.allow_overlap
            )
            _fill(self.project, widget, merged)
        self._show(widget, "", panel)

    def _save_adjudicated(self, widget: AnnotationWidget, *, draft: bool) -> None:
        item = self.session.current
        try:
            if draft:
                self.session.save_draft(widget.payload)
                widget.error = ""
                return
            self.session.adjudicate(widget.payload)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        finally:
            self.session.record_telemetry(widget.take_telemetry(), item)
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
        self._refresh()
        shown: list[Any] = [self._top]
        if self._guides is not None:
            shown.append(self._guides)
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

    def _refresh(self) -> None:
        """Header, bar, counts and the ways back, from the queue as the store has it now."""
        queue = self.queue = self.session.queue()
        item = self.session.current
        parts = [f"<b>{html.escape(self.project.name)}</b>"]
        if item is not None:
            position = min(queue.done + 1, queue.total)
            parts.append(f"task <code>{html.escape(item.external_id)}</code>")
            parts.append(f"{position} of {queue.total}")
        self._header.value = " · ".join(parts)
        self.bar.max = max(queue.total, 1)  # an empty queue shows an empty bar, not an error
        self.bar.value = queue.done
        self.bar.bar_style = "success" if queue.total and not queue.left else "info"
        counts = f"{queue.done} of {queue.total} in your queue done"
        if queue.left:
            counts += f"; {queue.left} to go"
        aside = [f"{queue.skipped} skipped"] if queue.skipped else []
        aside += [f"{queue.drafted} with a draft"] if queue.drafted else []
        self._counts.value = counts + (f" ({', '.join(aside)})" if aside else "")
        # The draft of the task on screen is not one to go back to.
        on_screen = queue.drafted and item is not None and self._has_draft(item)
        drafts = queue.drafted - (1 if on_screen else 0)
        _button(self.back_to_skipped, f"Back to skipped ({queue.skipped})", queue.skipped)
        _button(self.back_to_drafts, f"Drafts ({drafts})", drafts)
        self._estimate.value = self._estimate_line(queue)
        # Empty rows take no room: the widget stays where the eye expects it.
        self._ways_back.layout.display = "" if queue.skipped or drafts else "none"
        self._estimate.layout.display = "" if self._estimate.value else "none"

    def _has_draft(self, item: Item) -> bool:
        return item.external_id in self.session.drafts()

    def _nothing_left(self) -> str:
        skipped = self.queue.skipped
        if not skipped:
            return "Nothing left in your queue. Thank you!"
        them = "it" if skipped == 1 else "them"
        return (
            f"No new tasks left. You skipped {skipped}: press Back to skipped ({skipped}) "
            f"to return to {them}, or call loop.reopen(task)."
        )

    def _estimate_line(self, queue: Queue) -> str:
        """Time per task and time left from this loop's submits, once there are enough."""
        if len(self._submitted_at) < ESTIMATE_MIN_SUBMITS:
            return ""
        worked = self._submitted_at[-1] - self._started
        if worked < ESTIMATE_MIN_WORK:
            return ""
        per_task = worked / len(self._submitted_at)
        line = f"About {_duration(per_task)} a task"
        if queue.left:
            line += f"; about {_duration(per_task * queue.left)} for the {queue.left} left"
        return line

    def _save(self, widget: AnnotationWidget, *, draft: bool) -> None:
        item = self.session.current
        try:
            payload = widget.payload
            if draft:
                self.session.save_draft(payload)
                widget.error = ""
                self._refresh()
                self._status.value = f"Draft saved {self._now():%H:%M:%S}"
                return
            self.session.submit(payload)
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            # Keep everything the annotator did; they can fix it or press submit again.
            widget.error = f"Not saved: {exc}. Your work is still here; submit again to retry."
            return
        finally:
            # After the answer's own transaction, and never raising: see record_telemetry.
            self.session.record_telemetry(widget.take_telemetry(), item)
        self._submitted_at.append(self.session.clock())
        self._advance()
        if item is not None:
            self._status.value = f"Submitted {item.external_id} at {self._now():%H:%M:%S}"

    def _now(self) -> dt.datetime:
        """The session's clock in the local time zone: the time on the annotator's wall."""
        return self.session.clock().astimezone()

    def _skip(self) -> None:
        item, widget = self.session.current, self.widget
        try:
            self.session.skip()
        except (AnnolabError, sa.exc.SQLAlchemyError) as exc:
            if self.widget is not None:
                self.widget.error = f"Could not skip: {exc}"
            return
        finally:
            if widget is not None:
                self.session.record_telemetry(widget.take_telemetry(), item)
        self._advance()
        if item is not None:
            skipped = self.queue.skipped
            self._status.value = (
                f"Skipped {item.external_id}: it is kept in Back to skipped ({skipped})"
            )

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


_TAGS = re.compile(r"<[^>]+>")


def _button(button: ipywidgets.Button, description: str, count: int) -> None:
    button.description = description
    button.layout.display = "" if count else "none"


def _duration(span: dt.timedelta) -> str:
    """A span of time as a person says it: ``"40 s"``, ``"12 min"``, ``"2 h 5 min"``."""
    seconds = round(span.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _fill(project: Project, widget: AnnotationWidget, payload: dict[str, Any] | None) -> None:
    """Put ``payload`` in the widget as its editable value."""
    if payload is None:
        return
    if isinstance(widget, LayoutWidget):
        widget.value = payload  # it spreads a payload over its parts itself
        return
    widget.value = project.layout.questions[0].value_of(payload)


def annotate(
    project: Project, user: str | None = None, *, suggestions: bool = True, **kwargs: Any
) -> AnnotationLoop:
    """The annotation loop for ``project`` as ``user`` (default: you).

    ``suggestions``: offer the latest persona or model answer to each task as suggestions.
    """
    return AnnotationLoop(project, Session(project, user), suggestions=suggestions, **kwargs)
