/**
 * Pointer gestures as pure state transitions: press -> drag* -> release. No DOM, so every
 * branch is tested under node; index.ts feeds it pointer events and draws what it returns.
 *
 * What a press starts (display pixels in, natural pixels out):
 *   - middle button, or any button while Space is held: pan;
 *   - on a handle of the selected box: resize;
 *   - on a box: move (a press without a drag just selects it);
 *   - anywhere else, suggestions included: draw a new box with the current label
 *     (a press without a drag selects the suggestion under it, or clears the selection).
 *
 * While a gesture runs only the page changes; `release` gives the one patch to send to Python.
 * A read-only view starts gestures with `inspect` instead: they pan and select, never edit.
 */
import {
  type Handle,
  type Point,
  type Rect,
  type Size,
  type Viewport,
  clampPoint,
  hitBox,
  hitHandle,
  moveRect,
  panBy,
  rectFromCorners,
  rectToDisplay,
  resizeRect,
  sameRect,
  toNatural,
} from "./geometry";
import type { Doc, Patch, Selection } from "./doc";

/** A press must travel this far (display pixels) before it drags; less is a click. */
export const DRAG_THRESHOLD = 3;
/** Handles and box edges are grabbed within this many display pixels. */
export const GRAB_RADIUS = 6;
/** The smallest box a resize leaves, in natural pixels. */
export const MIN_SIZE = 1;

export interface EditorState {
  doc: Doc;
  selection: Selection;
  viewport: Viewport;
  image: Size;
}

export interface Press {
  /** Display pixels, relative to the stage. */
  point: Point;
  /** MouseEvent.button: 0 main, 1 middle. */
  button: number;
  /** Space is held down: every drag pans. */
  panKey: boolean;
}

export type Gesture =
  | { kind: "pan"; start: Point; origin: Viewport; viewport: Viewport }
  | {
      kind: "draw";
      start: Point;
      /** Natural pixels, rounded and inside the image. */
      anchor: Point;
      rect: Rect;
      dragging: boolean;
      /** The suggestion pressed on, selected if the press turns out to be a click. */
      suggestion: number;
    }
  | { kind: "move"; start: Point; index: number; origin: Rect; rect: Rect; dragging: boolean }
  | { kind: "resize"; index: number; handle: Handle; origin: Rect; rect: Rect };

/** Starts a gesture; the selection changes at once when a box is pressed. */
export function press(
  state: EditorState,
  input: Press,
): { gesture: Gesture; selection: Selection } {
  const { doc, selection, viewport } = state;
  if (input.button === 1 || input.panKey) {
    const gesture: Gesture = { kind: "pan", start: input.point, origin: viewport, viewport };
    return { gesture, selection };
  }
  if (selection !== null && selection.kind === "box") {
    const box = doc.boxes[selection.index];
    const handle = box && hitHandle(rectToDisplay(viewport, box), input.point, GRAB_RADIUS);
    if (box && handle) {
      const origin = rectOf(box);
      const index = selection.index;
      const gesture: Gesture = { kind: "resize", index, handle, origin, rect: origin };
      return { gesture, selection };
    }
  }
  const natural = toNatural(viewport, input.point);
  const tolerance = GRAB_RADIUS / 2 / viewport.scale;
  const boxHit = hitBox(doc.boxes, natural, tolerance);
  const suggestionHit = hitBox(doc.suggestions, natural, tolerance);
  if (boxHit >= 0 && !smaller(doc.suggestions[suggestionHit], doc.boxes[boxHit])) {
    const origin = rectOf(doc.boxes[boxHit] as Rect);
    const gesture: Gesture = {
      kind: "move",
      start: input.point,
      index: boxHit,
      origin,
      rect: origin,
      dragging: false,
    };
    return { gesture, selection: { kind: "box", index: boxHit } };
  }
  const anchor = roundPoint(clampPoint(natural, state.image));
  const gesture: Gesture = {
    kind: "draw",
    start: input.point,
    anchor,
    rect: { ...anchor, width: 0, height: 0 },
    dragging: false,
    suggestion: suggestionHit,
  };
  return { gesture, selection };
}

/**
 * Starts a gesture in a read-only view: every drag pans, and the box (or else the
 * suggestion) under the pointer becomes selected, to look at; nothing can be edited.
 */
export function inspect(
  state: EditorState,
  input: Press,
): { gesture: Gesture; selection: Selection } {
  const { doc, viewport } = state;
  const gesture: Gesture = { kind: "pan", start: input.point, origin: viewport, viewport };
  if (input.button === 1 || input.panKey) return { gesture, selection: state.selection };
  const natural = toNatural(viewport, input.point);
  const tolerance = GRAB_RADIUS / 2 / viewport.scale;
  const boxHit = hitBox(doc.boxes, natural, tolerance);
  const suggestionHit = hitBox(doc.suggestions, natural, tolerance);
  if (boxHit >= 0 && !smaller(doc.suggestions[suggestionHit], doc.boxes[boxHit])) {
    return { gesture, selection: { kind: "box", index: boxHit } };
  }
  const selection: Selection =
    suggestionHit >= 0 ? { kind: "suggestion", index: suggestionHit } : null;
  return { gesture, selection };
}

/** The gesture after the pointer moved to `point` (display pixels). */
export function drag(gesture: Gesture, point: Point, state: EditorState): Gesture {
  switch (gesture.kind) {
    case "pan": {
      const dx = point.x - gesture.start.x;
      const dy = point.y - gesture.start.y;
      return { ...gesture, viewport: panBy(gesture.origin, dx, dy) };
    }
    case "draw": {
      const dragging = gesture.dragging || travelled(gesture.start, point);
      if (!dragging) return gesture;
      const end = roundPoint(clampPoint(toNatural(state.viewport, point), state.image));
      return { ...gesture, dragging, rect: rectFromCorners(gesture.anchor, end) };
    }
    case "move": {
      const dragging = gesture.dragging || travelled(gesture.start, point);
      if (!dragging) return gesture;
      // Whole natural pixels of travel: a box Python placed at x=10.5 stays on its half pixel.
      const dx = Math.round((point.x - gesture.start.x) / state.viewport.scale);
      const dy = Math.round((point.y - gesture.start.y) / state.viewport.scale);
      return { ...gesture, dragging, rect: moveRect(gesture.origin, dx, dy, state.image) };
    }
    case "resize": {
      const pointer = roundPoint(toNatural(state.viewport, point));
      const rect = resizeRect(gesture.origin, gesture.handle, pointer, state.image, MIN_SIZE);
      return { ...gesture, rect };
    }
  }
}

/** Ends the gesture: the patch to send (or null) and the selection to show. */
export function release(
  gesture: Gesture,
  state: EditorState,
  label: string | null,
): { patch: Patch | null; selection: Selection } {
  const { selection } = state;
  switch (gesture.kind) {
    case "pan":
      return { patch: null, selection };
    case "draw": {
      if (!gesture.dragging) {
        const picked = gesture.suggestion;
        const clicked: Selection = picked >= 0 ? { kind: "suggestion", index: picked } : null;
        return { patch: null, selection: clicked };
      }
      const { rect } = gesture;
      if (label === null || rect.width < MIN_SIZE || rect.height < MIN_SIZE) {
        return { patch: null, selection };
      }
      return { patch: { op: "add", box: { ...rect, label } }, selection };
    }
    case "move": {
      const { rect, origin, index } = gesture;
      if (!gesture.dragging || sameRect(rect, origin)) return { patch: null, selection };
      return { patch: { op: "move", index, x: rect.x, y: rect.y }, selection };
    }
    case "resize": {
      const { rect, origin, index } = gesture;
      if (sameRect(rect, origin)) return { patch: null, selection };
      return { patch: { op: "resize", index, box: rect }, selection };
    }
  }
}

/**
 * What the gesture draws on the interaction layer: the box being drawn, moved or resized
 * (natural pixels), with the index of the box it stands in for (-1 for a new one).
 */
export function gestureBox(gesture: Gesture | null): { index: number; rect: Rect } | null {
  if (gesture === null) return null;
  switch (gesture.kind) {
    case "pan":
      return null;
    case "draw":
      return gesture.dragging ? { index: -1, rect: gesture.rect } : null;
    case "move":
      return { index: gesture.index, rect: gesture.rect };
    case "resize":
      return { index: gesture.index, rect: gesture.rect };
  }
}

function rectOf(r: Rect): Rect {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

function roundPoint(p: Point): Point {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

function travelled(a: Point, b: Point): boolean {
  return Math.hypot(b.x - a.x, b.y - a.y) >= DRAG_THRESHOLD;
}

/** True when `a` exists and has a smaller area than `b`: the smaller of two wins a press. */
function smaller(a: Rect | undefined, b: Rect | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a.width * a.height < b.width * b.height;
}
