"""The review and adjudication panels of the annotation loop, and where answers disagree.

The panels show stored answers read-only and report the decision through callbacks; the loop
(``annolab/annotate.py``) turns those into session calls. Keys, while a panel's action bar has
focus: ``A`` approve / ``R`` reject / ``E`` revise at a review, ``1``…``9`` pick that answer and
``M`` merge at an adjudication. The bar takes keys only while focused, and marks the focused
element so JupyterLab's command-mode shortcuts (``a``, ``r``, ``m``, digits…) stay out of the
way; the label hotkeys of NER/Classify/BBox apply only inside those widgets, which are not on
screen while the bar is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import ipywidgets
import traitlets

from annolab.widgets.preview import Preview

__all__ = ["ActionBar", "AdjudicationPanel", "ReviewPanel", "describe", "disagreements"]

IOU_MATCH = 0.5

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


def describe(payload: Mapping[str, Any], text: str | None) -> str:
    """A payload as one line of text (shown with ``Label``, never as HTML)."""
    kind = payload.get("kind")
    if kind == "choice":
        return f"Label: {payload.get('label')}"
    if kind == "choices":
        return "Labels: " + ", ".join(map(str, payload.get("labels", [])))
    if kind == "spans":
        parts = [f"{(text or '')[s['start'] : s['end']]!r} {s['label']}" for s in payload["spans"]]
        return "Spans: " + ("; ".join(parts) or "none")
    if kind == "boxes":
        parts = [
            f"{b['label']} at ({b['x']:g}, {b['y']:g}) {b['width']:g} by {b['height']:g}"
            for b in payload.get("boxes", [])
        ]
        return "Boxes: " + ("; ".join(parts) or "none")
    return f"{kind}: {dict(payload)}"


def _iou(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    x1, y1 = max(a["x"], b["x"]), max(a["y"], b["y"])
    x2 = min(a["x"] + a["width"], b["x"] + b["width"])
    y2 = min(a["y"] + a["height"], b["y"] + b["height"])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def disagreements(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """For each answer, the indexes of its parts not shared by every answer.

    Spans: a span (start, end, label) missing from some answer. Choices: the label, when the
    answers' labels differ. Boxes: a box with no same-label box of IoU ≥ 0.5 in every other
    answer.

    >>> disagreements([{"kind": "choice", "label": "a"}, {"kind": "choice", "label": "b"}])
    [[0], [0]]
    >>> a = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "P"}]}
    >>> disagreements([a, {"kind": "spans", "spans": []}])
    [[0], []]
    """
    kinds = {p.get("kind") for p in payloads}
    if len(kinds) != 1:
        return [list(range(max(1, len(_parts(p))))) for p in payloads]
    kind = kinds.pop()
    if kind == "spans":
        keys = [{(s["start"], s["end"], s["label"]) for s in p["spans"]} for p in payloads]
        common = set.intersection(*keys) if keys else set()
        return [
            [
                i
                for i, s in enumerate(p["spans"])
                if (s["start"], s["end"], s["label"]) not in common
            ]
            for p in payloads
        ]
    if kind == "boxes":
        out = []
        for j, p in enumerate(payloads):
            out.append(
                [
                    i
                    for i, box in enumerate(p["boxes"])
                    if not all(
                        any(
                            o["label"] == box["label"] and _iou(o, box) >= IOU_MATCH
                            for o in other["boxes"]
                        )
                        for k, other in enumerate(payloads)
                        if k != j
                    )
                ]
            )
        return out
    if kind == "choices":
        sets = [frozenset(p.get("labels", [])) for p in payloads]
        common_labels = frozenset.intersection(*sets) if sets else frozenset()
        return [
            [i for i, lab in enumerate(p.get("labels", [])) if lab not in common_labels]
            for p in payloads
        ]
    same = len({repr(sorted(p.items())) for p in payloads}) <= 1
    return [[] if same else [0] for _ in payloads]


def _parts(payload: Mapping[str, Any]) -> list[Any]:
    for key in ("spans", "boxes", "labels"):
        if isinstance(payload.get(key), list):
            return list(payload[key])
    return [payload]


def _view(
    payload: Mapping[str, Any], text: str | None, labels: Any, disputed: Sequence[int] = ()
) -> ipywidgets.Widget:
    """One answer, read-only: spans in a Preview, anything else as a line of text."""
    if payload.get("kind") == "spans" and text is not None:
        return Preview(text, spans=payload["spans"], labels=labels, disputed=list(disputed))
    return ipywidgets.Label(describe(payload, text))


def _differs_line(payload: Mapping[str, Any], marks: list[int], text: str | None) -> str:
    if not marks:
        return "Agrees with every other answer."
    parts = _parts(payload)
    if payload.get("kind") == "spans":
        shown = [
            f"{(text or '')[parts[i]['start'] : parts[i]['end']]!r} {parts[i]['label']}"
            for i in marks
        ]
    elif payload.get("kind") == "boxes":
        shown = [f"{parts[i]['label']} at ({parts[i]['x']:g}, {parts[i]['y']:g})" for i in marks]
    elif payload.get("kind") == "choice":
        shown = [str(payload.get("label"))]
    else:
        shown = [str(parts[i]) for i in marks]
    return "⚠ Not in every answer: " + "; ".join(shown)


class ReviewPanel(ipywidgets.VBox):  # type: ignore[misc]
    """The work under review, read-only, and Approve / Reject (with a reason) / Revise."""

    def __init__(
        self,
        work: Sequence[Mapping[str, Any]],
        authors: Sequence[str],
        *,
        text: str | None,
        labels: Any,
        blind: bool,
    ) -> None:
        self.heading = ipywidgets.Label()
        who = ", ".join(a for a in authors if a)
        # Blind: the reviewer judges the work, not the person; the name stays hidden.
        self.heading.value = (
            "Work under review (annotator hidden: blind workflow)"
            if blind or not who
            else f"Work under review by {who}"
        )
        self.summary = ipywidgets.Label(" | ".join(describe(p, text) for p in work))
        self.views = [_view(p, text, labels) for p in work]
        self.bar = ActionBar(
            [("approve", "Approve", "A"), ("reject", "Reject", "R"), ("revise", "Revise", "E")],
            with_reason=True,
        )
        # Answers without spans are already shown as this line of text by their view.
        listed = [self.summary] if any(isinstance(v, Preview) for v in self.views) else []
        super().__init__([self.heading, *self.views, *listed, self.bar])


class AdjudicationPanel(ipywidgets.VBox):  # type: ignore[misc]
    """Every released answer side by side, what they disagree on, and pick / merge / own."""

    def __init__(
        self,
        answers: Sequence[Mapping[str, Any]],
        authors: Sequence[str],
        *,
        text: str | None,
        labels: Any,
        blind: bool,
    ) -> None:
        self.names = [
            f"Annotator {i + 1}" if blind or not authors[i] else authors[i]
            for i in range(len(answers))
        ]
        marks = disagreements(answers)
        self.columns = []
        self.notes = []
        for name, payload, mark in zip(self.names, answers, marks, strict=True):
            note = ipywidgets.Label(_differs_line(payload, mark, text))
            self.notes.append(note)
            view = _view(payload, text, labels, mark)
            listed = (
                [ipywidgets.Label(describe(payload, text))] if isinstance(view, Preview) else []
            )
            self.columns.append(
                ipywidgets.VBox(
                    [ipywidgets.Label(name), view, *listed, note],
                    layout={"flex": "1 1 0", "border": "1px solid #ccc", "padding": "4px"},
                )
            )
        self.side_by_side = ipywidgets.HBox(self.columns)
        actions = [(f"pick{i}", f"Pick {name}", str(i + 1)) for i, name in enumerate(self.names)]
        actions += [("merge", "Merge (edit the union)", "M"), ("own", "Write my own", "W")]
        self.bar = ActionBar(actions[:9] + actions[-2:] if len(actions) > 11 else actions)
        super().__init__([ipywidgets.Label("Adjudicate"), self.side_by_side, self.bar])
