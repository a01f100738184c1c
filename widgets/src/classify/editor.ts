/**
 * The Classify editor of one view: wires the model, the item, the label choices, the keyboard
 * and the action bar. Python's `value` is the truth; a choice shows at once, goes to Python as
 * a patch, and the view takes the model's value again once no patch is pending (which also
 * rolls back a choice Python refused; its error shows in the banner).
 */
import type { AnyModel } from "@anywidget/types";

import { type ActionBar, actionBar, errorBanner } from "../common/chrome";
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
import { PatchChannel } from "../common/patches";
import { Choices } from "./choices";
import { showItem } from "./item";
import type { ClassifyModel, Value } from "./model";
import { type ClassifyPatch, applyPatch, bestSuggestion, describeValue, pick, sameValue } from "./state";

export class Editor {
  readonly root: HTMLElement;
  private readonly model: AnyModel<ClassifyModel>;
  private readonly item: HTMLElement;
  private readonly choices: Choices;
  private readonly status: HTMLElement;
  private readonly acceptButton: HTMLButtonElement;
  private readonly live: HTMLElement;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<ClassifyPatch>;
  private readonly history: History<Value>;
  private readonly recorded: boolean[] = [];
  private readonly cleanups: Array<() => void> = [];
  private clearItem: () => void = () => {};
  private value: Value;
  private hotkeys: Hotkeys = { byKey: new Map(), byLabel: new Map() };

  constructor(model: AnyModel<ClassifyModel>, el: HTMLElement) {
    const started = performance.now();
    this.model = model;
    this.value = model.get("value");
    this.history = new History<Value>(model.get("history_limit"));
    this.channel = new PatchChannel<ClassifyPatch>(model, (error) => this.onSettled(error));
    this.item = h("div", { className: "annolab-classify-item", attrs: { tabindex: "0", role: "region" } });
    this.choices = new Choices((label) => this.edit(pick(this.model.get("multi"), label)));
    this.status = h("span", { className: "annolab-classify-value" });
    this.acceptButton = h("button", { className: "annolab-button", attrs: { type: "button" } });
    this.live = h("div", {
      className: "annolab-visually-hidden",
      attrs: { "aria-live": "polite", role: "status" },
    });
    const status = h("div", { className: "annolab-classify-status" }, [this.status, this.acceptButton]);
    this.root = h(
      "div",
      { className: "annolab annolab-classify", attrs: { role: "group", "aria-label": "Classification" } },
      [this.item, this.choices.element, status, this.live],
    );
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model));
    this.bar = actionBar(this.root, {
      onUndo: () => this.undo(),
      onRedo: () => this.redo(),
      onSubmit: () => bumpNonce(model, "submit_count"),
      onSkip: () => bumpNonce(model, "skip_count"),
      onDraft: () => bumpNonce(model, "draft_count"),
      shortcuts: () => CLASSIFY_SHORTCUTS,
    }, model);
    this.listen(this.root, "keydown", (e) => this.onKeyDown(e as KeyboardEvent));
    this.listen(this.acceptButton, "click", () => this.acceptBest());
    for (const trait of ["kind", "_text_utf8", "image", "image_url", "record"]) {
      this.on(`change:${trait}`, () => this.drawItem());
    }
    this.on("change:value", () => this.onModelValue());
    this.on("change:labels", () => this.drawChoices());
    this.on("change:multi", () => this.onModelValue());
    this.on("change:suggestions", () => this.drawChoices());
    this.on("change:history_limit", () => {
      this.history.limit = this.model.get("history_limit");
      this.updateBar();
    });
    this.drawItem();
    this.drawChoices();
    this.root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.clearItem();
    this.bar.dispose();
    this.choices.dispose();
    this.channel.dispose();
    this.root.remove();
  }

  private listen(target: EventTarget, type: string, handler: (event: Event) => void): void {
    target.addEventListener(type, handler);
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  private on(event: string, handler: () => void): void {
    this.model.on(event, handler);
    this.cleanups.push(() => this.model.off(event, handler));
  }

  // --- model -> page ------------------------------------------------------------------------

  private drawItem(): void {
    this.clearItem();
    this.clearItem = showItem(this.item, {
      kind: this.model.get("kind"),
      _text_utf8: this.model.get("_text_utf8"),
      image: this.model.get("image"),
      image_mime: this.model.get("image_mime"),
      image_url: this.model.get("image_url"),
      item_name: this.model.get("item_name"),
      record: this.model.get("record"),
    });
    // Another item: undoing would bring back a choice made for the last one.
    this.history.clear();
    this.updateBar();
  }

  private drawChoices(): void {
    const labels = this.model.get("labels");
    this.hotkeys = assignHotkeys(labels);
    const suggestions = this.model.get("suggestions");
    this.choices.draw(labels, this.hotkeys, this.model.get("multi"), this.value, suggestions);
    this.status.textContent = describeValue(this.value);
    const best = bestSuggestion(suggestions, this.value);
    this.acceptButton.hidden = best === undefined;
    if (best !== undefined) {
      const score = best.score === undefined ? "" : ` (${best.score.toFixed(2)})`;
      this.acceptButton.textContent = `Accept suggestion: ${best.label}${score}`;
    }
  }

  private onModelValue(): void {
    if (this.channel.busy) return; // the answer (onSettled) takes the model's value
    const fresh = this.model.get("value");
    if (sameValue(fresh, this.value)) return;
    this.history.clear(); // changed from Python
    this.value = fresh;
    this.drawChoices();
    this.updateBar();
  }

  private onSettled(error: string | null): void {
    const recorded = this.recorded.shift();
    if (error !== null && recorded === true) this.history.discardLast();
    if (this.channel.busy) return;
    const fresh = this.model.get("value");
    if (!sameValue(fresh, this.value)) {
      this.value = fresh;
      this.drawChoices();
    }
    this.updateBar();
  }

  private updateBar(): void {
    this.bar.update(this.history.canUndo, this.history.canRedo);
  }

  // --- edits --------------------------------------------------------------------------------

  private edit(patch: ClassifyPatch, record = true): void {
    const next = applyPatch(this.value, patch, this.model.get("multi"));
    this.recorded.push(record);
    this.channel.send(patch);
    if (record) this.history.record(this.value);
    this.value = next;
    this.drawChoices();
    this.updateBar();
    this.live.textContent = describeValue(next);
  }

  private undo(): void {
    const previous = this.history.undo(this.value);
    if (previous !== undefined) this.edit({ op: "set", value: previous }, false);
  }

  private redo(): void {
    const next = this.history.redo(this.value);
    if (next !== undefined) this.edit({ op: "set", value: next }, false);
  }

  private acceptBest(): void {
    const best = bestSuggestion(this.model.get("suggestions"), this.value);
    if (best !== undefined) this.edit({ op: "accept", label: best.label });
  }

  // --- keyboard -----------------------------------------------------------------------------

  private onKeyDown(e: KeyboardEvent): void {
    if (e.isComposing) return;
    const handled = (run: () => void): void => {
      e.preventDefault();
      e.stopPropagation();
      run();
    };
    if (isUndo(e)) return handled(() => this.undo());
    if (isRedo(e)) return handled(() => this.redo());
    if (isSubmit(e)) return handled(() => bumpNonce(this.model, "submit_count"));
    if (isSkip(e)) return handled(() => bumpNonce(this.model, "skip_count"));
    if (isSaveDraft(e)) return handled(() => bumpNonce(this.model, "draft_count"));
    const onButton = e.target instanceof HTMLElement && e.target.closest("button") !== null;
    if (onButton && (e.key === "Enter" || e.key === " ")) return;
    if (e.key === "Delete" || e.key === "Backspace") {
      // Clears a single choice; in multi, unchoosing is a toggle.
      if (!this.model.get("multi") && this.value !== null) {
        handled(() => this.edit({ op: "choose", label: null }));
      }
      return;
    }
    if (isPlainKey(e)) {
      const label = labelForKey(this.hotkeys, e.key);
      if (label !== undefined) handled(() => this.edit(pick(this.model.get("multi"), label)));
    }
  }
}

/** The Classify keys, for the shortcut list ("?"). */
const CLASSIFY_SHORTCUTS = [
  { keys: "Label key", what: "Choose the label (with several allowed, add or remove it)" },
  { keys: "Arrows, Home, End", what: "Move between the labels" },
  { keys: "Space / Enter", what: "Choose the label under focus" },
  { keys: "Delete", what: "Clear the answer" },
] as const;
