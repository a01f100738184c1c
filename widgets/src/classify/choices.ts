/**
 * The labels to choose from: radio buttons (single) or checkboxes (multi), each with its
 * colour, hotkey and, when a model suggested it, the score. One tab stop for the group; the
 * arrow keys move between labels (WAI-ARIA's radio group pattern), Space or Enter chooses.
 */
import { h, replaceChildren } from "../common/dom";
import type { Hotkeys, LabelInfo } from "../common/hotkeys";
import { readableTextColor } from "../common/labels";
import type { Suggestion, Value } from "./model";
import { isChosen } from "./state";

export class Choices {
  readonly element: HTMLElement;
  private options: HTMLElement[] = [];
  private names: string[] = [];
  private active = 0;
  private readonly onPick: (label: string) => void;
  private readonly cleanups: Array<() => void> = [];

  constructor(onPick: (label: string) => void) {
    this.onPick = onPick;
    this.element = h("div", { className: "annolab-classify-choices" });
    const click = (event: Event): void => {
      const target = event.target instanceof Element ? event.target : null;
      const option = target?.closest<HTMLElement>("[data-index]") ?? null;
      if (option === null || !this.element.contains(option)) return;
      this.setActive(Number(option.dataset.index));
      this.onPick(this.names[this.active] as string);
    };
    const keydown = (event: KeyboardEvent): void => this.onKeyDown(event);
    this.element.addEventListener("click", click);
    this.element.addEventListener("keydown", keydown);
    this.cleanups.push(
      () => this.element.removeEventListener("click", click),
      () => this.element.removeEventListener("keydown", keydown),
    );
  }

  /** Redraws the options; label names, descriptions and scores go in as text. */
  draw(
    labels: readonly LabelInfo[],
    hotkeys: Hotkeys,
    multi: boolean,
    value: Value,
    suggestions: readonly Suggestion[],
  ): void {
    const scores = new Map(suggestions.map((s) => [s.label, s.score]));
    const hadFocus = this.element.contains(this.element.ownerDocument.activeElement);
    this.element.setAttribute("role", multi ? "group" : "radiogroup");
    this.element.setAttribute("aria-label", multi ? "Labels (choose any)" : "Label (choose one)");
    this.names = labels.map((label) => label.name);
    this.options = labels.map((label, index) => {
      const chosen = isChosen(value, label.name);
      const key = hotkeys.byLabel.get(label.name);
      const mark = h("span", {
        className: multi ? "annolab-classify-mark is-box" : "annolab-classify-mark",
        attrs: { "aria-hidden": "true" },
      });
      const name = h("span", { className: "annolab-classify-name", text: label.name });
      const children: Node[] = [mark, name];
      let description = label.description;
      if (scores.has(label.name)) {
        const score = scores.get(label.name);
        const shown = score === undefined ? "suggested" : `suggested ${score.toFixed(2)}`;
        children.push(h("span", { className: "annolab-classify-suggested", text: shown }));
        description = description === "" ? shown : `${description} (${shown})`;
      }
      if (key !== undefined) children.push(h("kbd", { className: "annolab-classify-key", text: key }));
      const option = h(
        "div",
        {
          // The chip shared with NER and BBox (common/chrome.css), in the label's colour.
          style: { backgroundColor: label.color, color: readableTextColor(label.color) ?? "" },
          className: [
            "annolab-chip",
            "annolab-classify-option",
            ...(chosen ? ["is-chosen"] : []),
            ...(scores.has(label.name) ? ["is-suggested"] : []),
          ].join(" "),
          attrs: {
            role: multi ? "checkbox" : "radio",
            "aria-checked": String(chosen),
            "data-index": String(index),
            tabindex: "-1",
            ...(key === undefined ? {} : { "aria-keyshortcuts": key }),
          },
        },
        children,
      );
      if (description !== "") {
        option.title = description;
        option.setAttribute("aria-description", description);
      }
      return option;
    });
    replaceChildren(this.element, this.options);
    // One tab stop: the chosen label, else the one last used, else the first.
    const firstChosen = this.names.findIndex((name) => isChosen(value, name));
    const keep = Math.min(this.active, this.options.length - 1);
    this.setActive(firstChosen >= 0 && !hadFocus ? firstChosen : keep, hadFocus);
  }

  /** Puts keyboard focus on the group's tab stop. */
  focus(): void {
    this.options[this.active]?.focus({ preventScroll: true });
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.element.remove();
  }

  private setActive(index: number, focus = false): void {
    if (this.options.length === 0) return;
    this.active = Math.max(0, Math.min(index, this.options.length - 1));
    this.options.forEach((option, i) => option.setAttribute("tabindex", i === this.active ? "0" : "-1"));
    if (focus) this.focus();
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    if (step !== undefined) {
      event.preventDefault();
      const count = this.options.length;
      this.setActive((this.active + step + count) % count, true);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      this.setActive(event.key === "Home" ? 0 : this.options.length - 1, true);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      const name = this.names[this.active];
      if (name !== undefined) this.onPick(name);
    }
  }
}
