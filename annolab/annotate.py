"""``project.annotate()``: the annotation loop in a cell.

The project's widget, bound to your session: Submit & next (Ctrl+Enter), Save draft (Ctrl+S),
Skip (Esc), your progress, the guidelines, and a clear message when nothing is left. A failed
save keeps the annotation in the widget with the error shown; submitting again retries, and the
retry can never duplicate (the annotation id is derived from the assignment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ipywidgets
import sqlalchemy as sa

from annolab.errors import AnnolabError
from annolab.session import Item, Session

if TYPE_CHECKING:
    from annolab.project import Project
    from annolab.widgets._base import AnnotationWidget

WidgetFactory = Callable[["Project", Item], "AnnotationWidget"]


def default_widget(project: Project, item: Item) -> AnnotationWidget:
    """The widget the project's layout asks for, filled with the claimed task."""
    from annolab.widgets import NER, BBox, Classify

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
        self, project: Project, session: Session, widget_for: WidgetFactory = default_widget
    ) -> None:
        self.project = project
        self.session = session
        self._widget_for = widget_for
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
        widget = self._widget_for(self.project, item)
        widget.on_submit(lambda w: self._save(w, draft=False))
        widget.on_skip(lambda _w: self._skip())
        widget.on_draft(lambda w: self._save(w, draft=True))
        widget.show_draft = True
        widget.observe(lambda _change: self._renew(), names="value")
        self._show(widget, "")

    def _show(self, widget: AnnotationWidget | None, message: str) -> None:
        self.widget = widget
        self._message.value = message
        self._status.value = self._progress_line()
        children = [self._status, self._guides]
        self.children = [*children, widget] if widget is not None else [*children, self._message]

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


def annotate(project: Project, user: str | None = None, **kwargs: Any) -> AnnotationLoop:
    """The annotation loop for ``project`` as ``user`` (default: you)."""
    return AnnotationLoop(project, Session(project, user), **kwargs)
