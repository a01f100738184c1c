/**
 * Correction: edit a model's output, with a live character diff against the original.
 * Python side: annolab/widgets/correction.py. Python validates the value; this view trusts it.
 */
import type { AnyModel, RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./correction.css";

import { actionBar, type ActionBar, errorBanner } from "../common/chrome";
import { h, replaceChildren } from "../common/dom";
import { bumpNonce, guardShortcuts, isRedo, isSaveDraft, isSkip, isSubmit, isUndo } from "../common/keys";
import { PatchChannel } from "../common/patches";
import { diffChars, diffStats } from "./diff";

export interface CorrectionModel {
  _prompt_utf8: DataView | null;
  _original_utf8: DataView | null;
  value: string | null;
  max_chars: number | null;
  monospace: boolean;
  read_only: boolean;
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_submit: boolean;
  show_draft: boolean;
  history_limit: number;
}

type SetPatch = { op: "set"; text: string | null };

/** How long typing may pause before the diff is redrawn and the text sent to Python. */
const DIFF_DELAY_MS = 80;
const SEND_DELAY_MS = 250;

function decode(bytes: DataView | null | undefined): string {
  return bytes === null || bytes === undefined ? "" : new TextDecoder().decode(bytes);
}

class CorrectionView {
  readonly root: HTMLElement;
  private readonly model: AnyModel<CorrectionModel>;
  private readonly prompt: HTMLElement;
  private readonly editor: HTMLTextAreaElement;
  private readonly counter: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly diff: HTMLElement;
  private readonly reset: HTMLButtonElement;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<SetPatch>;
  private readonly cleanups: Array<() => void> = [];
  private original = "";
  /** What Python was last sent (or sent us): null is the original untouched. */
  private sent: string | null = null;
  private diffTimer: ReturnType<typeof setTimeout> | null = null;
  private sendTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(model: AnyModel<CorrectionModel>, el: HTMLElement) {
    this.model = model;
    this.prompt = h("pre", { className: "annolab-correction-prompt" });
    this.editor = h("textarea", {
      className: "annolab-correction-editor",
      attrs: { rows: "6", spellcheck: "true", "aria-label": "Corrected output" },
    });
    this.counter = h("span", { className: "annolab-correction-counter", attrs: { "aria-live": "polite" } });
    this.reset = h("button", {
      className: "annolab-button annolab-correction-reset",
      text: "Reset to original",
      title: "Reset to original (Alt+R)",
      attrs: { type: "button", "aria-keyshortcuts": "Alt+R" },
    });
    this.summary = h("span", { className: "annolab-correction-summary" });
    this.diff = h("div", {
      className: "annolab-correction-diff",
      attrs: { role: "region", "aria-label": "Changes from the original" },
    });
    this.root = h(
      "div",
      {
        className: "annolab annolab-correction",
        attrs: { role: "group", "aria-label": "Correct the model output", tabindex: "-1" },
      },
      [
        this.prompt,
        this.editor,
        h("div", { className: "annolab-correction-row" }, [this.reset, this.counter, this.summary]),
        h("div", { className: "annolab-correction-diff-title", text: "Changes (deleted struck through, inserted underlined)" }),
        this.diff,
      ],
    );
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model));
    this.channel = new PatchChannel<SetPatch>(model, () => this.onSettled());
    this.bar = actionBar(
      this.root,
      {
        onUndo: () => this.nativeHistory("undo"),
        onRedo: () => this.nativeHistory("redo"),
        onSubmit: () => this.submit(),
        onSkip: () => bumpNonce(model, "skip_count"),
        onDraft: () => this.draft(),
      },
      model,
    );
    this.bar.update(true, true);
    this.wire();
    this.readTexts();
  }

  dispose(): void {
    this.flush();
    if (this.diffTimer !== null) clearTimeout(this.diffTimer);
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.bar.dispose();
    this.channel.dispose();
    this.root.remove();
  }

  private listen<E extends Event>(target: EventTarget, type: string, handler: (event: E) => void): void {
    const listener = handler as EventListener;
    target.addEventListener(type, listener);
    this.cleanups.push(() => target.removeEventListener(type, listener));
  }

  private wire(): void {
    const on = (event: string, handler: () => void): void => {
      this.model.on(event, handler);
      this.cleanups.push(() => this.model.off(event, handler));
    };
    on("change:_original_utf8", () => this.readTexts());
    on("change:_prompt_utf8", () => this.readTexts());
    on("change:value", () => this.onModelValue());
    on("change:max_chars", () => this.updateCounter());
    on("change:monospace", () => this.readFlags());
    on("change:read_only", () => this.readFlags());
    this.listen<InputEvent>(this.editor, "input", () => this.onInput());
    // Leaving the text box sends what was typed at once (a notebook cell may read it next).
    this.listen<FocusEvent>(this.editor, "blur", () => this.flush());
    this.listen<KeyboardEvent>(this.root, "keydown", (e) => this.onKeyDown(e));
    this.listen<MouseEvent>(this.reset, "click", () => this.resetToOriginal());
  }

  private readTexts(): void {
    const prompt = decode(this.model.get("_prompt_utf8"));
    this.prompt.textContent = prompt;
    this.prompt.hidden = prompt === "";
    this.original = decode(this.model.get("_original_utf8"));
    this.sent = this.model.get("value");
    this.editor.value = this.sent ?? this.original;
    this.readFlags();
    this.redraw();
  }

  private readFlags(): void {
    const readOnly = this.model.get("read_only");
    this.editor.readOnly = readOnly;
    this.reset.style.display = readOnly ? "none" : "";
    this.root.classList.toggle("annolab-correction-mono", this.model.get("monospace"));
    this.root.classList.toggle("annolab-correction-read-only", readOnly);
    const bar = this.root.querySelector<HTMLElement>(".annolab-actions");
    // The bar's own CSS sets its display, which would win over the hidden attribute.
    if (bar !== null) bar.style.display = readOnly ? "none" : "";
  }

  /** A change from Python (not the echo of what we sent) replaces the text. */
  private onModelValue(): void {
    if (this.channel.busy || this.sendTimer !== null) return;
    const value = this.model.get("value");
    if (value === this.sent) return;
    this.sent = value;
    this.editor.value = value ?? this.original;
    this.redraw();
  }

  private onSettled(): void {
    if (this.channel.busy || this.sendTimer !== null) return;
    // Python's state once every edit is answered (a refusal shows in the banner).
    const value = this.model.get("value");
    this.sent = value;
    this.root.dataset.synced = String(Number(this.root.dataset.synced ?? "0") + 1);
  }

  private onInput(): void {
    this.updateCounter();
    if (this.diffTimer !== null) clearTimeout(this.diffTimer);
    this.diffTimer = setTimeout(() => {
      this.diffTimer = null;
      this.redraw();
    }, DIFF_DELAY_MS);
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.flush(), SEND_DELAY_MS);
  }

  /** Sends the text now if it changed since it was last sent. */
  private flush(): void {
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    if (this.model.get("read_only")) return;
    const text = this.editor.value;
    // Untouched (null) shows the original; either way nothing new to say.
    if (text === (this.sent ?? this.original)) return;
    this.sent = text;
    this.channel.send({ op: "set", text });
  }

  private resetToOriginal(): void {
    if (this.model.get("read_only")) return;
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    // Through the text box's own editing, so Ctrl+Z brings the correction back.
    this.editor.focus();
    this.editor.select();
    const native = typeof document.execCommand === "function" && document.execCommand("insertText", false, this.original);
    if (!native || this.editor.value !== this.original) this.editor.value = this.original;
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    this.sent = null;
    this.channel.send({ op: "set", text: null });
    this.redraw();
  }

  private nativeHistory(command: "undo" | "redo"): void {
    if (this.model.get("read_only")) return;
    this.editor.focus();
    document.execCommand(command);
  }

  private submit(): void {
    this.flush();
    bumpNonce(this.model, "submit_count");
  }

  private draft(): void {
    this.flush();
    bumpNonce(this.model, "draft_count");
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.isComposing) return;
    const inEditor = e.target === this.editor;
    if (isSubmit(e)) return this.handled(e, () => this.submit());
    if (isSaveDraft(e)) return this.handled(e, () => this.draft());
    if (isSkip(e)) {
      // Esc first leaves the text box (to the widget, where the next Esc skips).
      if (inEditor) return this.handled(e, () => this.root.focus({ preventScroll: true }));
      return this.handled(e, () => bumpNonce(this.model, "skip_count"));
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyR") return this.handled(e, () => this.resetToOriginal());
    // The text box's own undo history, run here so that a host's binding of Ctrl+Z (which may
    // cancel the browser's default) cannot take it; from elsewhere in the widget too.
    if (isUndo(e) || isRedo(e)) return this.handled(e, () => this.nativeHistory(isUndo(e) ? "undo" : "redo"));
  }

  private handled(e: KeyboardEvent, run: () => void): void {
    e.preventDefault();
    e.stopPropagation();
    run();
  }

  private updateCounter(): void {
    const max = this.model.get("max_chars");
    const length = Array.from(this.editor.value).length;
    if (max === null || max === undefined) {
      this.counter.textContent = `${length} characters`;
      this.counter.classList.remove("annolab-correction-over");
      return;
    }
    const over = length > max;
    this.counter.textContent = over ? `${length} / ${max}: ${length - max} over` : `${length} / ${max}`;
    this.counter.classList.toggle("annolab-correction-over", over);
  }

  private redraw(): void {
    const started = performance.now();
    const parts = diffChars(this.original, this.editor.value);
    const nodes: Node[] = parts.map((part) => {
      if (part.op === "=") return document.createTextNode(part.text);
      const tag = part.op === "+" ? "ins" : "del";
      return h(tag, { className: `annolab-correction-${tag}`, text: part.text });
    });
    replaceChildren(this.diff, nodes); // a long diff has more runs than arguments may be
    const { inserted, deleted } = diffStats(parts);
    this.summary.textContent = inserted + deleted === 0 ? "No changes" : `+${inserted} -${deleted} characters`;
    this.root.dataset.diffMs = (performance.now() - started).toFixed(1);
    this.updateCounter();
  }
}

function render({ model, el }: RenderProps<CorrectionModel>): () => void {
  const view = new CorrectionView(model, el);
  return () => view.dispose();
}

export default { render };
