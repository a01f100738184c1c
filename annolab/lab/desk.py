"""A desk: the annotation loop of one JupyterLab tab, run on the server without a kernel.

The tab shows the same widget front ends as a notebook (``annolab/static/<bundle>.js``). Here
the Python side of those widgets lives in the Jupyter server: a desk holds the project's
``AnnotationLoop`` (the very loop ``proj.annotate()`` shows), so claiming, filling the widget,
suggestions, validation, drafts, skips and the retry rules are the notebook's. The tab sends
what an anywidget model would send over a comm (trait changes from ``save_changes``, custom
messages such as patches) and gets back the traits Python changed and its replies.

State goes as JSON: bytes traits (a text sent as UTF-8, an image) travel as
``{"$bytes": <base64>}``, which the tab turns back into the ``DataView`` a widget reads.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traitlets

from annolab.annotate import AnnotationLoop
from annolab.errors import ValidationError
from annolab.lab import steps
from annolab.session import Session
from annolab.widgets import LayoutWidget
from annolab.widgets._base import STATIC_DIR, AnnotationWidget

if TYPE_CHECKING:
    from annolab.project import Project

# Traits of ipywidgets' own machinery (the comm's model and view names, DOM layout, the
# front-end code itself): the tab has no use for them.
_NOT_SYNCED = {
    "_esm",
    "_css",
    "_anywidget_id",
    "_dom_classes",
    "_model_module",
    "_model_module_version",
    "_model_name",
    "_view_count",
    "_view_module",
    "_view_module_version",
    "_view_name",
    "layout",
    "tabbable",
    "tooltip",
}


def bundle_of(widget: AnnotationWidget) -> str:
    """The name of the widget's front end in ``annolab/static`` (``ner``, ``classify``, ...).

    Each widget class sits in a module named after its front end (STYLE.md 1); the file is
    checked, so a widget from elsewhere says so instead of loading the wrong code.
    """
    name = type(widget).__module__.rsplit(".", 1)[-1]
    if not (STATIC_DIR / f"{name}.js").is_file():
        rule = f"has no front end at {STATIC_DIR / name}.js; it cannot be shown outside a notebook"
        raise ValidationError("widget", type(widget).__name__, rule)
    return name


def to_json(value: Any) -> Any:
    """A trait value as JSON: bytes as ``{"$bytes": base64}``, tuples as lists."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    """The inverse of ``to_json`` for what a tab sends back."""
    if isinstance(value, Mapping):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            return base64.b64decode(value["$bytes"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def synced_state(widget: AnnotationWidget) -> dict[str, Any]:
    """What the front end reads: the widget's synced traits, without ipywidgets' own."""
    state = widget.get_state()
    return {k: to_json(v) for k, v in state.items() if k not in _NOT_SYNCED}


class Desk:
    """One tab's annotation loop on ``project``, as the server's user.

    ``view()`` is what the tab draws; ``change`` and ``message`` apply what the tab's widgets
    did and return the new view. Calls are serialised: a tab's requests may overlap.
    """

    def __init__(self, project: Project, user: str | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.project = project
        self._lock = threading.Lock()
        self._replies: list[dict[str, Any]] = []
        self._shown: tuple[object, ...] = ()
        self._sent: list[dict[str, Any]] = []
        self._generation = 0
        self._queue = {"done": 0, "open": 0}
        self.loop = AnnotationLoop(project, Session(project, user))

    # -- what the tab shows ----------------------------------------------------------------

    def parts(self) -> list[AnnotationWidget]:
        """The anywidgets on screen: at a review or adjudication step the answers' read-only
        views first, then the editable widget itself, or a layout's parts in order."""
        shown: list[Any] = steps.panel_views(self.loop)
        widget = self.loop.widget
        if widget is None:
            return shown
        if isinstance(widget, LayoutWidget):
            return [*shown, *widget.children]
        return [*shown, widget]

    def _read_only(self) -> int:
        """How many of ``parts()`` are read-only views of stored answers (they come first)."""
        return len(steps.panel_views(self.loop))

    def view(self) -> dict[str, Any]:
        """The loop as JSON: the status line and your queue's counts, a message, and the current
        widget's parts.

        When the same widget is still on screen, each part carries only the traits that
        changed since the last view (``"full": false``); a new widget comes in full.
        """
        parts = self.parts()
        item = self.loop.session.current
        # A new task is a new view even when nothing is drawn for it (a review of a choice
        # shows only text): the task's assignment is part of what is on screen.
        task = None if item is None else item.assignment_id
        shown = (task, id(self.loop.panel), *(id(p) for p in parts))
        full = shown != self._shown
        if full:
            self._generation += 1
            self._shown = shown
            self._sent = [{} for _ in parts]
            # The counts change only when the task does (submitted, skipped, the queue ran dry).
            done, open_ = self.loop.session.queue_counts()
            self._queue = {"done": done, "open": open_}
        out_parts = []
        for index, part in enumerate(parts):
            state = synced_state(part)
            sent = self._sent[index]
            changed = {k: v for k, v in state.items() if full or sent.get(k, _UNSET) != v}
            self._sent[index] = state
            entry: dict[str, Any] = {"state": changed}
            if full:
                entry["bundle"] = bundle_of(part)
            out_parts.append(entry)
        step = steps.step_view(self.loop, {id(p): i for i, p in enumerate(parts)})
        replies, self._replies = self._replies, []
        return {
            "desk": self.id,
            "project": self.project.name,
            "widget": self._generation if parts else None,
            "full": full,
            "parts": out_parts,
            "progress": self.loop.progress,
            "queue": dict(self._queue),
            "message": self.loop.message,
            "step": step,
            "read_only": self._read_only(),
            "task": None if item is None else item.external_id,
            "replies": replies,
        }

    def full_view(self) -> dict[str, Any]:
        """The view with every part in full under a new widget number: for a tab that has none
        of it yet (a page reloaded, a tab restored onto this desk)."""
        with self._lock:
            self._shown = ()
            return self.view()

    # -- what the tab did ------------------------------------------------------------------

    def change(self, widget: int, part: int, state: Mapping[str, Any]) -> dict[str, Any]:
        """Traits the tab set and saved (``model.set``, ``model.save_changes``), as a comm
        would deliver them: a submit or skip nonce runs the loop's own callbacks."""
        with self._lock:
            target = self._part(widget, part)
            if not isinstance(state, Mapping):
                raise ValidationError("state", state, "must be an object of trait values")
            unknown = sorted(set(state) - set(synced_state(target)))
            if unknown:
                rule = f"are not synced traits of {type(target).__name__}"
                raise ValidationError("state", unknown, rule)
            values = {k: from_json(v) for k, v in state.items()}
            # Remember what the tab already has, so the view sends back only what Python made
            # different (a nonce, the value after validation, an error).
            self._sent[part].update({k: to_json(v) for k, v in values.items()})
            try:
                target.set_state(values)
            except traitlets.TraitError as exc:
                # traitlets rolled the change back; the next view sends the part in full, so
                # the tab takes Python's state again.
                self._sent[part] = {}
                if isinstance(exc, ValidationError):
                    raise
                raise ValidationError("state", dict(state), f"was refused: {exc}") from exc
            return self.view()

    def message(self, widget: int, part: int, content: Any) -> dict[str, Any]:
        """A custom message from the tab (``model.send``), handled as in a kernel; the
        widget's replies come back in the view's ``replies`` (``{"part", "content"}``)."""
        with self._lock:
            target = self._part(widget, part)

            def reply(content: Any, buffers: Any = None) -> None:
                del buffers  # no widget the tab shows answers with binary buffers
                self._replies.append({"part": part, "content": to_json(content)})

            # The comm is a stand-in outside a kernel: what the widget sends is caught here.
            target.send = reply
            try:
                # Every handler the widget registered with on_msg runs, as in a kernel; like
                # the kernel's, ipywidgets' dispatcher logs a handler's failure and goes on.
                target._handle_custom_msg(from_json(content), [])
            finally:
                del target.send
            return self.view()

    def act(self, action: str) -> dict[str, Any]:
        """``submit``, ``skip`` or ``draft`` from outside the widget (a button of the tab, an
        API client): the same nonces the widget's own buttons bump."""
        with self._lock:
            widget = self.loop.widget
            if widget is None and self.loop.panel is not None:
                # Nothing is submitted at a review or adjudication step but a decision taken
                # on the work shown: a bare submit must never complete a task unseen.
                rule = "is not a decision: at a review or adjudication step POST decide"
                raise ValidationError("action", action, rule)
            if widget is None:
                raise ValidationError("action", action, "has no task to act on: the queue is empty")
            actions = {"submit": "submit", "skip": "skip", "draft": "save_draft"}
            if action not in actions:
                raise ValidationError("action", action, f"must be one of {sorted(actions)}")
            getattr(widget, actions[action])()
            return self.view()

    def decide(
        self, task: Any, decision: Any, reason: Any = "", answer: Any = None
    ) -> dict[str, Any]:
        """A decision on ``task`` (the task id on screen) at a review (``approve``, ``reject``
        with a reason, ``revise``) or an adjudication (``pick`` with ``answer``, ``merge``,
        ``own``), taken by the loop's own code as a click in the notebook's panel.

        Naming the task makes a retried request safe: once the decision is taken the next
        task is on screen, and a second copy of the request is refused instead of deciding
        on work nobody has seen."""
        with self._lock:
            item = self.loop.session.current
            shown = None if item is None else item.external_id
            if task != shown:
                rule = (
                    f"is not the task on screen (now {shown!r}): reload the view and decide again"
                )
                raise ValidationError("task", task, rule)
            steps.decide(self.loop, decision, reason, answer)
            return self.view()

    def _part(self, widget: int, part: int) -> AnnotationWidget:
        parts = self.parts()
        if widget != self._generation or not parts:
            rule = (
                f"is not the widget on screen (now {self._generation if parts else 'none'}); "
                "the task moved on: reload the view"
            )
            raise ValidationError("widget", widget, rule)
        if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part < len(parts):
            raise ValidationError("part", part, f"must be an index from 0 to {len(parts) - 1}")
        if part < self._read_only():
            # A stored answer under review is shown, never changed (nor submitted) from here.
            raise ValidationError("part", part, "is a read-only view of a stored answer")
        return parts[part]


_UNSET = object()


def static_file(name: str) -> Path | None:
    """``annolab/static/<name>`` if it is a built front-end file, else None."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = STATIC_DIR / name
    return path if path.suffix in {".js", ".css"} and path.is_file() else None
