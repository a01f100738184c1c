/**
 * The Pairwise editor of one view: the prompt, outputs A and B side by side, a verdict row for
 * the overall choice and one per criterion, the rationale box and the action bar. Python's
 * `value` is the truth; an edit shows at once, goes to Python as a patch, and the view takes
 * the model's value again once no patch is pending (rolling back an edit Python refused).
 */
import type { AnyModel } from "@anywidget/types";

import { type ActionBar, actionBar, errorBanner } from "../common/chrome";
import { h } from "../common/dom";
import { History } from "../common/history";
import { bumpNonce, guardShortcuts, isPlainKey, isRedo, isSaveDraft, isSkip, isSubmit, isUndo } from "../common/keys";
import { PatchChannel } from "../common/patches";
import { TextBox, decodeUtf8, stepRow, textPane } from "./judging";
import type { PairwiseModel, PairwiseValue, Verdict } from "./model";
import {
  type PairwisePatch,
  VERDICT_KEYS,
  VERDICT_NAMES,
  applyPatch,
  describeValue,
  offeredVerdicts,
  outputMark,
  pickVerdict,
  sameValue,
  verdictForKey,
  verdictOf,
} from "./state";

/** One verdict row: the overall choice (criterion null) or one criterion's. */
interface Row {
  criterion: string | null;
  element: HTMLElement;
  buttons: Map<Verdict, HTMLButtonElement>;
}

const MARKS = { chosen: "Chosen", tie: "Tie", bad: "Bad" } as const;

export class Editor {
  readonly root: HTMLElement;
  private readonly model: AnyModel<PairwiseModel>;
  private readonly texts: HTMLElement;
  private readonly rowsBox: HTMLElement;
  private readonly rationale: TextBox;
  private readonly status: HTMLElement;
  private readonly live: HTMLElement;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<PairwisePatch>;
  private readonly history: History<PairwiseValue>;
  private readonly recorded: boolean[] = [];
  private readonly cleanups: Array<() => void> = [];
  private panes: { a: HTMLElement; b: HTMLElement } | null = null;
  private rows: Row[] = [];
  private value: PairwiseValue;

  constructor(model: AnyModel<PairwiseModel>, el: HTMLElement) {
    const started = performance.now();
    this.model = model;
    this.value = model.get("value");
    this.history = new History<PairwiseValue>(model.get("history_limit"));
    this.channel = new PatchChannel<PairwisePatch>(model, (error) => this.onSettled(error));
    this.texts = h("div", { className: "annolab-pairwise-texts" });
    this.rowsBox = h("div", { className: "annolab-pairwise-rows" });
    this.rationale = new TextBox(
      "annolab-pairwise-rationale",
      "Rationale",
      () => this.history.record(this.value),
      (text) => this.edit({ op: "rationale", text }, false),
    );
    this.status = h("div", { className: "annolab-pairwise-status" });
    this.live = h("div", { className: "annolab-visually-hidden", attrs: { "aria-live": "polite", role: "status" } });
    this.root = h(
      "div",
      { className: "annolab annolab-pairwise", attrs: { role: "group", "aria-label": "Pairwise comparison" } },
      [this.texts, this.rowsBox, this.rationale.element, this.status, this.live],
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
    // One listener for every verdict button, whatever rows are drawn.
    this.listen(this.rowsBox, "click", (e) => this.onClick(e));
    for (const trait of ["_prompt_utf8", "_a_utf8", "_b_utf8"]) this.on(`change:${trait}`, () => this.drawTexts());
    for (const trait of ["criteria", "tie", "both_bad", "ask_rationale", "read_only"]) {
      this.on(`change:${trait}`, () => this.drawRows());
    }
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
    this.rationale.dispose();
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
    const a = textPane("annolab-pairwise-a", "A", decodeUtf8(this.model.get("_a_utf8")));
    const b = textPane("annolab-pairwise-b", "B", decodeUtf8(this.model.get("_b_utf8")));
    const outputs = h("div", { className: "annolab-pairwise-outputs" }, [a, b]);
    const shown: Node[] = [];
    if (prompt !== "") shown.push(textPane("annolab-pairwise-prompt", "Prompt", prompt));
    shown.push(outputs);
    this.texts.replaceChildren(...shown);
    this.panes = { a, b };
    // Other outputs: undoing would bring back a verdict on the last pair.
    this.history.clear();
    this.drawValue();
  }

  private drawRows(): void {
    const offered = offeredVerdicts(this.model.get("tie"), this.model.get("both_bad"));
    const readOnly = this.model.get("read_only");
    this.root.classList.toggle("annolab-readonly", readOnly);
    const specs: Array<{ criterion: string | null; title: string; description: string }> = [
      { criterion: null, title: "Overall", description: "" },
      ...this.model.get("criteria").map((c) => ({ criterion: c.name, title: c.name, description: c.description })),
    ];
    this.rows = specs.map((spec, index) => {
      const buttons = new Map<Verdict, HTMLButtonElement>();
      for (const verdict of offered) {
        const button = h("button", {
          className: "annolab-pairwise-verdict",
          text: `${VERDICT_NAMES[verdict]} (${VERDICT_KEYS[verdict]})`,
          attrs: { type: "button", role: "radio", tabindex: "-1", "data-verdict": verdict },
        });
        button.disabled = readOnly;
        buttons.set(verdict, button);
      }
      const head = h("div", { className: "annolab-pairwise-row-head" }, [
        h("span", { className: "annolab-pairwise-row-title", text: spec.title }),
      ]);
      if (spec.description !== "") {
        head.append(h("span", { className: "annolab-pairwise-row-description", text: spec.description }));
      }
      const element = h(
        "div",
        {
          className: "annolab-pairwise-row",
          attrs: {
            role: "radiogroup",
            "aria-label": spec.criterion === null ? "Overall verdict" : `Verdict on ${spec.title}`,
            // One row in the Tab order (the overall one): arrows move between rows, Tab goes on
            // to the rationale.
            tabindex: index === 0 ? "0" : "-1",
          },
        },
        [head, h("div", { className: "annolab-pairwise-buttons" }, [...buttons.values()])],
      );
      if (spec.criterion !== null) element.dataset.criterion = spec.criterion;
      return { criterion: spec.criterion, element, buttons };
    });
    this.rowsBox.replaceChildren(...this.rows.map((row) => row.element));
    const mode = this.model.get("ask_rationale");
    this.rationale.element.hidden = mode === "none";
    this.rationale.element.readOnly = readOnly;
    this.rationale.element.placeholder = mode === "required" ? "Why? (required)" : "Why? (optional)";
    this.drawValue();
  }

  private drawValue(): void {
    for (const row of this.rows) {
      const chosen = verdictOf(this.value, row.criterion);
      for (const [verdict, button] of row.buttons) {
        const on = verdict === chosen;
        button.setAttribute("aria-checked", String(on));
        button.classList.toggle("annolab-pairwise-on", on);
      }
    }
    const choice = this.value?.choice ?? null;
    if (this.panes !== null) {
      for (const side of ["a", "b"] as const) {
        const pane = this.panes[side];
        const mark = outputMark(choice, side);
        pane.dataset.mark = mark ?? "";
        const title = pane.querySelector(".annolab-judge-title");
        if (title !== null) title.textContent = mark === null ? side.toUpperCase() : `${side.toUpperCase()} · ${MARKS[mark]}`;
      }
    }
    this.rationale.show(this.value?.rationale ?? "");
    this.status.textContent = describeValue(this.value);
    this.updateBar();
  }

  private onModelValue(): void {
    if (this.channel.busy) return; // the answer (onSettled) takes the model's value
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

  private edit(patch: PairwisePatch, record = true): void {
    if (this.model.get("read_only")) return;
    const names = this.model.get("criteria").map((c) => c.name);
    const next = applyPatch(this.value, patch, names);
    this.recorded.push(record);
    this.channel.send(patch);
    if (record) this.history.record(this.value);
    this.value = next;
    this.drawValue();
    this.live.textContent = describeValue(next);
  }

  private pick(criterion: string | null, verdict: Verdict): void {
    this.rationale.flush();
    this.edit(pickVerdict(this.value, criterion, verdict));
  }

  private undo(): void {
    this.rationale.flush();
    const previous = this.history.undo(this.value);
    if (previous !== undefined) this.edit({ op: "set", value: previous }, false);
  }

  private redo(): void {
    this.rationale.flush();
    const next = this.history.redo(this.value);
    if (next !== undefined) this.edit({ op: "set", value: next }, false);
  }

  private submit(): void {
    this.rationale.flush(); // the patch reaches Python before the submit does
    bumpNonce(this.model, "submit_count");
  }

  private draft(): void {
    this.rationale.flush();
    bumpNonce(this.model, "draft_count");
  }

  private onClick(e: Event): void {
    const button = e.target instanceof Element ? e.target.closest("button") : null;
    const verdict = button?.getAttribute("data-verdict") as Verdict | null | undefined;
    if (button === null || button === undefined || verdict === null || verdict === undefined) return;
    const row = this.rows[this.focusedRow(button)];
    if (row !== undefined) this.pick(row.criterion, verdict);
  }

  // --- keyboard -----------------------------------------------------------------------------

  /** The row holding the focus, else the overall one. */
  private focusedRow(target: EventTarget | null): number {
    const found = target instanceof Element ? target.closest(".annolab-pairwise-row") : null;
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
    const inBox = e.target === this.rationale.element;
    if (isUndo(e)) return handled(() => this.undo());
    if (isRedo(e)) return handled(() => this.redo());
    if (isSubmit(e)) return handled(() => this.submit());
    if (isSaveDraft(e)) return handled(() => this.draft());
    if (isSkip(e)) {
      // Escape in the rationale box first leaves it (typing is under way); again, it skips.
      if (inBox) return handled(() => this.focusRow(0));
      return handled(() => bumpNonce(this.model, "skip_count"));
    }
    if (inBox) return; // letters are text here
    const onButton = e.target instanceof HTMLElement && e.target.closest("button") !== null;
    if (onButton && (e.key === "Enter" || e.key === " ")) return;
    const row = this.focusedRow(e.target);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      return handled(() => this.focusRow(stepRow(row, e.key === "ArrowDown" ? 1 : -1, this.rows.length)));
    }
    if (isPlainKey(e)) {
      const offered = offeredVerdicts(this.model.get("tie"), this.model.get("both_bad"));
      const verdict = verdictForKey(e.key, offered);
      const current = this.rows[row];
      if (verdict !== undefined && current !== undefined) handled(() => this.pick(current.criterion, verdict));
    }
  }
}
