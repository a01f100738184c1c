/**
 * What a screen reader gets in place of the canvas, whose pixels it cannot read: a visually
 * hidden list of every box and suggestion, and a live region that says what just happened.
 * Label names go in as text (textContent), never as HTML.
 */
import { h, replaceChildren } from "../common/dom";
import type { Box, Doc, Patch, Selection } from "./doc";

/** What a disputed box's sign means, read out and shown as its tooltip. */
export const DISPUTED_TEXT = "not in every answer";

/**
 * "Box 2 of 5: dog, x 10, y 20, 30 by 40 pixels" (suggestions add their score, and a
 * disputed box says it is not in every answer).
 */
export function describeBox(
  box: Box,
  kind: "box" | "suggestion",
  index: number,
  total: number,
  disputed = false,
): string {
  const what = kind === "box" ? "Box" : "Suggestion";
  const hasScore = box.score !== undefined && box.score !== null;
  const score = hasScore ? `, score ${(box.score as number).toFixed(2)}` : "";
  const flag = disputed ? `, ${DISPUTED_TEXT}` : "";
  return `${what} ${index + 1} of ${total}: ${box.label}, ${place(box)}${score}${flag}`;
}

/** "1 box not in every answer"; "" when none is. */
export function describeDisputed(count: number): string {
  if (count === 0) return "";
  return `${count} ${count === 1 ? "box" : "boxes"} ${DISPUTED_TEXT}`;
}

/** What an edit did, in a sentence; `after` is the selected box once it is applied. */
export function describePatch(patch: Patch, before: Doc, after: Box | undefined): string {
  switch (patch.op) {
    case "add":
      return `Added a ${patch.box.label} box.`;
    case "remove":
      return `Deleted the ${before.boxes[patch.index]?.label ?? ""} box.`;
    case "relabel":
      return `Relabelled as ${patch.label}.`;
    case "accept":
      return "Suggestion accepted.";
    case "reject":
      return "Suggestion rejected.";
    case "accept_all":
      return `Accepted ${plural(before.suggestions.length, "suggestion")}.`;
    case "reject_all":
      return `Rejected ${plural(before.suggestions.length, "suggestion")}.`;
    case "replace":
      return "Boxes restored.";
    case "move":
    case "resize":
      return after === undefined ? "" : `Now ${place(after)}.`;
  }
}

/**
 * The hidden list. `update` rebuilds the items only when the boxes changed (they are
 * immutable, so identity tells); a new selection just moves `aria-current`, which keeps a
 * click on one of 1,000 boxes from rebuilding 1,000 items.
 */
export class BoxList {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private items: HTMLLIElement[] = [];
  private shown: Doc | null = null;
  private flagged: ReadonlySet<number> | null = null;
  private current: HTMLLIElement | undefined;

  constructor(label: string) {
    this.list = h("ul");
    const attrs = { "aria-label": label };
    this.element = h("div", { className: "annolab-visually-hidden", attrs }, [this.list]);
  }

  /** `disputed`: indexes into `doc.boxes`; a new set (not a changed one) means a change. */
  update(doc: Doc, selection: Selection, disputed: ReadonlySet<number>): void {
    const shown = this.shown;
    if (
      shown === null ||
      doc.boxes !== shown.boxes ||
      doc.suggestions !== shown.suggestions ||
      disputed !== this.flagged
    ) {
      this.rebuild(doc, disputed);
    }
    let index = -1;
    if (selection !== null) {
      index = selection.kind === "box" ? selection.index : doc.boxes.length + selection.index;
    }
    const item = index >= 0 ? this.items[index] : undefined;
    if (item === this.current) return;
    this.current?.removeAttribute("aria-current");
    item?.setAttribute("aria-current", "true");
    this.current = item;
  }

  private rebuild(doc: Doc, disputed: ReadonlySet<number>): void {
    const describe = (list: readonly Box[], kind: "box" | "suggestion"): HTMLLIElement[] =>
      list.map((box, i) => {
        const flagged = kind === "box" && disputed.has(i);
        const text = describeBox(box, kind, i, list.length, flagged);
        return h("li", flagged ? { text, attrs: { "data-disputed": "true" } } : { text });
      });
    this.items = [...describe(doc.boxes, "box"), ...describe(doc.suggestions, "suggestion")];
    this.shown = doc;
    this.flagged = disputed;
    this.current = undefined;
    const empty = this.items.length === 0 ? [h("li", { text: "No boxes yet." })] : [];
    replaceChildren(this.list, [...this.items, ...empty]);
  }
}

/** A polite live region: the last action, read out without moving focus. */
export class Announcer {
  readonly element: HTMLElement = h("div", {
    className: "annolab-visually-hidden",
    attrs: { "aria-live": "polite", "aria-atomic": "true" },
  });

  say(message: string): void {
    this.element.textContent = message;
  }
}

function px(value: number): string {
  return String(Number(value.toFixed(2)));
}

function place(box: Box): string {
  return `x ${px(box.x)}, y ${px(box.y)}, ${px(box.width)} by ${px(box.height)} pixels`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
