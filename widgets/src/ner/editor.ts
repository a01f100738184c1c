/**
 * The NER editor of one view: wires the model, the text view, the keyboard and the mouse.
 *
 * Python's traitlets are the truth. An edit changes `this.doc` at once (when doc.ts predicts
 * Python will take it) and goes to Python as a patch; when no patch is pending the view takes
 * the model's state again, which also rolls back an edit Python refused (its error shows in
 * the banner). Offsets are code points in `doc` and UTF-16 units in the view.
 */
import type { AnyModel } from "@anywidget/types";

import { actionBar, type ActionBar, errorBanner } from "../common/chrome";
import { h } from "../common/dom";
import { History } from "../common/history";
import { type Hotkeys, assignHotkeys, labelForKey } from "../common/hotkeys";
import {
  bumpNonce,
  guardShortcuts,
  isPlainKey,
  isRedo,
  isSaveDraft,
  isSkip,
  isSubmit,
  isUndo,
} from "../common/keys";
import { PALETTE } from "../common/labels";
import { OffsetIndex } from "../common/offsets";
import { PatchChannel } from "../common/patches";
import {
  type Doc,
  type Focus,
  type NerPatch,
  type Span,
  applyPatch,
  keepFocus,
  keyOf,
  nextFocus,
  replacePatch,
  sameDoc,
} from "./doc";
import type { NerModel } from "./model";
import { lineEnd, lineStart, snapToWords, stepGrapheme, stepWord, trimSpace } from "./text";
import { type Mark, TextView, formatScore } from "./textview";
import { Toolbar, type ToolbarAction } from "./toolbar";
import { decodeSpans } from "./wire";

interface Sent {
  /** The edit was shown at once and recorded for undo (so a refusal must drop that step). */
  recorded: boolean;
  /** When the annotator acted (performance.now()), to time the trip to Python and back. */
  started: number;
}

const NAVIGATION = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"]);

export class Editor {
  readonly root: HTMLElement;
  private readonly model: AnyModel<NerModel>;
  private readonly view: TextView;
  private readonly toolbar: Toolbar;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<NerPatch>;
  private readonly history: History<Doc>;
  private readonly sent: Sent[] = [];
  private readonly cleanups: Array<() => void> = [];

  private text = "";
  private index = new OffsetIndex("");
  private doc: Doc = { value: [], suggestions: [] };
  private focus: Focus | null = null;
  /** The caret and selection, in UTF-16 offsets; equal when nothing is selected. */
  private anchor = 0;
  private head = 0;
  /** A label picked with nothing selected: the next selection gets it (Label Studio's way). */
  private armed: string | null = null;
  /** The span just made from a selection, while it keeps the focus it was given. */
  private fresh: Span | null = null;
  private colors = new Map<string, string>();
  private hotkeys: Hotkeys = { byKey: new Map(), byLabel: new Map() };
  private releasePointer: (() => void) | null = null;

  /** `reservedKeys`: keys a view built on this editor uses itself, kept from the labels. */
  constructor(
    model: AnyModel<NerModel>,
    el: HTMLElement,
    private readonly reservedKeys: readonly string[] = [],
  ) {
    const started = performance.now();
    this.model = model;
    this.history = new History<Doc>(model.get("history_limit"));
    this.view = new TextView("Text to annotate");
    this.toolbar = new Toolbar((action) => this.onToolbar(action));
    this.channel = new PatchChannel<NerPatch>(model, (error) => this.onSettled(error));
    this.root = h(
      "div",
      { className: "annolab annolab-ner", attrs: { role: "group", "aria-label": "Named entity annotation" } },
      [this.toolbar.labels, this.view.element, this.toolbar.status, this.toolbar.live],
    );
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model));
    this.bar = actionBar(this.root, {
      onUndo: () => this.undo(),
      onRedo: () => this.redo(),
      onSubmit: () => bumpNonce(model, "submit_count"),
      onSkip: () => bumpNonce(model, "skip_count"),
      onDraft: () => bumpNonce(model, "draft_count"),
      shortcuts: () => NER_SHORTCUTS,
    }, model);
    this.readLabels();
    this.readText();
    this.listenToDom();
    this.listenToModel();
    // Read layout now, so the time below includes the browser laying the text out.
    void this.view.element.offsetHeight;
    this.root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  dispose(): void {
    this.releasePointer?.();
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.bar.dispose();
    this.toolbar.dispose();
    this.channel.dispose();
    this.view.dispose();
    this.root.remove();
  }

  // --- wiring -------------------------------------------------------------------------------

  private listen<E extends Event>(target: EventTarget, type: string, handler: (event: E) => void): void {
    const listener = handler as EventListener;
    target.addEventListener(type, listener);
    this.cleanups.push(() => target.removeEventListener(type, listener));
  }

  private listenToDom(): void {
    const text = this.view.element;
    this.listen<KeyboardEvent>(this.root, "keydown", (e) => this.onKeyDown(e));
    this.listen<PointerEvent>(text, "pointerdown", (e) => this.onPointerDown(e));
    this.listen<MouseEvent>(text, "click", (e) => this.onClick(e));
    this.listen<FocusEvent>(text, "focus", () => this.view.showCaret(this.head));
  }

  private listenToModel(): void {
    const on = (event: string, handler: () => void): void => {
      this.model.on(event, handler);
      this.cleanups.push(() => this.model.off(event, handler));
    };
    on("change:_text_utf8", () => this.readText());
    on("change:value", () => this.onModelDoc());
    on("change:suggestions", () => this.onModelDoc());
    on("change:labels", () => {
      this.readLabels();
      this.draw();
    });
    on("change:history_limit", () => {
      this.history.limit = this.model.get("history_limit");
      this.updateBar();
    });
  }

  // --- model -> page ------------------------------------------------------------------------

  private readText(): void {
    const bytes = this.model.get("_text_utf8");
    this.text = bytes === null || bytes === undefined ? "" : new TextDecoder().decode(bytes);
    this.index = new OffsetIndex(this.text);
    this.view.setText(this.text);
    // Undo steps and offsets of another text mean nothing in this one.
    this.history.clear();
    this.anchor = this.head = 0;
    this.focus = null;
    this.doc = readDoc(this.model);
    this.draw();
  }

  private readLabels(): void {
    const labels = this.model.get("labels");
    this.colors = new Map(labels.map((label) => [label.name, label.color]));
    this.hotkeys = assignHotkeys(labels, this.reservedKeys);
    this.toolbar.setLabels(labels, this.hotkeys);
    if (this.armed !== null && !this.colors.has(this.armed)) this.armed = null;
  }

  /** The model's spans changed: Python's echo of our patch, or a change made in Python. */
  private onModelDoc(): void {
    // The echo of a patch arrives before its answer; the answer (onSettled) takes the state.
    if (this.channel.busy) return;
    const fresh = readDoc(this.model);
    if (sameDoc(fresh, this.doc)) return;
    // Changed from Python: an undo step would now restore spans from before that change.
    this.history.clear();
    this.adopt(fresh);
  }

  /** Python answered a patch. Once all are answered, its state is the one to show. */
  private onSettled(error: string | null): void {
    const sent = this.sent.shift();
    // From the key press or click to Python's answer (its value already changed): read by
    // the browser tests, which hold it to the 100 ms target.
    if (sent !== undefined) this.root.dataset.patchMs = (performance.now() - sent.started).toFixed(1);
    this.root.dataset.patches = String(Number(this.root.dataset.patches ?? "0") + 1);
    // An edit shown at once but refused: its undo step would lead to an equal state. (With
    // several edits in flight this drops the newest step; a refusal of a predicted edit is
    // rare, as doc.ts predicts Python's rules.)
    if (error !== null && sent?.recorded === true) this.history.discardLast();
    if (this.channel.busy) return;
    const fresh = readDoc(this.model);
    if (!sameDoc(fresh, this.doc)) this.adopt(fresh);
    else this.updateBar();
  }

  private adopt(doc: Doc): void {
    this.doc = doc;
    this.focus = keepFocus(doc, this.focus);
    this.draw();
  }

  private draw(): void {
    this.view.setMarks(this.marks());
    this.updateBar();
    this.updateStatus();
  }

  private marks(): Mark[] {
    const out: Mark[] = [];
    const focused = this.focus === null ? null : `${this.focus.kind}${keyOf(this.focus.span)}`;
    for (const [kind, list] of [
      ["span", this.doc.value],
      ["suggestion", this.doc.suggestions],
    ] as const) {
      for (const span of list) {
        const key = keyOf(span);
        out.push({
          key,
          kind,
          start: this.index.toUtf16(span.start),
          end: this.index.toUtf16(span.end),
          label: span.label,
          score: span.score,
          color: this.colorOf(span.label),
          focused: focused === `${kind}${key}`,
        });
      }
    }
    return out;
  }

  private colorOf(label: string): string {
    // Python refuses labels that are not declared; the palette covers a label removed since.
    return this.colors.get(label) ?? (PALETTE[0] as string);
  }

  private updateBar(): void {
    this.bar.update(this.history.canUndo, this.history.canRedo);
  }

  /** The status line and aria-activedescendant; `reveal` scrolls the focused span into view. */
  private updateStatus(reveal = false): void {
    const focus = this.focus;
    this.toolbar.setStatus({
      focused: focus === null ? null : { kind: focus.kind, text: this.describe(focus) },
      suggestions: this.doc.suggestions.length,
      armed: this.armed,
    });
    const tag = focus === null ? null : this.view.tagFor(keyOf(focus.span), focus.kind, reveal);
    if (tag === null) this.view.element.removeAttribute("aria-activedescendant");
    else this.view.element.setAttribute("aria-activedescendant", tag.id);
  }

  private describe(focus: Focus): string {
    const span = focus.span;
    const words = this.text.slice(this.index.toUtf16(span.start), this.index.toUtf16(span.end));
    const score = span.score === undefined ? "" : ` ${formatScore(span.score)}`;
    const kind = focus.kind === "suggestion" ? "Suggested " : "";
    return `${kind}${span.label}${score} “${words}” (${span.start}–${span.end})`;
  }

  // --- edits --------------------------------------------------------------------------------

  /** Shows the edit at once when Python will take it, and sends it either way. */
  private edit(patch: NerPatch, announce: string): void {
    const started = performance.now();
    const next = applyPatch(this.doc, patch, this.model.get("allow_overlap"));
    const recorded = next !== null;
    // Sent first, so Python works on it while the page redraws.
    this.sent.push({ recorded, started });
    this.channel.send(patch);
    if (next !== null) {
      this.history.record(this.doc);
      this.doc = next;
      this.focus = keepFocus(next, this.focus);
      this.draw();
      this.toolbar.announce(announce);
    } else {
      // Python will refuse it and say why; the focus stays on what exists.
      this.focus = keepFocus(this.doc, this.focus);
      this.updateStatus();
    }
  }

  private moveTo(target: Doc | undefined, verb: string): void {
    if (target === undefined) return;
    const patch = replacePatch(this.doc, target);
    this.sent.push({ recorded: false, started: performance.now() });
    this.channel.send(patch);
    this.doc = target;
    this.focus = keepFocus(target, this.focus);
    this.draw();
    this.toolbar.announce(verb);
  }

  private undo(): void {
    this.moveTo(this.history.undo(this.doc), "Undone");
  }

  private redo(): void {
    this.moveTo(this.history.redo(this.doc), "Redone");
  }

  /** The selection as a span in code points, snapped to words if asked; null if empty. */
  private selectedSpan(label: string): Span | null {
    const from = Math.min(this.anchor, this.head);
    const to = Math.max(this.anchor, this.head);
    const snap = this.model.get("snap_to_words") ? snapToWords : trimSpace;
    const range = snap(this.text, from, to);
    if (range === null) return null;
    const start = this.index.toCodePoint(range.start);
    const end = this.index.toCodePoint(range.end);
    return end > start ? { start, end, label } : null;
  }

  /** A label key or button: label the selection, relabel the focused span, or arm the label. */
  private applyLabel(label: string): void {
    if (this.anchor !== this.head) {
      const span = this.selectedSpan(label);
      this.collapse(this.head);
      if (span !== null) {
        // The new span is focused (Delete, a comment act on it), but only softly: the next
        // label key starts the next span instead of silently relabelling this one.
        this.focus = { kind: "span", span };
        this.fresh = span;
        this.edit({ op: "add", span }, `Added ${label}`);
      }
      return;
    }
    const focus = this.focus;
    if (focus?.kind === "span" && this.fresh !== null && sameSpan(focus.span, this.fresh)) {
      this.fresh = null;
      this.setFocus(null);
      this.armed = label;
      this.updateStatus();
      return;
    }
    if (focus?.kind === "span") {
      if (focus.span.label === label) return;
      this.focus = { kind: "span", span: { start: focus.span.start, end: focus.span.end, label } };
      this.edit({ op: "relabel", span: focus.span, label }, `Relabelled as ${label}`);
      return;
    }
    if (focus?.kind === "suggestion") {
      this.accept(focus.span, label);
      return;
    }
    this.armed = this.armed === label ? null : label;
    this.updateStatus();
  }

  private accept(span: Span, label?: string): void {
    this.focus = { kind: "span", span: { start: span.start, end: span.end, label: label ?? span.label } };
    const patch: NerPatch = label === undefined ? { op: "accept", span } : { op: "accept", span, label };
    this.edit(patch, `Accepted ${label ?? span.label}`);
  }

  private reject(span: Span): void {
    const next = nextFocus(this.doc, { kind: "suggestion", span }, 0, true);
    this.focus = next;
    this.edit({ op: "reject", span }, `Rejected ${span.label}`);
  }

  private removeFocused(): void {
    const focus = this.focus;
    if (focus === null) return;
    if (focus.kind === "suggestion") {
      this.reject(focus.span);
      return;
    }
    this.focus = nextFocus(this.doc, focus, 0, true);
    this.edit({ op: "remove", span: focus.span }, `Deleted ${focus.span.label}`);
  }

  /** The span or suggestion that has the keyboard, if any (the errors widget reads it). */
  get focused(): Focus | null {
    return this.focus;
  }

  private setFocus(focus: Focus | null): void {
    this.focus = focus;
    this.fresh = null;
    if (focus !== null) {
      const at = this.index.toUtf16(focus.span.start);
      this.collapse(at);
      this.toolbar.announce(this.describe(focus));
    }
    this.view.setMarks(this.marks());
    this.updateStatus(true);
  }

  private onToolbar(action: ToolbarAction): void {
    const focus = this.focus;
    switch (action.kind) {
      case "label":
        this.applyLabel(action.label);
        break;
      case "delete":
        this.removeFocused();
        break;
      case "accept":
        if (focus?.kind === "suggestion") this.accept(focus.span);
        break;
      case "reject":
        if (focus?.kind === "suggestion") this.reject(focus.span);
        break;
      case "accept_all":
        this.edit({ op: "accept_all" }, "Accepted all suggestions");
        break;
      case "reject_all":
        this.edit({ op: "reject_all" }, "Rejected all suggestions");
        break;
    }
    // Back to the text, where the keys work on the selection and the focused span.
    if (action.kind !== "label" || this.anchor === this.head) {
      this.view.element.focus({ preventScroll: true });
    }
  }

  // --- keyboard -----------------------------------------------------------------------------

  private onKeyDown(e: KeyboardEvent): void {
    const inText = e.target === this.view.element;
    const onControl =
      !inText && e.target instanceof HTMLElement && e.target.closest("button, input, select") !== null;
    if (e.isComposing) return;
    if (isUndo(e)) return this.handled(e, () => this.undo());
    if (isRedo(e)) return this.handled(e, () => this.redo());
    if (isSubmit(e)) return this.handled(e, () => bumpNonce(this.model, "submit_count"));
    if (isSkip(e)) return this.handled(e, () => this.escape());
    if (isSaveDraft(e)) return this.handled(e, () => bumpNonce(this.model, "draft_count"));
    // Enter and Space belong to a focused button.
    if (onControl && (e.key === "Enter" || e.key === " ")) return;
    if (inText && this.onTextKey(e)) return;
    // Anywhere in the widget (after a click on a button too), these act on the focused span.
    if ((e.key === "Delete" || e.key === "Backspace") && this.focus !== null) {
      return this.handled(e, () => this.removeFocused());
    }
    if (e.key === "Enter" && this.focus?.kind === "suggestion") {
      const span = this.focus.span;
      return this.handled(e, () => this.accept(span));
    }
    if (isPlainKey(e)) {
      const label = labelForKey(this.hotkeys, e.key);
      if (label !== undefined) this.handled(e, () => this.applyLabel(label));
    }
  }

  private handled(e: KeyboardEvent, run: () => void): void {
    e.preventDefault();
    e.stopPropagation();
    run();
  }

  /** Esc undoes the smallest thing under way; with nothing under way it skips. */
  private escape(): void {
    if (this.anchor !== this.head) this.collapse(this.head);
    else if (this.focus !== null) this.setFocus(null);
    else if (this.armed !== null) {
      this.armed = null;
      this.updateStatus();
    } else bumpNonce(this.model, "skip_count");
  }

  /** Keys with a meaning in the text; true when handled. */
  private onTextKey(e: KeyboardEvent): boolean {
    if (NAVIGATION.has(e.key) && !e.altKey) {
      this.handled(e, () => this.navigate(e));
      return true;
    }
    if (e.key === "Tab" && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const next = nextFocus(this.doc, this.focus, this.index.toCodePoint(this.head), !e.shiftKey);
      // Past the last span Tab leaves the text, as it would anywhere else.
      if (next === null) return false;
      this.handled(e, () => this.setFocus(next));
      return true;
    }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "a" && !e.shiftKey) {
      this.handled(e, () => this.select(0, this.text.length));
      return true;
    }
    return false;
  }

  private navigate(e: KeyboardEvent): void {
    const word = e.ctrlKey || e.metaKey;
    let head = this.head;
    switch (e.key) {
      case "ArrowLeft":
      case "ArrowRight": {
        const forward = e.key === "ArrowRight";
        if (!e.shiftKey && this.anchor !== this.head && !word) {
          // Like a text field: an arrow first collapses the selection to that side.
          head = forward ? Math.max(this.anchor, this.head) : Math.min(this.anchor, this.head);
        } else {
          head = word ? stepWord(this.text, head, forward) : stepGrapheme(this.text, head, forward);
        }
        break;
      }
      case "ArrowUp":
      case "ArrowDown":
        head = this.lineStep(head, e.key === "ArrowDown");
        break;
      case "Home":
        head = word ? 0 : lineStart(this.text, head);
        break;
      case "End":
        head = word ? this.text.length : lineEnd(this.text, head);
        break;
    }
    if (e.shiftKey) this.select(this.anchor, head);
    else this.collapse(head);
    this.view.reveal(head);
  }

  /** The offset a line above or below, by layout (lines wrap where the browser wraps them). */
  private lineStep(at: number, down: boolean): number {
    const rect = this.view.caretRect(at);
    if (rect === null) return at;
    const y = down ? rect.bottom + rect.height / 2 : rect.top - rect.height / 2;
    const found = this.view.offsetAtPoint(rect.left, y);
    if (found === null || found === at) return down ? lineEnd(this.text, at) : lineStart(this.text, at);
    return found;
  }

  private select(anchor: number, head: number): void {
    this.anchor = anchor;
    this.head = head;
    this.view.select(anchor, head);
  }

  private collapse(at: number): void {
    this.select(at, at);
  }

  // --- mouse --------------------------------------------------------------------------------

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    const hit = this.view.hitAt(e.target);
    if (hit.kind === "accept" || hit.kind === "reject") return; // the click does it
    // The button may come up outside the text, even outside the widget.
    const doc = this.view.element.ownerDocument;
    const up = (): void => {
      this.releasePointer?.();
      this.afterPointer(hit.kind === "mark" ? hit.marks : []);
    };
    this.releasePointer?.();
    doc.addEventListener("pointerup", up);
    this.releasePointer = () => {
      doc.removeEventListener("pointerup", up);
      this.releasePointer = null;
    };
  }

  /** After a press and release: a drag selected text, a click placed the caret or hit a span. */
  private afterPointer(marks: Mark[]): void {
    const selection = this.view.selection();
    if (selection === null) return;
    if (selection.anchor !== selection.focus) {
      this.anchor = selection.anchor;
      this.head = selection.focus;
      this.view.showCaret(this.head);
      if (this.armed !== null) this.applyLabel(this.armed);
      return;
    }
    this.anchor = this.head = selection.focus;
    // The innermost span under the click (a span before a suggestion at the same place).
    const spans = marks.filter((m) => m.kind === "span");
    const mark = spans[spans.length - 1] ?? marks[marks.length - 1];
    if (mark === undefined) {
      this.setFocus(null);
      this.view.showCaret(this.head);
      return;
    }
    const list = mark.kind === "span" ? this.doc.value : this.doc.suggestions;
    const span = list.find((s) => keyOf(s) === mark.key);
    this.setFocus(span === undefined ? null : { kind: mark.kind, span });
  }

  private onClick(e: MouseEvent): void {
    const hit = this.view.hitAt(e.target);
    if (hit.kind !== "accept" && hit.kind !== "reject") return;
    const span = this.doc.suggestions.find((s) => keyOf(s) === hit.mark.key);
    if (span === undefined) return;
    e.preventDefault();
    if (hit.kind === "accept") this.accept(span);
    else this.reject(span);
    this.view.element.focus({ preventScroll: true });
  }
}

/** The model's lists, as Python keeps them (sorted). */
function readDoc(model: AnyModel<NerModel>): Doc {
  return { value: decodeSpans(model.get("value")), suggestions: decodeSpans(model.get("suggestions")) };
}

function sameSpan(a: Span, b: Span): boolean {
  return a.start === b.start && a.end === b.end && a.label === b.label;
}

/** The NER keys, for the shortcut list ("?"). */
const NER_SHORTCUTS = [
  { keys: "Drag, Shift+arrows", what: "Select text" },
  { keys: "Label key", what: "Label the selection; with none, relabel the focused span or pick the label for the next selection" },
  { keys: "Tab / Shift+Tab", what: "Next / previous span or suggestion" },
  { keys: "Delete", what: "Delete the focused span, or reject the focused suggestion" },
  { keys: "Enter", what: "Accept the focused suggestion" },
  { keys: "Esc", what: "Clear the selection, then the focus" },
] as const;
