/**
 * Form: choice, choices, rating and text questions, and a layout's display blocks, as text.
 * Python side: annolab/widgets/form.py. Python validates each answer; this view trusts the model.
 */
import type { AnyModel, RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./form.css";

import { actionBar, errorBanner } from "../common/chrome";
import { h, text } from "../common/dom";
import { bumpNonce, guardShortcuts, isPlainKey, isSaveDraft, isSkip, isSubmit } from "../common/keys";
import { PatchChannel } from "../common/patches";
import { type Answer, type Question, answerForKey, clip, describe, step, toggle, usesSelect } from "./state";

interface Block {
  kind: string;
  title?: string;
  text?: string;
  fields?: Array<{ name: string; value: string }>;
  badges?: string[];
}

interface FormModel {
  questions: Question[];
  blocks: Block[];
  value: Record<string, Answer>;
  error: string;
  submit_count: number;
  skip_count: number;
  draft_count: number;
  show_submit: boolean;
  show_draft: boolean;
}

interface SetPatch {
  op: "set";
  question: string;
  value: Answer;
}

/** What Tab and Alt+arrows move between: each question's focus target, NER's text, a BBox. */
const TARGETS = "[data-annolab-question], .annolab-ner-text, .annolab-bbox [tabindex='0']";
const LAYOUT = ".annolab-layout";

/**
 * One listener for the page, shared by every Form view: inside a LayoutWidget (an element with
 * class annolab-layout) Tab / Shift+Tab and Alt+Down / Alt+Up go from question to question,
 * into and out of NER too, whose own keys never see them (capture phase).
 */
let navigators = 0;
function onNavigate(e: KeyboardEvent): void {
  const alt = e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "ArrowDown" || e.key === "ArrowUp");
  const tab = e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey;
  if (!alt && !tab) return;
  const target = e.target instanceof Element ? e.target : null;
  const scope = target?.closest(LAYOUT) ?? (alt ? target?.closest(".annolab-form") : null);
  if (scope == null || target === null) return;
  const all = [...scope.querySelectorAll<HTMLElement>(TARGETS)];
  const here = all.findIndex((el) => el === target || el.contains(target) || target.contains(el));
  const forward = alt ? e.key === "ArrowDown" : !e.shiftKey;
  const next = step(here, all.length, forward);
  // Tab past the last (or before the first) question leaves for the buttons, as usual.
  if (next < 0 || (tab && here >= 0 && next === here)) return;
  e.preventDefault();
  e.stopPropagation();
  all[next]?.focus();
}

function navigate(): () => void {
  if (navigators === 0) document.addEventListener("keydown", onNavigate, true);
  navigators += 1;
  return () => {
    navigators -= 1;
    if (navigators === 0) document.removeEventListener("keydown", onNavigate, true);
  };
}

class FormView {
  readonly root: HTMLElement;
  private readonly model: AnyModel<FormModel>;
  private readonly body: HTMLElement;
  private readonly channel: PatchChannel<SetPatch>;
  private readonly cleanups: Array<() => void> = [];
  private value: Record<string, Answer>;

  constructor(model: AnyModel<FormModel>, el: HTMLElement) {
    const started = performance.now();
    this.model = model;
    this.value = { ...model.get("value") };
    this.channel = new PatchChannel<SetPatch>(model, () => {
      // Once nothing is pending the model is the truth again (a refused answer rolls back).
      if (!this.channel.busy) this.take();
    });
    this.body = h("div", { className: "annolab-form-body" });
    this.root = h("div", { className: "annolab annolab-form", attrs: { role: "group", "aria-label": "Form" } }, [
      this.body,
    ]);
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model), navigate());
    const bar = actionBar(
      this.root,
      {
        onUndo: () => {},
        onRedo: () => {},
        onSubmit: () => bumpNonce(model, "submit_count"),
        onSkip: () => bumpNonce(model, "skip_count"),
        onDraft: () => bumpNonce(model, "draft_count"),
      },
      model,
    );
    bar.update(false, false);
    const showBar = (): void => {
      this.root.classList.toggle("annolab-form-nobar", model.get("show_submit") === false);
    };
    showBar();
    model.on("change:show_submit", showBar);
    this.cleanups.push(() => bar.dispose(), () => model.off("change:show_submit", showBar));
    const onKey = (e: Event): void => this.onRootKey(e as KeyboardEvent);
    this.root.addEventListener("keydown", onKey);
    this.cleanups.push(() => this.root.removeEventListener("keydown", onKey));
    const redraw = (): void => this.draw();
    const take = (): void => {
      if (!this.channel.busy) this.take();
    };
    model.on("change:questions", redraw);
    model.on("change:blocks", redraw);
    model.on("change:value", take);
    this.cleanups.push(() => {
      model.off("change:questions", redraw);
      model.off("change:blocks", redraw);
      model.off("change:value", take);
    });
    this.draw();
    // Read by the browser benchmark, as NER's is: the view's own work, not the kernel's.
    this.root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  dispose(): void {
    this.channel.dispose();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private take(): void {
    this.value = { ...this.model.get("value") };
    this.draw();
  }

  private set(question: Question, answer: Answer): void {
    this.value = { ...this.value, [question.name]: answer };
    this.channel.send({ op: "set", question: question.name, value: answer });
    this.draw();
  }

  private onRootKey(e: KeyboardEvent): void {
    if (isSubmit(e)) bumpNonce(this.model, "submit_count");
    else if (isSaveDraft(e)) bumpNonce(this.model, "draft_count");
    else if (isSkip(e)) bumpNonce(this.model, "skip_count");
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  private draw(): void {
    // Keep focus on the same question across a redraw, so keys keep working.
    const active = this.root.ownerDocument.activeElement;
    const focused = active instanceof HTMLElement && this.root.contains(active) ? active.dataset.annolabQuestion : undefined;
    const nodes: Node[] = [];
    for (const block of this.model.get("blocks")) nodes.push(this.block(block));
    for (const question of this.model.get("questions")) nodes.push(this.question(question));
    this.body.replaceChildren(...nodes);
    if (focused !== undefined) {
      const again = [...this.body.querySelectorAll<HTMLElement>("[data-annolab-question]")].find(
        (el) => el.dataset.annolabQuestion === focused,
      );
      again?.focus();
    }
  }

  private block(block: Block): HTMLElement {
    if (block.kind === "header") {
      const fields = (block.fields ?? []).map((f) =>
        h("span", { className: "annolab-form-field" }, [
          h("span", { className: "annolab-form-field-name", text: `${f.name}: ` }),
          h("span", { className: "annolab-form-field-value", text: f.value }),
        ]),
      );
      const badges = (block.badges ?? []).map((b) => h("span", { className: "annolab-form-badge", text: b }));
      return h("div", { className: "annolab-form-header", attrs: { role: "banner" } }, [...fields, ...badges]);
    }
    const children: Node[] = [];
    if (block.title) children.push(h("div", { className: "annolab-form-block-title", text: block.title }));
    children.push(h("div", { className: "annolab-form-block-text", text: block.text ?? "" }));
    return h("div", { className: `annolab-form-block annolab-form-${block.kind}` }, children);
  }

  private question(question: Question): HTMLElement {
    const answer = this.value[question.name] ?? null;
    const title = h("div", { className: "annolab-form-title" }, [
      text(question.name),
      ...(question.required ? [h("span", { className: "annolab-form-required", text: " *", title: "required" })] : []),
    ]);
    const status = h("span", { className: "annolab-form-status", text: describe(question, answer) });
    const parts: Node[] = [title];
    if (question.description) parts.push(h("div", { className: "annolab-form-description", text: question.description }));
    const wrap = h("div", {
      className: "annolab-form-question",
      attrs: { "data-kind": question.kind, "data-name": question.name },
    });
    let target: HTMLElement;
    if (question.kind === "text") {
      const area = h("textarea", {
        className: "annolab-form-textarea",
        attrs: { rows: String(question.rows ?? 3), "aria-label": question.name },
      });
      if (question.max_chars != null) area.maxLength = question.max_chars;
      area.value = typeof answer === "string" ? answer : "";
      // Sent when the annotator leaves the box (and before a submit by key), not per keystroke.
      area.addEventListener("change", () => this.set(question, clip(area.value, question.max_chars)));
      area.addEventListener("keydown", (e) => {
        if (isSubmit(e) && area.value !== (answer ?? "")) this.set(question, clip(area.value, question.max_chars));
      });
      parts.push(area);
      target = area;
    } else if (usesSelect(question)) {
      const select = h("select", { className: "annolab-form-select", attrs: { "aria-label": question.name } });
      select.append(h("option", { text: "—", attrs: { value: "" } }));
      for (const o of question.options ?? []) select.append(h("option", { text: o.name, attrs: { value: o.name } }));
      select.value = typeof answer === "string" ? answer : "";
      select.addEventListener("change", () => this.set(question, select.value === "" ? null : select.value));
      parts.push(select);
      target = select;
    } else {
      const names =
        question.kind === "rating"
          ? Array.from({ length: question.scale ?? 5 }, (_, i) => String(i + 1))
          : (question.options ?? []).map((o) => o.name);
      const chosen = (name: string): boolean =>
        question.kind === "rating" ? answer === Number(name) : Array.isArray(answer) ? answer.includes(name) : answer === name;
      const buttons = names.map((name) => {
        const on = chosen(name);
        const button = h("button", {
          className: `annolab-button annolab-form-option${on ? " annolab-form-chosen" : ""}`,
          text: name,
          // Tab goes question to question; within one, keys and clicks choose.
          attrs: { type: "button", tabindex: "-1", "aria-pressed": String(on) },
        });
        button.addEventListener("click", () => {
          const next = question.kind === "rating" ? (answer === Number(name) ? null : Number(name)) : toggle(question, answer, name);
          this.set(question, next);
          wrap.focus();
        });
        return button;
      });
      parts.push(h("div", { className: "annolab-form-options" }, buttons));
      target = wrap;
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "group");
      wrap.setAttribute("aria-label", question.name);
      wrap.addEventListener("keydown", (e) => {
        if (!isPlainKey(e) || e.target !== wrap) return;
        const next = answerForKey(question, answer, e.key);
        if (next === undefined) return;
        e.preventDefault();
        e.stopPropagation();
        this.set(question, next);
      });
    }
    target.dataset.annolabQuestion = question.name;
    parts.push(status);
    wrap.append(...parts);
    return wrap;
  }
}

function render({ model, el }: RenderProps<FormModel>): () => void {
  const view = new FormView(model, el);
  return () => view.dispose();
}

export default { render };
