/**
 * Draws boxes on two stacked canvases, so a drag redraws one box, not a thousand:
 *
 *   base     every box and suggestion except the selected or edited one; redrawn when the
 *            boxes, the selection or the view change
 *   overlay  the selected box with its handles, or the box a gesture is drawing, moving or
 *            resizing; redrawn on every pointer move of a drag
 *
 * Label names reach the page only through fillText, which paints pixels: a name containing
 * markup cannot become HTML here.
 *
 * A disputed box (adjudication: not in every answer) gets a second outline, thick, dashed and
 * amber over a dark halo, so it shows on light and dark images and themes alike, and a "⚠"
 * sign at its top-right corner. The hidden list (a11y.ts) says the same in words.
 */
import { readableTextColor } from "../common/labels";
import type { Box, Doc, Selection } from "./doc";
import {
  MID_HANDLE_MIN_SIDE,
  type Rect,
  type Size,
  type Viewport,
  handlePosition,
  handlesFor,
  intersectsStage,
  rectToDisplay,
} from "./geometry";

export interface Scene {
  viewport: Viewport;
  stage: Size;
  doc: Doc;
  selection: Selection;
  colors: ReadonlyMap<string, string>;
  /** The box a gesture is editing (index -1: a new one), shown on the overlay in its place. */
  editing: { index: number; rect: Rect } | null;
  /** The label a new box gets. */
  drawLabel: string | null;
  /** Indexes into `doc.boxes` of the boxes not in every answer. */
  disputed: ReadonlySet<number>;
}

const FALLBACK_COLOR = "#c7c7c7";
/**
 * A dark band under every outline: the label's light tint reads on dark images by itself, and
 * the band makes it read on bright, busy ones too (a double stroke, as map labels have).
 */
const HALO = "rgba(0, 0, 0, 0.85)";
const HANDLE_SIZE = 8;
const TAG_HEIGHT = 16;
/** Tags are left off boxes smaller than this on screen: they would hide what they label. */
const TAG_MIN_WIDTH = 24;
const SUGGESTION_DASH = [6, 4];
/** Amber: a warning, and unlike the label palette's tints it stands out on any image. */
export const DISPUTED_COLOR = "#ffb000";
const DISPUTED_DASH = [10, 5];
const DISPUTED_SIGN = "⚠";
const SIGN_SIZE = 16;

export class Layers {
  readonly base: HTMLCanvasElement;
  readonly overlay: HTMLCanvasElement;
  private font = "12px sans-serif";
  private readonly tagWidths = new Map<string, number>();

  constructor(base: HTMLCanvasElement, overlay: HTMLCanvasElement) {
    this.base = base;
    this.overlay = overlay;
  }

  /** Sizes both canvases to the stage, in device pixels so lines stay sharp on HiDPI. */
  resize(stage: Size, dpr: number, fontFamily: string): void {
    for (const canvas of [this.base, this.overlay]) {
      canvas.width = Math.max(1, Math.round(stage.width * dpr));
      canvas.height = Math.max(1, Math.round(stage.height * dpr));
      canvas.style.width = `${stage.width}px`;
      canvas.style.height = `${stage.height}px`;
      context(canvas).setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.font = `12px ${fontFamily || "sans-serif"}`;
    this.tagWidths.clear();
  }

  drawBase(scene: Scene): void {
    const ctx = context(this.base);
    ctx.clearRect(0, 0, scene.stage.width, scene.stage.height);
    const { doc, selection, editing } = scene;
    // The selected and the edited box live on the overlay.
    const skipBoxes = new Set<number>();
    if (selection?.kind === "box") skipBoxes.add(selection.index);
    if (editing !== null) skipBoxes.add(editing.index);
    const skipSuggestions = new Set<number>();
    if (selection?.kind === "suggestion") skipSuggestions.add(selection.index);
    const boxes = visible(scene, doc.boxes, skipBoxes);
    const suggestions = visible(scene, doc.suggestions, skipSuggestions);

    // One path per colour and pass, not one per box: 1,000 boxes stay a few draw calls.
    const byColor = groupByColor(boxes, scene.colors);
    ctx.globalAlpha = 0.14;
    for (const [color, rects] of byColor) fillRects(ctx, rects, color);
    ctx.globalAlpha = 1;
    strokeRects(ctx, boxes.map((b) => b.rect), HALO, 4.5, []);
    for (const [color, rects] of byColor) strokeRects(ctx, rects, color, 2, []);

    strokeRects(ctx, suggestions.map((s) => s.rect), HALO, 4.5, SUGGESTION_DASH);
    for (const [color, rects] of groupByColor(suggestions, scene.colors)) {
      strokeRects(ctx, rects, color, 2, SUGGESTION_DASH);
    }

    // Only when some are disputed: a view without any pays nothing for it.
    const flagged = scene.disputed.size === 0 ? [] : disputedRects(boxes, scene.disputed);
    strokeDisputed(ctx, flagged);

    ctx.font = this.font;
    for (const { box, rect } of boxes) this.tag(ctx, rect, box.label, colorOf(scene, box.label));
    for (const { box, rect } of suggestions) {
      this.tag(ctx, rect, suggestionTag(box), colorOf(scene, box.label));
    }
    // Last, so a neighbour's tag never hides a sign.
    for (const rect of flagged) drawSign(ctx, rect);
  }

  drawOverlay(scene: Scene): void {
    const ctx = context(this.overlay);
    ctx.clearRect(0, 0, scene.stage.width, scene.stage.height);
    ctx.font = this.font;
    const { doc, selection, editing, viewport } = scene;
    if (selection?.kind === "box" && selection.index !== editing?.index) {
      const box = doc.boxes[selection.index];
      if (box !== undefined) {
        const rect = rectToDisplay(viewport, box);
        this.emphasised(ctx, rect, box.label, scene, editing === null);
        if (scene.disputed.has(selection.index)) {
          strokeDisputed(ctx, [rect]);
          drawSign(ctx, rect);
        }
      }
    }
    if (selection?.kind === "suggestion") {
      const box = doc.suggestions[selection.index];
      if (box !== undefined) {
        const rect = rectToDisplay(viewport, box);
        const color = colorOf(scene, box.label);
        strokeRects(ctx, [rect], HALO, 4, SUGGESTION_DASH);
        strokeRects(ctx, [rect], color, 2.5, SUGGESTION_DASH);
        this.tag(ctx, rect, suggestionTag(box), color, true);
      }
    }
    if (editing !== null) {
      const label = editing.index >= 0 ? doc.boxes[editing.index]?.label : scene.drawLabel;
      this.emphasised(ctx, rectToDisplay(viewport, editing.rect), label ?? "", scene, false);
    }
  }

  /** A selected or edited box: thicker lines, always tagged, with handles when selected. */
  private emphasised(
    ctx: CanvasRenderingContext2D,
    rect: Rect,
    label: string,
    scene: Scene,
    handles: boolean,
  ): void {
    const color = colorOf(scene, label);
    ctx.globalAlpha = 0.22;
    fillRects(ctx, [rect], color);
    ctx.globalAlpha = 1;
    strokeRects(ctx, [rect], HALO, 4.5, []);
    strokeRects(ctx, [rect], color, 2.5, []);
    this.tag(ctx, rect, label, color, true);
    if (!handles) return;
    const half = HANDLE_SIZE / 2;
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    for (const handle of handlesFor(rect, MID_HANDLE_MIN_SIDE)) {
      const p = handlePosition(rect, handle);
      ctx.fillRect(p.x - half, p.y - half, HANDLE_SIZE, HANDLE_SIZE);
      ctx.strokeRect(p.x - half + 0.5, p.y - half + 0.5, HANDLE_SIZE - 1, HANDLE_SIZE - 1);
    }
  }

  /** The label tag above a box's top-left corner (inside it when the box touches the top). */
  private tag(
    ctx: CanvasRenderingContext2D,
    rect: Rect,
    text: string,
    color: string,
    always = false,
  ): void {
    if (text === "") return;
    if (!always && (rect.width < TAG_MIN_WIDTH || rect.height < TAG_HEIGHT / 2)) return;
    let width = this.tagWidths.get(text);
    if (width === undefined) {
      width = Math.ceil(ctx.measureText(text).width) + 8;
      this.tagWidths.set(text, width);
    }
    const y = rect.y >= TAG_HEIGHT ? rect.y - TAG_HEIGHT : rect.y;
    ctx.fillStyle = color;
    ctx.fillRect(rect.x, y, width, TAG_HEIGHT);
    ctx.fillStyle = readableTextColor(color) ?? "#000000";
    ctx.textBaseline = "middle";
    ctx.fillText(text, rect.x + 4, y + TAG_HEIGHT / 2 + 0.5);
  }
}

interface Shown {
  box: Box;
  rect: Rect;
  /** The box's index in its list. */
  index: number;
}

/** Display rects of the boxes that reach into the stage, leaving out the indices in `skip`. */
function visible(scene: Scene, boxes: readonly Box[], skip: ReadonlySet<number>): Shown[] {
  const shown: Shown[] = [];
  for (let i = 0; i < boxes.length; i++) {
    if (skip.has(i)) continue;
    const box = boxes[i] as Box;
    const rect = rectToDisplay(scene.viewport, box);
    if (intersectsStage(rect, scene.stage)) shown.push({ box, rect, index: i });
  }
  return shown;
}

/** The rects of the shown boxes whose index is in `disputed`. */
function disputedRects(shown: readonly Shown[], disputed: ReadonlySet<number>): Rect[] {
  const rects: Rect[] = [];
  for (const { rect, index } of shown) if (disputed.has(index)) rects.push(rect);
  return rects;
}

/** The disputed outline: a dark halo under a thick amber dash, just outside the box's line. */
function strokeDisputed(ctx: CanvasRenderingContext2D, rects: readonly Rect[]): void {
  if (rects.length === 0) return;
  ctx.beginPath();
  for (const r of rects) ctx.rect(r.x - 2, r.y - 2, r.width + 4, r.height + 4);
  ctx.setLineDash([]);
  ctx.lineWidth = 5;
  ctx.strokeStyle = HALO;
  ctx.stroke();
  ctx.setLineDash(DISPUTED_DASH);
  ctx.lineWidth = 3;
  ctx.strokeStyle = DISPUTED_COLOR;
  ctx.stroke();
}

/** The "⚠" sign on an amber square at the box's top-right corner, above it as tags are. */
function drawSign(ctx: CanvasRenderingContext2D, rect: Rect): void {
  const x = rect.x + rect.width - SIGN_SIZE + 2;
  const y = rect.y >= SIGN_SIZE + 2 ? rect.y - SIGN_SIZE - 2 : rect.y;
  ctx.setLineDash([]);
  ctx.fillStyle = DISPUTED_COLOR;
  ctx.fillRect(x, y, SIGN_SIZE, SIGN_SIZE);
  ctx.lineWidth = 1;
  ctx.strokeStyle = HALO;
  ctx.strokeRect(x + 0.5, y + 0.5, SIGN_SIZE - 1, SIGN_SIZE - 1);
  ctx.fillStyle = "#000000";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(DISPUTED_SIGN, x + SIGN_SIZE / 2, y + SIGN_SIZE / 2 + 0.5);
  ctx.textAlign = "start";
}

function colorOf(scene: Scene, label: string): string {
  return scene.colors.get(label) ?? FALLBACK_COLOR;
}

function groupByColor(
  shown: readonly Shown[],
  colors: ReadonlyMap<string, string>,
): Map<string, Rect[]> {
  const groups = new Map<string, Rect[]>();
  for (const { box, rect } of shown) {
    const color = colors.get(box.label) ?? FALLBACK_COLOR;
    let group = groups.get(color);
    if (group === undefined) groups.set(color, (group = []));
    group.push(rect);
  }
  return groups;
}

function fillRects(ctx: CanvasRenderingContext2D, rects: readonly Rect[], color: string): void {
  ctx.beginPath();
  for (const r of rects) ctx.rect(r.x, r.y, r.width, r.height);
  ctx.fillStyle = color;
  ctx.fill();
}

function strokeRects(
  ctx: CanvasRenderingContext2D,
  rects: readonly Rect[],
  color: string,
  width: number,
  dash: number[],
): void {
  if (rects.length === 0) return;
  ctx.beginPath();
  for (const r of rects) ctx.rect(r.x, r.y, r.width, r.height);
  ctx.setLineDash(dash);
  ctx.lineWidth = width;
  ctx.strokeStyle = color;
  ctx.stroke();
}

/** "dog 0.87": a suggestion's tag shows its score. */
function suggestionTag(box: Box): string {
  const score = box.score;
  return score === undefined || score === null ? box.label : `${box.label} ${score.toFixed(2)}`;
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d");
  if (ctx === null) throw new Error("annolab: this browser gives no 2D canvas context");
  return ctx;
}
