/**
 * The controls around the NER text: the label buttons (with their hotkeys), the line that
 * describes the focused span or suggestion with its actions, the suggestion buttons, and a
 * polite live region that announces each change to screen readers.
 */
import { h, replaceChildren } from "../common/dom";
import type { Hotkeys, LabelInfo } from "../common/hotkeys";
import { readableTextColor } from "../common/labels";

export type ToolbarAction =
  | { kind: "label"; label: string }
  | { kind: "delete" }
  | { kind: "accept" }
  | { kind: "reject" }
  | { kind: "accept_all" }
  | { kind: "reject_all" };

/** What the status line describes. */
export interface Status {
  /** e.g. `PER "Ada"` or `suggested LOC 0.91 "London"`; null when nothing is focused. */
  focused: { kind: "span" | "suggestion"; text: string } | null;
  suggestions: number;
  armed: string | null;
}

const HINT =
  "Select text, then press a label's key or click the label. Tab moves between spans; " +
  "Shift+arrows select from the keyboard.";

export class Toolbar {
  readonly labels: HTMLElement;
  readonly status: HTMLElement;
  readonly live: HTMLElement;
  private readonly describe: HTMLElement;
  private readonly focusedActions: HTMLElement;
  private readonly suggestionActions: HTMLElement;
  private readonly suggestionCount: HTMLElement;
  private readonly run: (action: ToolbarAction) => void;
  private readonly cleanups: Array<() => void> = [];
  private buttons = new Map<string, HTMLButtonElement>();
  /** What each button does: one click listener per container (buttons come and go). */
  private readonly actions = new WeakMap<Element, ToolbarAction>();

  constructor(run: (action: ToolbarAction) => void) {
    this.run = run;
    this.labels = h("div", {
      className: "annolab-ner-labels",
      attrs: { role: "toolbar", "aria-label": "Labels" },
    });
    this.describe = h("span", { className: "annolab-ner-describe", text: HINT });
    this.focusedActions = h("span", { className: "annolab-ner-focused-actions" });
    this.suggestionCount = h("span", { className: "annolab-ner-suggestion-count" });
    this.suggestionActions = h("span", { className: "annolab-ner-suggestion-actions" }, [
      this.suggestionCount,
      this.button("Accept all", "Accept all suggestions", { kind: "accept_all" }),
      this.button("Reject all", "Reject all suggestions", { kind: "reject_all" }),
    ]);
    this.status = h("div", { className: "annolab-ner-status" }, [
      this.describe,
      this.focusedActions,
      this.suggestionActions,
    ]);
    this.live = h("div", {
      className: "annolab-visually-hidden",
      attrs: { "aria-live": "polite", role: "status" },
    });
    for (const container of [this.labels, this.status]) {
      const onClick = (event: Event): void => {
        const button = event.target instanceof Element ? event.target.closest("button") : null;
        const action = button === null ? undefined : this.actions.get(button);
        if (action !== undefined) this.run(action);
      };
      container.addEventListener("click", onClick);
      this.cleanups.push(() => container.removeEventListener("click", onClick));
    }
  }

  /** Redraws the label buttons; label names and descriptions go in as text. */
  setLabels(labels: readonly LabelInfo[], hotkeys: Hotkeys): void {
    this.buttons = new Map();
    const nodes = labels.map((label) => {
      const key = hotkeys.byLabel.get(label.name);
      const children: Node[] = [h("span", { text: label.name })];
      if (key !== undefined) children.push(h("kbd", { className: "annolab-ner-key", text: key }));
      // The chip shared with Classify and BBox (common/chrome.css), in the label's colour.
      const button = h(
        "button",
        {
          className: "annolab-button annolab-chip annolab-ner-label",
          style: { backgroundColor: label.color, color: readableTextColor(label.color) ?? "" },
          attrs: {
            type: "button",
            "aria-pressed": "false",
            "aria-label": key === undefined ? label.name : `${label.name} (key ${key})`,
            ...(key === undefined ? {} : { "aria-keyshortcuts": key }),
          },
        },
        children,
      );
      if (label.description !== "") button.title = label.description;
      this.actions.set(button, { kind: "label", label: label.name });
      this.buttons.set(label.name, button);
      return button;
    });
    replaceChildren(this.labels, nodes);
  }

  setStatus(status: Status): void {
    for (const [name, button] of this.buttons) {
      button.setAttribute("aria-pressed", String(status.armed === name));
    }
    const focused = status.focused;
    if (focused === null) {
      this.describe.textContent =
        status.armed === null ? HINT : `Select text to label it ${status.armed}. Esc stops.`;
      replaceChildren(this.focusedActions, []);
    } else {
      this.describe.textContent = focused.text;
      replaceChildren(
        this.focusedActions,
        focused.kind === "span"
          ? [this.button("Delete", "Delete the span (Delete)", { kind: "delete" })]
          : [
              this.button("Accept", "Accept the suggestion (Enter)", { kind: "accept" }),
              this.button("Reject", "Reject the suggestion (Delete)", { kind: "reject" }),
            ],
      );
    }
    this.suggestionActions.hidden = status.suggestions === 0;
    this.suggestionCount.textContent =
      status.suggestions === 1 ? "1 suggestion" : `${status.suggestions} suggestions`;
  }

  /** Says `message` to screen readers. */
  announce(message: string): void {
    this.live.textContent = message;
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private button(text: string, label: string, action: ToolbarAction): HTMLButtonElement {
    const button = h("button", {
      className: "annolab-button",
      text,
      title: label,
      attrs: { type: "button", "aria-label": label },
    });
    this.actions.set(button, action);
    return button;
  }
}
