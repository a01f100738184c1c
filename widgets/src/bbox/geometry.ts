/**
 * Geometry of the box editor, as pure functions (no DOM) so node tests cover them.
 *
 * Two coordinate systems meet here. Natural pixels are the image's own pixel grid: what boxes
 * are stored in (annolab.schema.Box) and what Python validates. Display pixels are CSS pixels
 * of the stage the image is drawn on. A `Viewport` maps one to the other:
 *
 *     display = natural * scale + offset
 *
 * Everything the user does arrives in display pixels and is converted here, at the boundary.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** `display = natural * scale + (x, y)`. */
export interface Viewport {
  scale: number;
  x: number;
  y: number;
}

/** The eight resize handles, named by compass direction. */
export type Handle = "n" | "s" | "e" | "w" | "ne" | "nw" | "se" | "sw";

export const HANDLES: readonly Handle[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

/** Sides shorter than this (display pixels) have no middle handle. */
export const MID_HANDLE_MIN_SIDE = 32;

/** How far zoom may go, relative to the scale that fits the whole image in the stage. */
export const MIN_ZOOM_OF_FIT = 0.25;
/** At most this many display pixels per natural pixel: enough to place an edge exactly. */
export const MAX_SCALE = 32;

export function toDisplay(v: Viewport, p: Point): Point {
  return { x: p.x * v.scale + v.x, y: p.y * v.scale + v.y };
}

export function toNatural(v: Viewport, p: Point): Point {
  return { x: (p.x - v.x) / v.scale, y: (p.y - v.y) / v.scale };
}

export function rectToDisplay(v: Viewport, r: Rect): Rect {
  return {
    x: r.x * v.scale + v.x,
    y: r.y * v.scale + v.y,
    width: r.width * v.scale,
    height: r.height * v.scale,
  };
}

/**
 * The scale and offset that show the whole image centred in the stage. A small image is shown
 * at its natural size, never enlarged to the stage (a 320 px image at 298% is all blur);
 * zooming in is the annotator's choice.
 */
export function fitViewport(image: Size, stage: Size): Viewport {
  if (image.width <= 0 || image.height <= 0 || stage.width <= 0 || stage.height <= 0) {
    return { scale: 1, x: 0, y: 0 };
  }
  const scale = Math.min(stage.width / image.width, stage.height / image.height, 1);
  return {
    scale,
    x: (stage.width - image.width * scale) / 2,
    y: (stage.height - image.height * scale) / 2,
  };
}

/**
 * Zooms by `factor` around `anchor` (display pixels): the natural point under the anchor stays
 * under it, which is what makes wheel zoom feel like zooming "into" the pointer. The scale is
 * kept between a quarter of the fit scale and MAX_SCALE.
 */
export function zoomAt(v: Viewport, factor: number, anchor: Point, fitScale: number): Viewport {
  const minScale = Math.min(fitScale * MIN_ZOOM_OF_FIT, MAX_SCALE);
  const scale = clamp(v.scale * factor, minScale, Math.max(MAX_SCALE, minScale));
  const natural = toNatural(v, anchor);
  return { scale, x: anchor.x - natural.x * scale, y: anchor.y - natural.y * scale };
}

export function panBy(v: Viewport, dx: number, dy: number): Viewport {
  return { scale: v.scale, x: v.x + dx, y: v.y + dy };
}

/**
 * The stage's height for a stage `width` wide: the image's height at the fit scale (never
 * enlarged), at least `least` so the toolbar and an empty state fit, and at most `most` (a
 * share of the window) so the whole image is in view without scrolling the notebook.
 */
export function stageHeight(width: number, image: Size | null, least: number, most: number): number {
  const ceiling = Math.max(least, most);
  if (image === null || image.width <= 0 || image.height <= 0) {
    return Math.round(Math.min(ceiling, Math.max(least, width * 0.6)));
  }
  const shown = Math.min(width, image.width) * (image.height / image.width);
  return Math.round(Math.min(ceiling, Math.max(least, shown)));
}

/**
 * Whether a wheel event zooms: only with Ctrl or Cmd held (a trackpad pinch arrives as a wheel
 * event with ctrlKey set). A plain wheel scrolls the notebook, as it does everywhere else.
 */
export function wheelZooms(e: { ctrlKey: boolean; metaKey: boolean }): boolean {
  return e.ctrlKey || e.metaKey;
}

/** The zoom factor of one wheel event; trackpads send many small deltas, mice a few big ones. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  // deltaMode 1 counts lines and 2 pages; bring both to roughly pixels.
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-clamp(pixels, -300, 300) * 0.002);
}

/** The rectangle spanned by two corners, in any order. */
export function rectFromCorners(a: Point, b: Point): Rect {
  return {
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    width: Math.abs(b.x - a.x),
    height: Math.abs(b.y - a.y),
  };
}

/** The point moved inside the image (edges included). */
export function clampPoint(p: Point, image: Size): Point {
  return { x: clamp(p.x, 0, image.width), y: clamp(p.y, 0, image.height) };
}

/** The part of `r` inside the image; zero-sized when they do not meet. */
export function clampRect(r: Rect, image: Size): Rect {
  const x0 = clamp(r.x, 0, image.width);
  const y0 = clamp(r.y, 0, image.height);
  const x1 = clamp(r.x + r.width, 0, image.width);
  const y1 = clamp(r.y + r.height, 0, image.height);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** `r` moved by (dx, dy), stopped at the image's edges so the whole box stays inside. */
export function moveRect(r: Rect, dx: number, dy: number, image: Size): Rect {
  return {
    x: clamp(r.x + dx, 0, Math.max(0, image.width - r.width)),
    y: clamp(r.y + dy, 0, Math.max(0, image.height - r.height)),
    width: r.width,
    height: r.height,
  };
}

/**
 * `origin` resized by dragging `handle` to `pointer` (natural pixels). The edges the handle
 * names follow the pointer; the others stay put. An edge stops at the image border and
 * `minSize` before the opposite edge, so a resize never flips the box or empties it.
 */
export function resizeRect(
  origin: Rect,
  handle: Handle,
  pointer: Point,
  image: Size,
  minSize: number,
): Rect {
  let x0 = origin.x;
  let y0 = origin.y;
  let x1 = origin.x + origin.width;
  let y1 = origin.y + origin.height;
  // A box smaller than minSize (drawn from Python) may keep its size but not shrink further.
  const minW = Math.min(minSize, x1 - x0);
  const minH = Math.min(minSize, y1 - y0);
  if (handle.includes("w")) x0 = clamp(pointer.x, 0, x1 - minW);
  if (handle.includes("e")) x1 = clamp(pointer.x, x0 + minW, image.width);
  if (handle.includes("n")) y0 = clamp(pointer.y, 0, y1 - minH);
  if (handle.includes("s")) y1 = clamp(pointer.y, y0 + minH, image.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Where each handle sits on a rectangle (any units). */
export function handlePosition(r: Rect, handle: Handle): Point {
  const x = handle.includes("w") ? r.x : handle.includes("e") ? r.x + r.width : r.x + r.width / 2;
  const y = handle.includes("n") ? r.y : handle.includes("s") ? r.y + r.height : r.y + r.height / 2;
  return { x, y };
}

/**
 * The handles a display rectangle shows: on a side shorter than `minSide` the middle handle
 * would crowd the corners and hide the box, so only the corners remain.
 */
export function handlesFor(r: Rect, minSide: number): Handle[] {
  return HANDLES.filter((handle) => {
    if (handle === "n" || handle === "s") return r.width >= minSide;
    if (handle === "e" || handle === "w") return r.height >= minSide;
    return true;
  });
}

/** The handle of display rectangle `r` within `radius` display pixels of `p`, or null. */
export function hitHandle(r: Rect, p: Point, radius: number): Handle | null {
  let best: Handle | null = null;
  let bestDistance = Infinity;
  for (const handle of handlesFor(r, MID_HANDLE_MIN_SIDE)) {
    const h = handlePosition(r, handle);
    const distance = Math.max(Math.abs(h.x - p.x), Math.abs(h.y - p.y));
    if (distance <= radius && distance < bestDistance) {
      best = handle;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The index of the box under `p`, or -1. Boxes are grown by `tolerance` on every side (so a
 * thin box can be grabbed). Of several, the one with the smallest area wins, so a box inside
 * another stays reachable; on a tie, the later one, which is drawn on top.
 */
export function hitBox(boxes: readonly Rect[], p: Point, tolerance: number): number {
  let found = -1;
  let foundArea = Infinity;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i] as Rect;
    if (
      p.x >= b.x - tolerance &&
      p.x <= b.x + b.width + tolerance &&
      p.y >= b.y - tolerance &&
      p.y <= b.y + b.height + tolerance
    ) {
      const area = b.width * b.height;
      if (area <= foundArea) {
        found = i;
        foundArea = area;
      }
    }
  }
  return found;
}

/** True when the display rectangle is at least partly inside the stage: cheap culling. */
export function intersectsStage(r: Rect, stage: Size): boolean {
  return r.x + r.width >= 0 && r.y + r.height >= 0 && r.x <= stage.width && r.y <= stage.height;
}

export function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

export function cursorFor(handle: Handle): string {
  switch (handle) {
    case "n":
    case "s":
      return "ns-resize";
    case "e":
    case "w":
      return "ew-resize";
    case "ne":
    case "sw":
      return "nesw-resize";
    case "nw":
    case "se":
      return "nwse-resize";
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
