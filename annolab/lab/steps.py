"""Review and adjudication steps in a desk: what the tab shows and the decisions it sends.

The notebook loop shows these steps with ``ReviewPanel`` and ``AdjudicationPanel``, ipywidgets
compositions a tab cannot draw as they are. Their read-only parts (``Preview``, a read-only
``BBox`` ...) are anywidgets, though: the desk sends those as parts, drawn by the same bundles,
and the panels' text (heading, each answer's line, what it disagrees on) as plain data.

A decision from the tab presses the panel's own action bar, so the loop's code runs exactly as
for a click in a notebook: ``Session.review``, ``Session.revise`` and ``Session.adjudicate`` with
their validation and events. Only the reject-without-reason rule is checked here first, so the
API can answer it as a 400 naming the field instead of an error line in the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ipywidgets

from annolab.annotate import AnnotationLoop
from annolab.errors import ValidationError, WorkflowError
from annolab.widgets.review import AdjudicationPanel, ReviewPanel

REVIEW_DECISIONS = ("approve", "reject", "revise")
ADJUDICATION_DECISIONS = ("pick", "merge", "own")


@dataclass
class Answer:
    """One stored answer as the tab shows it: who (or "Annotator 2" when blind), its line of
    text, the note of what it does not share, and its read-only widgets."""

    name: str
    line: str
    note: str = ""
    views: list[Any] = field(default_factory=list)


def _is_view(child: Any) -> bool:
    # The panels put labels around the views; the views themselves are anywidgets.
    return not isinstance(child, (ipywidgets.Label, ipywidgets.Box))


def answers_of(panel: ReviewPanel | AdjudicationPanel) -> list[Answer]:
    """The answers a panel shows, in its order (a model's answer first at an expert review)."""
    if isinstance(panel, AdjudicationPanel):
        found = []
        for name, column, note in zip(panel.names, panel.columns, panel.notes, strict=True):
            children = list(column.children)
            line = children[-2].value if len(children) >= 3 else ""
            views = [c for c in children[1:-2] if _is_view(c)]
            found.append(Answer(name, str(line), str(note.value), views))
        return found
    work = Answer("The work", str(panel.summary.value), str(panel.changes.value), panel.views)
    model = getattr(panel, "model", None)
    if isinstance(model, ipywidgets.VBox):
        children = list(model.children)
        views = [c for c in children[1:-1] if _is_view(c)]
        return [Answer("Model's answer", str(children[-1].value), "", views), work]
    return [work]


def step_view(loop: AnnotationLoop, parts_of: dict[int, int]) -> dict[str, Any] | None:
    """The step's JSON for the tab, or None at an annotation step. ``parts_of`` maps a view's
    ``id`` to its index among the desk's parts (views not on screen are left out)."""
    panel = loop.panel
    if panel is None:
        return None
    review = isinstance(panel, ReviewPanel)
    answers = []
    for answer in answers_of(panel):
        on_screen = [parts_of[id(v)] for v in answer.views if id(v) in parts_of]
        answers.append(
            {"name": answer.name, "line": answer.line, "note": answer.note, "parts": on_screen}
        )
    heading = str(panel.heading.value) if review else "Adjudicate"
    return {
        "kind": "review" if review else "adjudicate",
        "heading": heading,
        "answers": answers,
        "actions": list(panel.bar.actions),
        "reason": str(panel.bar.reason) if review else None,
        "error": str(panel.bar.error),
        # Revising (review) or merging / writing one's own (adjudication): the editable widget
        # is on screen and its submit saves the decision.
        "editing": loop.widget is not None,
    }


def panel_views(loop: AnnotationLoop) -> list[Any]:
    """The read-only views the tab draws: the answers' widgets, except while a reviewer
    revises (the notebook hides the panel then too)."""
    panel = loop.panel
    if panel is None or (isinstance(panel, ReviewPanel) and loop.widget is not None):
        return []
    return [view for answer in answers_of(panel) for view in answer.views]


def decide(loop: AnnotationLoop, decision: Any, reason: Any = "", answer: Any = None) -> None:
    """Press the panel's button for ``decision``; a refusal the loop shows becomes an error.

    Review: ``approve``, ``reject`` (``reason`` required) or ``revise`` (the editable copy comes
    on screen; its submit is the revision, with ``reason`` as the comment). Adjudication:
    ``pick`` (``answer``: the index of the answer shown), ``merge`` or ``own``.
    """
    panel = loop.panel
    if panel is None:
        rule = "needs a review or adjudication step; this task is annotated: submit it"
        raise ValidationError("decision", decision, rule)
    if not isinstance(reason, str):
        raise ValidationError("reason", reason, "must be a string")
    if isinstance(panel, ReviewPanel):
        if decision not in REVIEW_DECISIONS:
            raise ValidationError("decision", decision, f"must be one of {list(REVIEW_DECISIONS)}")
        if loop.widget is not None:
            rule = "cannot be taken while a revision is open: submit the revised copy"
            raise ValidationError("decision", decision, rule)
        if decision == "reject" and not reason.strip():
            raise ValidationError(
                "reason", reason, "a rejection needs a reason saying what is wrong"
            )
        panel.bar.reason = reason
        name = decision
    else:
        if decision not in ADJUDICATION_DECISIONS:
            rule = f"must be one of {list(ADJUDICATION_DECISIONS)}"
            raise ValidationError("decision", decision, rule)
        name = decision
        if decision == "pick":
            count = len(panel.names)
            if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < count:
                rule = f"must be the index of an answer shown, from 0 to {count - 1}"
                raise ValidationError("answer", answer, rule)
            name = f"pick{answer}"
    panel.bar.error = ""
    panel.bar.press(name)
    if loop.panel is panel and panel.bar.error:
        # The session refused (a lease lost, a step moved on): nothing was recorded.
        raise WorkflowError(panel.bar.error)
