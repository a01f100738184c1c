/**
 * The box editor of one view: wires the pointer, the keyboard, the image and the canvases to
 * the boxes (store.ts, which keeps them in step with Python). While a drag runs only the page
 * changes; the edit goes to Python once, on release.
 *
 * With `read_only` the editor is a viewer: a drag pans, a click selects, keys only select and
 * zoom, and the action bar (undo, redo, skip, draft, submit) is gone. `disputed` boxes are
 * drawn flagged (render.ts) and said so in the hidden list.
 */
import type { AnyModel } from "@anywidget/types";

import { type ActionBar, actionBar, errorBanner } from "../common/chrome";
import { assignHotkeys } from "../common/hotkeys";
import {
  bumpNonce,
  guardShortcuts,
  isRedo,
  isSaveDraft,
  isSkip,
  isSubmit,
  isUndo,
} from "../common/keys";
import { type Box, cycleSelection, selectedBox } from "./doc";
import {
  type Point,
  type Size,
  type Viewport,
  cursorFor,
  fitViewport,
  hitBox,
  hitHandle,
  intersectsStage,
  moveRect,
  panBy,
  rectToDisplay,
  toNatural,
  stageHeight,
  wheelFactor,
  wheelZooms,
  zoomAt,
} from "./geometry";
import {
  type EditorState,
  GRAB_RADIUS,
  type Gesture,
  drag,
  gestureBox,
  inspect,
  press,
  release,
} from "./gesture";
import { type KeyAction, allowedWhenReadOnly, keyAction } from "./keymap";
import type { BBoxModel } from "./model";
import type { Scene } from "./render";
import { suppressOnFocus } from "./shortcuts";
import { BoxStore } from "./store";
import type { ToolbarAction } from "./toolbar";
import { EditorView } from "./view";

const COMMON_KEYS = { isUndo, isRedo, isSubmit, isSkip, isSaveDraft };
const ZOOM_STEP = 1.25;
/** Keys that keep their usual meaning on the toolbar's buttons and chips. */
const STAGE_ONLY_KEYS = new Set([
  "Enter",
  "Tab",
  "ArrowLeft",
  "ArrowRight",
  "ArrowUp",
  "ArrowDown",
]);
/**
 * The stage is as high as the image at full width, within bounds: at least this (CSS pixels),
 * and at most this share of the window, so the whole widget fits on screen while annotating.
 */
const STAGE_MIN_HEIGHT = 200;
const STAGE_MAX_SHARE_OF_WINDOW = 0.6;

export class Editor {
  private readonly model: AnyModel<BBoxModel>;
  private readonly view: EditorView;
  private readonly store: BoxStore;
  private readonly cleanups: Array<() => void> = [];
  /** Undo, redo, skip, draft, submit; none in a read-only view. */
  private bar: ActionBar | null = null;
  private readOnly = false;
  /** Indexes into the boxes; a new set on each change, which tells the hidden list to rebuild. */
  private disputed: ReadonlySet<number> = new Set();

  private viewport: Viewport = { scale: 1, x: 0, y: 0 };
  /** The view follows "fit" (on resize too) until the user zooms or pans. */
  private fitted = true;
  private stage: Size = { width: 0, height: 0 };
  /** Natural size; null until known (a URL image reports it once loaded). */
  private image: Size | null = null;
  private gesture: Gesture | null = null;
  private pointerId: number | null = null;
  private panKey = false;
  private drawLabel: string | null = null;
  private colors = new Map<string, string>();
  private hotkeys = new Map<string, string>();
  private frame = 0;
  private dirty = { base: false, overlay: false, list: false };
  /** When render() began; the first frame with boxes is measured from here (User Timing). */
  private readonly started = performance.now();
  private measured = false;

  constructor(model: AnyModel<BBoxModel>, el: HTMLElement) {
    this.model = model;
    this.view = new EditorView((action) => this.onToolbar(action));
    this.store = new BoxStore(model, {
      changed: () => {
        this.updateBar();
        this.invalidate({ base: true, overlay: true, list: true });
      },
      say: (message) => this.view.announcer.say(message),
    });
    el.append(this.view.root);

    const root = this.view.root;
    this.cleanups.push(guardShortcuts(root), suppressOnFocus(root), errorBanner(root, model));
    this.listenToDom();
    this.listenToModel();
    this.readMode();
    this.readDisputed();
    this.readLabels();
    this.loadImage();
    this.invalidate({ base: true, overlay: true, list: true });
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.bar?.dispose();
    this.bar = null;
    this.store.dispose();
    this.view.dispose();
  }

  // --- wiring -------------------------------------------------------------------------------

  private listen<E extends Event>(
    target: EventTarget,
    type: string,
    handler: (event: E) => void,
    options?: AddEventListenerOptions,
  ): void {
    const listener = handler as EventListener;
    target.addEventListener(type, listener, options);
    this.cleanups.push(() => target.removeEventListener(type, listener, options));
  }

  private listenToDom(): void {
    const { stage, root } = this.view;
    const image = this.view.image.element;
    this.listen<PointerEvent>(stage, "pointerdown", (e) => this.onPointerDown(e));
    this.listen<PointerEvent>(stage, "pointermove", (e) => this.onPointerMove(e));
    this.listen<PointerEvent>(stage, "pointerup", (e) => this.onPointerUp(e));
    this.listen<PointerEvent>(stage, "pointercancel", () => this.cancelGesture());
    // Not passive: Ctrl/Cmd + wheel zooms the image, and must not also zoom the page.
    this.listen<WheelEvent>(stage, "wheel", (e) => this.onWheel(e), { passive: false });
    // The middle button must not start the browser's autoscroll.
    this.listen<MouseEvent>(stage, "auxclick", (e) => e.preventDefault());
    this.listen<KeyboardEvent>(root, "keydown", (e) => this.onKeyDown(e));
    this.listen<KeyboardEvent>(root, "keyup", (e) => this.onKeyUp(e));
    // A Space released while focus was elsewhere never sends keyup here.
    this.listen<FocusEvent>(stage, "blur", () => this.setPanKey(false));
    this.listen<Event>(image, "load", () => this.onImageLoad());
    this.listen<Event>(image, "error", () => this.onImageError());

    const observer = new ResizeObserver(() => this.layout());
    observer.observe(root);
    // The stage's height follows the window's, which the observer does not see.
    this.listen<UIEvent>(window, "resize", () => this.layout());
    this.cleanups.push(() => observer.disconnect());
  }

  private listenToModel(): void {
    const on = (event: string, handler: () => void): void => {
      this.model.on(event, handler);
      this.cleanups.push(() => this.model.off(event, handler));
    };
    on("change:labels", () => this.readLabels());
    on("change:image", () => this.loadImage());
    on("change:image_url", () => this.loadImage());
    on("change:image_width", () => this.loadImage());
    on("change:image_height", () => this.loadImage());
    on("change:image_name", () => this.invalidate({ list: true }));
    on("change:read_only", () => this.readMode());
    on("change:disputed", () => this.readDisputed());
  }

  // --- model -> page ------------------------------------------------------------------------

  /** Editor or viewer: the action bar exists only in an editor, and a drag under way ends. */
  private readMode(): void {
    this.readOnly = this.model.get("read_only") === true;
    this.view.root.classList.toggle("annolab-bbox-readonly", this.readOnly);
    if (this.readOnly) {
      this.cancelGesture();
      this.bar?.dispose();
      this.bar = null;
    } else if (this.bar === null) {
      const model = this.model;
      this.bar = actionBar(
        this.view.root,
        {
          onUndo: () => this.store.undo(),
          onRedo: () => this.store.redo(),
          onSubmit: () => bumpNonce(model, "submit_count"),
          onSkip: () => bumpNonce(model, "skip_count"),
          onDraft: () => bumpNonce(model, "draft_count"),
          shortcuts: () => BBOX_SHORTCUTS,
        },
        // With the model, Skip and Submit follow show_submit and Save draft show_draft.
        model,
      );
      this.updateBar();
    }
    this.invalidate({ base: true, overlay: true, list: true });
  }

  private readDisputed(): void {
    this.disputed = new Set(this.model.get("disputed") ?? []);
    this.invalidate({ base: true, overlay: true, list: true });
  }

  private readLabels(): void {
    const labels = this.model.get("labels");
    this.colors = new Map(labels.map((l) => [l.name, l.color]));
    // Every label gets a key, as in NER and Classify (digits, then letters of its name).
    const keys = assignHotkeys(
      labels.map((l) => ({
        name: l.name,
        color: l.color,
        hotkey: l.hotkey ?? null,
        description: l.description ?? "",
      })),
    );
    this.hotkeys = keys.byKey;
    if (this.drawLabel === null || !this.colors.has(this.drawLabel)) {
      this.drawLabel = labels[0]?.name ?? null;
    }
    this.view.toolbar.setLabels(labels, keys.byLabel);
    this.invalidate({ base: true, overlay: true });
  }

  private loadImage(): void {
    const model = this.model;
    const width = model.get("image_width");
    const height = model.get("image_height");
    // Python's size when it knows it (it validates boxes against it); else the browser's.
    this.image = width > 0 && height > 0 ? { width, height } : null;
    this.view.image.setSize(this.image);
    const url = model.get("image_url");
    if (this.view.image.show(model.get("image"), model.get("image_mime"), url)) {
      const some = url !== "" || (model.get("image")?.byteLength ?? 0) > 0;
      this.view.message.textContent = some ? "Loading the image…" : "No image.";
    }
    this.fitted = true;
    this.layout();
  }

  private onImageLoad(): void {
    this.view.message.textContent = "";
    if (this.image === null) {
      const { naturalWidth: width, naturalHeight: height } = this.view.image.element;
      this.image = { width, height };
      this.view.image.setSize(this.image);
      this.store.notify({ op: "size", width, height });
      this.fitted = true;
      this.layout();
    }
  }

  private onImageError(): void {
    const name = this.model.get("image_name") || this.model.get("image_url");
    this.view.message.textContent = `The image ${name} could not be loaded.`;
  }

  /** Sizes the stage to the widget's width and the image's aspect ratio. */
  private layout(): void {
    const width = Math.floor(this.view.stage.clientWidth);
    if (width <= 0) return; // not attached yet; the ResizeObserver calls again
    const most = window.innerHeight * STAGE_MAX_SHARE_OF_WINDOW;
    const height = stageHeight(width, this.image, STAGE_MIN_HEIGHT, most);
    if (width !== this.stage.width || height !== this.stage.height) {
      this.stage = { width, height };
      this.view.stage.style.height = `${height}px`;
      const font = getComputedStyle(this.view.root).fontFamily;
      this.view.layers.resize(this.stage, window.devicePixelRatio || 1, font);
    }
    if (this.fitted && this.image !== null) this.viewport = fitViewport(this.image, this.stage);
    this.invalidate({ base: true, overlay: true });
  }

  // --- drawing ------------------------------------------------------------------------------

  private invalidate(parts: Partial<Editor["dirty"]>): void {
    this.dirty = {
      base: this.dirty.base || (parts.base ?? false),
      overlay: this.dirty.overlay || (parts.overlay ?? false),
      list: this.dirty.list || (parts.list ?? false),
    };
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const dirty = this.dirty;
    this.dirty = { base: false, overlay: false, list: false };
    const ready = this.image !== null && this.stage.width > 0;
    if (ready) {
      this.view.image.place(this.viewport);
      const scene = this.scene();
      if (dirty.base) this.view.layers.drawBase(scene);
      if (dirty.overlay) this.view.layers.drawOverlay(scene);
    }
    this.view.toolbar.update({
      drawLabel: this.drawLabel,
      scale: this.viewport.scale,
      selected: this.store.selection?.kind ?? null,
      suggestions: this.store.doc.suggestions.length,
      readOnly: this.readOnly,
    });
    if (dirty.list) {
      const { doc, selection } = this.store;
      this.view.list.update(doc, selection, this.disputed);
      const name = this.model.get("image_name");
      const flagged = this.countDisputed();
      this.view.describe(name, doc.boxes.length, doc.suggestions.length, flagged, this.readOnly);
    }
    if (ready && !this.measured) {
      // Shows in DevTools' performance panel, and the browser tests read it.
      this.measured = true;
      performance.measure("annolab-bbox: first frame", { start: this.started });
    }
  }

  private updateBar(): void {
    this.bar?.update(this.store.canUndo, this.store.canRedo);
  }

  /** Disputed indexes that name a box; while an edit waits for Python some may not. */
  private countDisputed(): number {
    let count = 0;
    const total = this.store.doc.boxes.length;
    for (const index of this.disputed) if (index < total) count += 1;
    return count;
  }

  private scene(): Scene {
    return {
      viewport: this.viewport,
      stage: this.stage,
      doc: this.store.doc,
      selection: this.store.selection,
      colors: this.colors,
      editing: gestureBox(this.gesture),
      drawLabel: this.drawLabel,
      disputed: this.disputed,
    };
  }

  private state(): EditorState {
    return {
      doc: this.store.doc,
      selection: this.store.selection,
      viewport: this.viewport,
      image: this.image ?? { width: 0, height: 0 },
    };
  }

  // --- pointer ------------------------------------------------------------------------------

  private point(e: MouseEvent): Point {
    const bounds = this.view.stage.getBoundingClientRect();
    return { x: e.clientX - bounds.left, y: e.clientY - bounds.top };
  }

  private onPointerDown(e: PointerEvent): void {
    if (this.image === null || this.gesture !== null || (e.button !== 0 && e.button !== 1)) return;
    e.preventDefault(); // no text selection, no native image drag
    this.view.stage.focus({ preventScroll: true });
    const input = { point: this.point(e), button: e.button, panKey: this.panKey };
    const started = this.readOnly ? inspect(this.state(), input) : press(this.state(), input);
    this.gesture = started.gesture;
    this.pointerId = e.pointerId;
    this.view.stage.setPointerCapture(e.pointerId);
    this.store.select(started.selection);
    this.updateCursor(e);
    this.invalidate({ overlay: true });
  }

  private onPointerMove(e: PointerEvent): void {
    if (this.gesture === null || e.pointerId !== this.pointerId) {
      this.updateCursor(e);
      return;
    }
    const wasEditing = gestureBox(this.gesture) !== null;
    this.gesture = drag(this.gesture, this.point(e), this.state());
    if (this.gesture.kind === "pan") {
      this.viewport = this.gesture.viewport;
      this.fitted = false;
      this.invalidate({ base: true, overlay: true });
    } else {
      // The edited box leaves the base layer once, when the drag starts.
      this.invalidate({ base: !wasEditing && gestureBox(this.gesture) !== null, overlay: true });
    }
  }

  private onPointerUp(e: PointerEvent): void {
    if (this.gesture === null || e.pointerId !== this.pointerId) return;
    const gesture = this.drop();
    const { patch, selection } = release(gesture, this.state(), this.drawLabel);
    if (patch !== null) this.store.commit(patch);
    else this.store.select(selection);
    this.updateCursor(e);
    this.invalidate({ base: true, overlay: true });
  }

  /** Ends the gesture without an edit (Escape, a lost pointer). */
  private cancelGesture(): void {
    if (this.gesture === null) return;
    const gesture = this.drop();
    if (gesture.kind === "pan") this.viewport = gesture.origin;
    this.invalidate({ base: true, overlay: true });
  }

  private drop(): Gesture {
    const gesture = this.gesture as Gesture;
    if (this.pointerId !== null && this.view.stage.hasPointerCapture(this.pointerId)) {
      this.view.stage.releasePointerCapture(this.pointerId);
    }
    this.gesture = null;
    this.pointerId = null;
    return gesture;
  }

  private updateCursor(e: MouseEvent): void {
    this.view.stage.style.cursor = this.cursorAt(this.point(e));
  }

  private cursorAt(p: Point): string {
    if (this.gesture?.kind === "pan") return "grabbing";
    if (this.panKey) return "grab";
    if (this.readOnly) {
      const natural = toNatural(this.viewport, p);
      const tolerance = GRAB_RADIUS / 2 / this.viewport.scale;
      return hitBox(this.store.doc.boxes, natural, tolerance) >= 0 ? "pointer" : "grab";
    }
    if (this.gesture?.kind === "resize") return cursorFor(this.gesture.handle);
    if (this.gesture?.kind === "move") return "move";
    const box = this.selectedBox()?.box;
    const handle = box && hitHandle(rectToDisplay(this.viewport, box), p, GRAB_RADIUS);
    if (handle) return cursorFor(handle);
    const natural = toNatural(this.viewport, p);
    const tolerance = GRAB_RADIUS / 2 / this.viewport.scale;
    if (hitBox(this.store.doc.boxes, natural, tolerance) >= 0) return "move";
    return "crosshair";
  }

  private onWheel(e: WheelEvent): void {
    // Scroll is scroll: without Ctrl/Cmd the event goes on and the notebook scrolls.
    if (this.image === null || !wheelZooms(e)) return;
    e.preventDefault();
    this.zoom(wheelFactor(e.deltaY, e.deltaMode), this.point(e));
  }

  private zoom(factor: number, anchor: Point): void {
    if (this.image === null) return;
    const fitScale = fitViewport(this.image, this.stage).scale;
    this.viewport = zoomAt(this.viewport, factor, anchor, fitScale);
    this.fitted = false;
    this.invalidate({ base: true, overlay: true });
  }

  // --- keyboard -----------------------------------------------------------------------------

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === " " && e.target === this.view.stage) {
      e.preventDefault(); // Space would scroll the notebook
      this.setPanKey(true);
      return;
    }
    const onStage = e.target === this.view.stage;
    if (!onStage && STAGE_ONLY_KEYS.has(e.key) && !(e.ctrlKey || e.metaKey)) return;
    const action = keyAction(e, {
      selection: this.store.selection,
      dragging: this.gesture !== null,
      hotkeys: this.hotkeys,
      common: COMMON_KEYS,
    });
    if (action === null) return;
    // A read-only view swallows the keys that would edit, so Ctrl+S, say, does not fall
    // through to the browser's "save page" either.
    if (!(this.readOnly && !allowedWhenReadOnly(action)) && !this.run(action)) return;
    e.preventDefault();
    e.stopPropagation();
  }

  private onKeyUp(e: KeyboardEvent): void {
    if (e.key === " ") this.setPanKey(false);
  }

  private setPanKey(down: boolean): void {
    if (this.panKey === down) return;
    this.panKey = down;
    this.view.stage.classList.toggle("annolab-bbox-panning", down);
  }

  /** Runs a key's action; false when it did nothing, so the key goes on to the browser. */
  private run(action: KeyAction): boolean {
    const selection = this.store.selection;
    switch (action.kind) {
      case "undo":
        this.store.undo();
        return true;
      case "redo":
        this.store.redo();
        return true;
      case "submit":
        bumpNonce(this.model, "submit_count");
        return true;
      case "skip":
        bumpNonce(this.model, "skip_count");
        return true;
      case "draft":
        bumpNonce(this.model, "draft_count");
        return true;
      case "cancel":
        this.cancelGesture();
        return true;
      case "deselect":
        this.store.select(null);
        return true;
      case "delete":
        if (selection === null) return false;
        this.store.commit({
          op: selection.kind === "box" ? "remove" : "reject",
          index: selection.index,
        });
        return true;
      case "accept":
        if (selection?.kind !== "suggestion") return false;
        this.store.commit({ op: "accept", index: selection.index });
        return true;
      case "nudge":
        return this.nudge(action.dx, action.dy);
      case "cycle": {
        const next = cycleSelection(this.store.doc, selection, action.step);
        this.store.select(next);
        if (next === null) return false; // let Tab take focus out of the widget
        this.reveal();
        return true;
      }
      case "label":
        return this.pickLabel(action.name);
      case "zoom":
        this.zoomKey(action.how);
        return true;
    }
  }

  private nudge(dx: number, dy: number): boolean {
    const selected = this.selectedBox();
    if (selected === null || this.image === null || this.gesture !== null) return false;
    const { box, index } = selected;
    const moved = moveRect(box, dx, dy, this.image);
    if (moved.x !== box.x || moved.y !== box.y) {
      this.store.commit({ op: "move", index, x: moved.x, y: moved.y });
    }
    this.reveal();
    return true; // at the edge the key still belongs to the box, not to page scrolling
  }

  /** Sets the label for new boxes, and relabels the selected box. */
  private pickLabel(name: string): boolean {
    this.drawLabel = name;
    const selected = this.selectedBox();
    if (selected !== null && selected.box.label !== name) {
      this.store.commit({ op: "relabel", index: selected.index, label: name });
    } else {
      this.view.announcer.say(`New boxes get the label ${name}.`);
      this.invalidate({ overlay: true });
    }
    return true;
  }

  private zoomKey(how: "in" | "out" | "fit"): void {
    if (how === "fit") {
      this.fitted = true;
      this.layout();
      return;
    }
    const centre = { x: this.stage.width / 2, y: this.stage.height / 2 };
    this.zoom(how === "in" ? ZOOM_STEP : 1 / ZOOM_STEP, centre);
  }

  /** Scrolls the view so the selected item is on screen (Tab and nudges may leave it). */
  private reveal(): void {
    const box = selectedBox(this.store.doc, this.store.selection);
    if (box === undefined) return;
    const rect = rectToDisplay(this.viewport, box);
    if (intersectsStage(rect, this.stage)) return;
    const dx = this.stage.width / 2 - (rect.x + rect.width / 2);
    const dy = this.stage.height / 2 - (rect.y + rect.height / 2);
    this.viewport = panBy(this.viewport, dx, dy);
    this.fitted = false;
    this.invalidate({ base: true, overlay: true });
  }

  /** The selected box of `value` (not a suggestion), or null. */
  private selectedBox(): { box: Box; index: number } | null {
    const selection = this.store.selection;
    if (selection?.kind !== "box") return null;
    const box = this.store.doc.boxes[selection.index];
    return box === undefined ? null : { box, index: selection.index };
  }

  private onToolbar(action: ToolbarAction): void {
    if (this.readOnly && action.kind !== "zoom") return;
    const selection = this.store.selection;
    switch (action.kind) {
      case "label":
        this.pickLabel(action.name);
        break;
      case "zoom":
        this.zoomKey(action.how);
        break;
      case "delete":
        if (selection?.kind === "box") this.store.commit({ op: "remove", index: selection.index });
        break;
      case "accept":
        if (selection?.kind === "suggestion") {
          this.store.commit({ op: "accept", index: selection.index });
        }
        break;
      case "reject":
        if (selection?.kind === "suggestion") {
          this.store.commit({ op: "reject", index: selection.index });
        }
        break;
      case "accept_all":
      case "reject_all":
        if (this.store.doc.suggestions.length > 0) this.store.commit({ op: action.kind });
        break;
    }
  }
}

/** The BBox keys, for the shortcut list ("?"); keymap.ts is the whole table. */
const BBOX_SHORTCUTS = [
  { keys: "Drag", what: "Draw a box; drag a box to move it, a handle to resize" },
  { keys: "Label key", what: "Pick the label to draw with; relabel the selected box" },
  { keys: "Ctrl+wheel, + / - / 0", what: "Zoom in, out, fit (the wheel alone scrolls the page)" },
  { keys: "Space+drag, middle button", what: "Pan" },
  { keys: "Arrows (Shift: 10 px)", what: "Move the selected box" },
  { keys: "Tab / Shift+Tab", what: "Select the next / previous box" },
  { keys: "Delete / Enter", what: "Delete the selected box or reject a suggestion / accept it" },
] as const;
