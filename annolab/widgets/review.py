"""The review and adjudication panels of the annotation loop.

The panels show stored answers read-only and report the decision through callbacks; the loop
(``annolab/annotate.py``) turns those into session calls. Keys, while a panel's action bar has
focus: ``A`` approve / ``R`` reject / ``E`` revise at a review, ``1``…``9`` pick that answer and
``M`` merge at an adjudication. The bar takes keys only while focused, and marks the focused
element so JupyterLab's command-mode shortcuts (``a``, ``r``, ``m``, digits…) stay out of the
way; the label hotkeys of NER/Classify/BBox apply only inside those widgets, which are not on
screen while the bar is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anywidget
import ipywidgets
import traitlets

__all__ = ["ActionBar", "AdjudicationPanel", "ReviewPanel", "Shown"]

# Plain DOM, no build step: buttons and a reason field. Keys act only while focus is inside,
# and the focused element carries the attribute Lumino stops at (see widgets/src/common/keys.ts).
_BAR_ESM = """
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "annolab-actions";
  root.tabIndex = 0;
  const mark = (e) => e.target.setAttribute("data-lm-suppress-shortcuts", "");
  const unmark = (e) => e.target.removeAttribute("data-lm-suppress-shortcuts");
  root.addEventListener("focusin", mark);
  root.addEventListener("focusout", unmark);
  const press = (name) => {
    model.set("pressed", name);
    model.set("presses", model.get("presses") + 1);
    model.save_changes();
  };
  const draw = () => {
    root.replaceChildren();
    const hint = document.createElement("div");
    hint.className = "annolab-keys";
    hint.textContent = "Click here, then press a key: " +
      model.get("actions").map((a) => a.key + " " + a.title).join(" · ");
    root.appendChild(hint);
    for (const a of model.get("actions")) {
      const b = document.createElement("button");
      b.textContent = a.title + " (" + a.key + ")";
      b.dataset.action = a.name;
      b.addEventListener("click", () => press(a.name));
      root.appendChild(b);
    }
    if (model.get("with_reason")) {
      const r = document.createElement("input");
      r.placeholder = "Reason (required to reject)";
      r.className = "annolab-reason";
      r.size = 32;  // room for the placeholder and a short reason
      r.value = model.get("reason");
      r.addEventListener("input", () => { model.set("reason", r.value); model.save_changes(); });
      root.appendChild(r);
    }
    const err = document.createElement("div");
    err.className = "annolab-error";
    err.style.color = "#c0392b";
    err.textContent = model.get("error");
    root.appendChild(err);
  };
  root.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const hit = model.get("actions").find((a) => a.key.toLowerCase() === e.key.toLowerCase());
    if (hit) { e.preventDefault(); press(hit.name); }
  });
  model.on("change:actions", draw);
  model.on("change:error", draw);
  model.on("change:with_reason", draw);
  draw();
  el.appendChild(root);
}
export default { render };
"""


class ActionBar(anywidget.AnyWidget):
    """Buttons with one-key shortcuts, and an optional reason field; ``on_press`` hears them."""

    _esm = _BAR_ESM
    actions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    with_reason = traitlets.Bool(False).tag(sync=True)
    reason = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    pressed = traitlets.Unicode("").tag(sync=True)
    presses = traitlets.Int(0).tag(sync=True)

    def __init__(self, actions: Sequence[tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(
            actions=[{"name": n, "title": t, "key": k} for n, t, k in actions], **kwargs
        )
        self._callbacks: list[Callable[[str], None]] = []

    def on_press(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def press(self, name: str) -> None:
        """What a click or the key does in the page (tests call it directly)."""
        self.pressed = name
        self.presses += 1

    @traitlets.observe("presses")
    def _pressed(self, _change: traitlets.Bunch) -> None:
        for callback in list(self._callbacks):
            callback(self.pressed)


@dataclass(frozen=True)
class Shown:
    """One stored answer as a panel shows it: a line of text, the read-only widgets that draw
    it over the task (none when the line says it all) and, at an adjudication, the note of
    what it does not share with the others. ``annolab.kinds.compare`` makes these."""

    line: str
    views: Sequence[ipywidgets.Widget] = ()
    note: str = ""


class ReviewPanel(ipywidgets.VBox):  # type: ignore[misc]
    """The work under review, read-only, and Approve / Reject (with a reason) / Revise.

    ``against`` is a model's or persona's answer to the same task: shown beside the work, each
    with what differs from the other marked, and the work's ``note`` saying what the person
    changed.
    """

    def __init__(
        self,
        work: Sequence[Shown],
        authors: Sequence[str],
        *,
        blind: bool,
        against: Shown | None = None,
    ) -> None:
        self.heading = ipywidgets.Label()
        who = ", ".join(a for a in authors if a)
        # Blind: the reviewer judges the work, not the person; the name stays hidden.
        self.heading.value = (
            "Work under review (annotator hidden: blind workflow)"
            if blind or not who
            else f"Work under review by {who}"
        )
        self.summary = ipywidgets.Label(" | ".join(shown.line for shown in work))
        self.views = [view for shown in work for view in shown.views]
        self.changes = ipywidgets.Label(" | ".join(s.note for s in work if s.note))
        self.bar = ActionBar(
            [("approve", "Approve", "A"), ("reject", "Reject", "R"), ("revise", "Revise", "E")],
            with_reason=True,
        )
        shown: list[ipywidgets.Widget] = [*self.views, self.summary]
        if against is not None:
            column = {"flex": "1 1 0", "border": "1px solid #ccc", "padding": "4px"}
            self.model = ipywidgets.VBox(
                [
                    ipywidgets.Label("Model's answer"),
                    *against.views,
                    ipywidgets.Label(against.line),
                ],
                layout=column,
            )
            person = ipywidgets.VBox(
                [ipywidgets.Label("The work"), *shown, self.changes], layout=column
            )
            shown = [ipywidgets.HBox([self.model, person])]
        super().__init__([self.heading, *shown, self.bar])


class AdjudicationPanel(ipywidgets.VBox):  # type: ignore[misc]
    """Every released answer side by side, what they disagree on, and pick / merge / own."""

    def __init__(self, answers: Sequence[Shown], authors: Sequence[str], *, blind: bool) -> None:
        self.names = [
            f"Annotator {i + 1}" if blind or not authors[i] else authors[i]
            for i in range(len(answers))
        ]
        self.columns = []
        self.notes = []
        for name, shown in zip(self.names, answers, strict=True):
            note = ipywidgets.Label(shown.note)
            self.notes.append(note)
            self.columns.append(
                ipywidgets.VBox(
                    [ipywidgets.Label(name), *shown.views, ipywidgets.Label(shown.line), note],
                    layout={"flex": "1 1 0", "border": "1px solid #ccc", "padding": "4px"},
                )
            )
        self.side_by_side = ipywidgets.HBox(self.columns)
        actions = [(f"pick{i}", f"Pick {name}", str(i + 1)) for i, name in enumerate(self.names)]
        actions += [("merge", "Merge (edit the union)", "M"), ("own", "Write my own", "W")]
        self.bar = ActionBar(actions[:9] + actions[-2:] if len(actions) > 11 else actions)
        super().__init__([ipywidgets.Label("Adjudicate"), self.side_by_side, self.bar])
