/**
 * The Rubric editor of one view: the prompt and the output, one row per criterion with its
 * description and 1..scale buttons, the comment box and the action bar. Python's `value` is the
 * truth; an edit shows at once, goes to Python as a patch, and the view takes the model's value
 * again once no patch is pending (rolling back an edit Python refused).
 */
import type { AnyModel } from "@anywidget/types";

import { type ActionBar, actionBar, errorBanner } from "../common/chrome";
import { h } from "../common/dom";
import { History } from "../common/history";
import { bumpNonce, guardShortcuts, isPlainKey, isRedo, isSaveDraft, isSkip, isSubmit, isUndo } from "../common/keys";
import { PatchChannel } from "../common/patches";
// The text panes and the comment box are the ones Pairwise shows its outputs and rationale in.
import { TextBox, decodeUtf8, stepRow, textPane } from "../pairwise/judging";
import type { RubricCriterion, RubricModel, RubricValue } from "./model";
import { type RubricPatch, applyPatch, describeValue, keyForScore, pickScore, sameValue, scoreForKey } from "./state";

interface Row {
  criterion: RubricCriterion;
  element: HTMLElement;
  buttons: HTMLButtonElement[];
}

export class Editor {
  readonly root: HTMLElement;
  private readonly model: AnyModel<RubricModel>;
  private readonly texts: HTMLElement;
  private readonly rowsBox: HTMLElement;
  private readonly comment: TextBox;
  private readonly status: HTMLElement;
  private readonly live: HTMLElement;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<RubricPatch>;
  private readonly history: History<RubricValue>;
  private readonly recorded: boolean[] = [];
  private readonly cleanups: Array<() => void> = [];
  private rows: Row[] = [];
  private value: RubricValue;

  constructor(model: AnyModel<RubricModel>, el: HTMLElement) {
    const started = performance.now();
    this.model = model;
    this.value = model.get("value");
    this.history = new History<RubricValue>(model.get("history_limit"));
    this.channel = new PatchChannel<RubricPatch>(model, (error) => this.onSettled(error));
    this.texts = h("div", { className: "annolab-rubric-texts" });
    this.rowsBox = h("div", { className: "annolab-rubric-rows" });
    this.comment = new TextBox(
      "annolab-rubric-comment",
      "Comment (optional)",
      () => this.history.record(this.value),
      (text) => this.edit({ op: "comment", text }, false),
    );
    this.status = h("div", { className: "annolab-rubric-status" });
    this.live = h("div", { className: "annolab-visually-hidden", attrs: { "aria-live": "polite", role: "status" } });
    this.root = h(
      "div",
      { className: "annolab annolab-rubric", attrs: { role: "group", "aria-label": "Rubric" } },
      [this.texts, this.rowsBox, this.comment.element, this.status, this.live],
    );
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model));
    this.bar = actionBar(
      this.root,
      {
        onUndo: () => this.undo(),
        onRedo: () => this.redo(),
        onSubmit: () => this.submit(),
        onSkip: () => bumpNonce(model, "skip_count"),
        onDraft: () => this.draft(),
      },
      model,
    );
    this.listen(this.root, "keydown", (e) => this.onKeyDown(e as KeyboardEvent));
    this.listen(this.rowsBox, "click", (e) => this.onClick(e));
    for (const trait of ["_prompt_utf8", "_output_utf8"]) this.on(`change:${trait}`, () => this.drawTexts());
    for (const trait of ["criteria", "read_only"]) this.on(`change:${trait}`, () => this.drawRows());
    this.on("change:value", () => this.onModelValue());
    this.on("change:history_limit", () => {
      this.history.limit = this.model.get("history_limit");
      this.updateBar();
    });
    this.drawTexts();
    this.drawRows();
    this.root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.comment.dispose();
    this.bar.dispose();
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

  private drawTexts(): void {
    const prompt = decodeUtf8(this.model.get("_prompt_utf8"));
    const shown: Node[] = [];
    if (prompt !== "") shown.push(textPane("annolab-rubric-prompt", "Prompt", prompt));
    shown.push(textPane("annolab-rubric-output", "Output", decodeUtf8(this.model.get("_output_utf8"))));
    this.texts.replaceChildren(...shown);
    this.history.clear(); // another output: undoing would bring back scores given the last one
    this.drawValue();
  }

  private drawRows(): void {
    const readOnly = this.model.get("read_only");
    this.root.classList.toggle("annolab-readonly", readOnly);
    this.rows = this.model.get("criteria").map((criterion, index) => {
      const buttons: HTMLButtonElement[] = [];
      for (let score = 1; score <= criterion.scale; score += 1) {
        const button = h("button", {
          className: "annolab-rubric-score",
          text: String(score),
          title: `${criterion.name}: ${score} of ${criterion.scale} (key ${keyForScore(score)})`,
          attrs: { type: "button", role: "radio", tabindex: "-1", "data-score": String(score) },
        });
        button.disabled = readOnly;
        buttons.push(button);
      }
      const head = h("div", { className: "annolab-rubric-row-head" }, [
        h("span", { className: "annolab-rubric-row-title", text: criterion.name }),
      ]);
      if (criterion.description !== "") {
        head.append(h("span", { className: "annolab-rubric-row-description", text: criterion.description }));
      }
      const element = h(
        "div",
        {
          className: "annolab-rubric-row",
          attrs: {
            role: "radiogroup",
            "aria-label": `${criterion.name}, 1 to ${criterion.scale}`,
            tabindex: index === 0 ? "0" : "-1",
            "data-criterion": criterion.name,
          },
        },
        [head, h("div", { className: "annolab-rubric-buttons" }, buttons)],
      );
      return { criterion, element, buttons };
    });
    this.rowsBox.replaceChildren(...this.rows.map((row) => row.element));
    this.comment.element.readOnly = readOnly;
    this.drawValue();
  }

  private drawValue(): void {
    for (const row of this.rows) {
      const score = this.value?.scores[row.criterion.name];
      row.buttons.forEach((button, i) => {
        const on = score === i + 1;
        button.setAttribute("aria-checked", String(on));
        button.classList.toggle("annolab-rubric-on", on);
      });
      row.element.classList.toggle("annolab-rubric-scored", score !== undefined);
    }
    this.comment.show(this.value?.comment ?? "");
    this.status.textContent = describeValue(this.value, this.model.get("criteria"));
    this.updateBar();
  }

  private onModelValue(): void {
    if (this.channel.busy) return;
    const fresh = this.model.get("value");
    if (sameValue(fresh, this.value)) return;
    this.history.clear(); // changed from Python
    this.value = fresh;
    this.drawValue();
  }

  private onSettled(error: string | null): void {
    const recorded = this.recorded.shift();
    if (error !== null && recorded === true) this.history.discardLast();
    if (this.channel.busy) return;
    const fresh = this.model.get("value");
    if (!sameValue(fresh, this.value)) {
      this.value = fresh;
      this.drawValue();
    }
    this.updateBar();
  }

  private updateBar(): void {
    this.bar.update(this.history.canUndo, this.history.canRedo);
  }

  // --- edits --------------------------------------------------------------------------------

  private edit(patch: RubricPatch, record = true): void {
    if (this.model.get("read_only")) return;
    const next = applyPatch(this.value, patch, this.model.get("criteria"));
    this.recorded.push(record);
    this.channel.send(patch);
    if (record) this.history.record(this.value);
    this.value = next;
    this.drawValue();
    this.live.textContent = describeValue(next, this.model.get("criteria"));
  }

  private score(row: Row, score: number): void {
    this.comment.flush();
    this.edit(pickScore(this.value, row.criterion.name, score));
  }

  private undo(): void {
    this.comment.flush();
    const previous = this.history.undo(this.value);
    if (previous !== undefined) this.edit({ op: "set", value: previous }, false);
  }

  private redo(): void {
    this.comment.flush();
    const next = this.history.redo(this.value);
    if (next !== undefined) this.edit({ op: "set", value: next }, false);
  }

  private submit(): void {
    this.comment.flush(); // the patch reaches Python before the submit does
    bumpNonce(this.model, "submit_count");
  }

  private draft(): void {
    this.comment.flush();
    bumpNonce(this.model, "draft_count");
  }

  private onClick(e: Event): void {
    const button = e.target instanceof Element ? e.target.closest("button") : null;
    const score = Number(button?.getAttribute("data-score"));
    const row = this.rows[this.focusedRow(button ?? null)];
    if (button !== null && Number.isInteger(score) && score > 0 && row !== undefined) this.score(row, score);
  }

  // --- keyboard -----------------------------------------------------------------------------

  /** The row holding the focus, else the first. */
  private focusedRow(target: EventTarget | null): number {
    const found = target instanceof Element ? target.closest(".annolab-rubric-row") : null;
    const index = this.rows.findIndex((row) => row.element === found);
    return index < 0 ? 0 : index;
  }

  private focusRow(index: number): void {
    this.rows.forEach((row, i) => row.element.setAttribute("tabindex", i === index ? "0" : "-1"));
    this.rows[index]?.element.focus();
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.isComposing) return;
    const handled = (run: () => void): void => {
      e.preventDefault();
      e.stopPropagation();
      run();
    };
    const inBox = e.target === this.comment.element;
    if (isUndo(e)) return handled(() => this.undo());
    if (isRedo(e)) return handled(() => this.redo());
    if (isSubmit(e)) return handled(() => this.submit());
    if (isSaveDraft(e)) return handled(() => this.draft());
    if (isSkip(e)) {
      // Escape in the comment box first leaves it (typing is under way); again, it skips.
      if (inBox) return handled(() => this.focusRow(0));
      return handled(() => bumpNonce(this.model, "skip_count"));
    }
    if (inBox) return; // digits are text here
    const onButton = e.target instanceof HTMLElement && e.target.closest("button") !== null;
    if (onButton && (e.key === "Enter" || e.key === " ")) return;
    const index = this.focusedRow(e.target);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      return handled(() => this.focusRow(stepRow(index, e.key === "ArrowDown" ? 1 : -1, this.rows.length)));
    }
    const row = this.rows[index];
    if (row === undefined) return;
    if (e.key === "Backspace" || e.key === "Delete") {
      if (this.value?.scores[row.criterion.name] !== undefined) {
        handled(() => this.edit({ op: "score", criterion: row.criterion.name, score: null }));
      }
      return;
    }
    if (isPlainKey(e)) {
      const score = scoreForKey(e.key, row.criterion.scale);
      if (score !== undefined) handled(() => this.score(row, score));
    }
  }
}
