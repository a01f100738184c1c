/**
 * The boxes being edited and the patches that change them, as pure data (no DOM).
 *
 * The front end never owns the boxes: Python's `value` and `suggestions` traitlets are the
 * source of truth. An edit is applied here at once (so the page answers without waiting for
 * the kernel) and sent to Python as the same patch; `applyPatch` mirrors what
 * annolab/widgets/bbox.py does with it, and Python's answer (its traitlets) wins.
 */
import type { Rect } from "./geometry";

/** One entry of the `value` or `suggestions` traitlet: natural pixels, as annolab.schema.Box. */
export interface Box extends Rect {
  label: string;
  score?: number | null;
}

/** Everything an edit can change; also what undo and redo restore. */
export interface Doc {
  boxes: readonly Box[];
  suggestions: readonly Box[];
}

/** A patch as sent to Python (without its uuid, which the channel adds). */
export type Patch =
  | { op: "add"; box: Box }
  | { op: "move"; index: number; x: number; y: number }
  | { op: "resize"; index: number; box: Rect }
  | { op: "remove"; index: number }
  | { op: "relabel"; index: number; label: string }
  | { op: "accept"; index: number }
  | { op: "reject"; index: number }
  | { op: "accept_all" }
  | { op: "reject_all" }
  | { op: "replace"; boxes: Box[]; suggestions: Box[] };

/** What is selected: a box of `value`, a suggestion, or nothing. */
export type Selection = { kind: "box" | "suggestion"; index: number } | null;

/** The document after `patch`; indices must be valid (the editor only sends valid ones). */
export function applyPatch(doc: Doc, patch: Patch): Doc {
  const boxes = doc.boxes;
  switch (patch.op) {
    case "add":
      return { ...doc, boxes: [...boxes, patch.box] };
    case "move":
      return { ...doc, boxes: replaceAt(boxes, patch.index, { x: patch.x, y: patch.y }) };
    case "resize":
      return { ...doc, boxes: replaceAt(boxes, patch.index, patch.box) };
    case "remove":
      return { ...doc, boxes: boxes.filter((_, i) => i !== patch.index) };
    case "relabel":
      return { ...doc, boxes: replaceAt(boxes, patch.index, { label: patch.label }) };
    case "accept":
      return {
        boxes: [...boxes, at(doc.suggestions, patch.index)],
        suggestions: doc.suggestions.filter((_, i) => i !== patch.index),
      };
    case "reject":
      return { ...doc, suggestions: doc.suggestions.filter((_, i) => i !== patch.index) };
    case "accept_all":
      return { boxes: [...boxes, ...doc.suggestions], suggestions: [] };
    case "reject_all":
      return { ...doc, suggestions: [] };
    case "replace":
      return { boxes: patch.boxes, suggestions: patch.suggestions };
  }
}

/**
 * The selection after `patch`, so the box the user works on stays selected: an added or
 * accepted box becomes selected, a removed one leaves nothing selected.
 */
export function selectionAfter(doc: Doc, patch: Patch, selection: Selection): Selection {
  switch (patch.op) {
    case "add":
    case "accept":
      return { kind: "box", index: doc.boxes.length };
    case "remove":
    case "reject":
    case "accept_all":
    case "reject_all":
    case "replace":
      return null;
    default:
      return selection;
  }
}

/** The selected box or suggestion, or undefined when nothing (valid) is selected. */
export function selectedBox(doc: Doc, selection: Selection): Box | undefined {
  if (selection === null) return undefined;
  const list = selection.kind === "box" ? doc.boxes : doc.suggestions;
  return list[selection.index];
}

/**
 * The next item for Tab (or Shift+Tab with `step` -1): boxes first, then suggestions.
 * Returns null past either end, so the browser's own Tab can take focus out of the widget
 * (a keyboard trap would break navigation for keyboard and screen-reader users).
 */
export function cycleSelection(doc: Doc, selection: Selection, step: 1 | -1): Selection {
  const total = doc.boxes.length + doc.suggestions.length;
  if (total === 0) return null;
  let flat: number;
  if (selection === null) flat = step === 1 ? 0 : total - 1;
  else {
    const current = selection.kind === "box" ? selection.index : doc.boxes.length + selection.index;
    flat = current + step;
  }
  if (flat < 0 || flat >= total) return null;
  return flat < doc.boxes.length
    ? { kind: "box", index: flat }
    : { kind: "suggestion", index: flat - doc.boxes.length };
}

/** True when two documents hold the same boxes and suggestions in the same order. */
export function sameDoc(a: Doc, b: Doc): boolean {
  return sameBoxes(a.boxes, b.boxes) && sameBoxes(a.suggestions, b.suggestions);
}

function sameBoxes(a: readonly Box[], b: readonly Box[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] as Box;
    const q = b[i] as Box;
    if (
      p.x !== q.x ||
      p.y !== q.y ||
      p.width !== q.width ||
      p.height !== q.height ||
      p.label !== q.label ||
      (p.score ?? null) !== (q.score ?? null)
    ) {
      return false;
    }
  }
  return true;
}

function replaceAt(list: readonly Box[], index: number, change: Partial<Box>): Box[] {
  return list.map((box, i) => (i === index ? { ...box, ...change } : box));
}

function at(list: readonly Box[], index: number): Box {
  const box = list[index];
  if (box === undefined) throw new RangeError(`no box at index ${index} (of ${list.length})`);
  return box;
}
