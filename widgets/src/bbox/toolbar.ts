/**
 * The editor's buttons: the label to draw with (a radio group), zoom, the selected box or
 * suggestion, and all suggestions at once. Every action also has a key (keymap.ts); the buttons
 * make them discoverable and reachable by pointer alone. One delegated click listener serves
 * all buttons, so rebuilding the label chips adds no listeners.
 */
import { h, replaceChildren } from "../common/dom";
import { readableTextColor } from "../common/labels";

/** One entry of the `labels` traitlet. */
export interface BoxLabel {
  name: string;
  color: string;
  hotkey?: string | null;
  description?: string;
}

export type ToolbarAction =
  | { kind: "label"; name: string }
  | { kind: "zoom"; how: "in" | "out" | "fit" }
  | { kind: "delete" | "accept" | "reject" | "accept_all" | "reject_all" };

export interface ToolbarState {
  drawLabel: string | null;
  /** Display pixels per natural pixel. */
  scale: number;
  selected: "box" | "suggestion" | null;
  suggestions: number;
  /** A view: the label chips are a legend, and no button edits. */
  readOnly: boolean;
}

export class Toolbar {
  readonly element: HTMLElement;
  private readonly labels: HTMLElement;
  private readonly zoomText: HTMLElement;
  private readonly selectionGroup: HTMLElement;
  private readonly suggestionGroup: HTMLElement;
  private readonly buttons: Record<"delete" | "accept" | "reject" | "acceptAll", HTMLButtonElement>;
  private readonly onClick: (event: MouseEvent) => void;

  constructor(act: (action: ToolbarAction) => void) {
    this.labels = h("div", {
      className: "annolab-bbox-labels",
      attrs: { role: "radiogroup", "aria-label": "Label for new boxes" },
    });
    this.zoomText = h("span", { className: "annolab-bbox-zoom-text" });
    this.buttons = {
      delete: button("Delete box", "delete", "Delete the selected box (Delete)"),
      accept: button("Accept", "accept", "Accept the selected suggestion (Enter)"),
      reject: button("Reject", "reject", "Reject the selected suggestion (Delete)"),
      acceptAll: button("Accept all", "accept_all", "Accept every suggestion"),
    };
    this.selectionGroup = h("div", { className: "annolab-bbox-group" }, [
      this.buttons.delete,
      this.buttons.accept,
      this.buttons.reject,
    ]);
    this.suggestionGroup = h("div", { className: "annolab-bbox-group" }, [
      this.buttons.acceptAll,
      button("Reject all", "reject_all", "Reject every suggestion"),
    ]);
    const zoomAttrs = { role: "group", "aria-label": "Zoom" };
    const zoom = h("div", { className: "annolab-bbox-group", attrs: zoomAttrs }, [
      button("−", "zoom:out", "Zoom out (-)", "Zoom out"),
      this.zoomText,
      button("+", "zoom:in", "Zoom in (+)", "Zoom in"),
      button("Fit", "zoom:fit", "Show the whole image (0)", "Fit the image"),
    ]);
    this.element = h("div", { className: "annolab-bbox-toolbar" }, [
      this.labels,
      zoom,
      this.selectionGroup,
      this.suggestionGroup,
    ]);

    this.onClick = (event: MouseEvent): void => {
      const target = event.target instanceof Element ? event.target.closest("button") : null;
      const action = target === null ? null : parseAction(target);
      if (action !== null) act(action);
    };
    this.element.addEventListener("click", this.onClick);
  }

  /** `keys` maps a label to its key (assignHotkeys), shown in the chip. */
  setLabels(labels: readonly BoxLabel[], keys: ReadonlyMap<string, string>): void {
    replaceChildren(
      this.labels,
      labels.map((label) => {
        const chip = h(
          "button",
          {
            className: "annolab-button annolab-chip annolab-bbox-label",
            title: label.description || label.name,
            attrs: {
              type: "button",
              role: "radio",
              "aria-checked": "false",
              "data-label": label.name,
            },
            style: { backgroundColor: label.color, color: readableTextColor(label.color) ?? "" },
          },
          [h("span", { text: label.name })],
        );
        const key = keys.get(label.name);
        if (key !== undefined) chip.append(h("kbd", { text: key }));
        return chip;
      }),
    );
  }

  update(state: ToolbarState): void {
    for (const chip of this.labels.querySelectorAll<HTMLButtonElement>("button[data-label]")) {
      const checked = chip.dataset["label"] === state.drawLabel;
      chip.setAttribute("aria-checked", String(checked && !state.readOnly));
      // A radio group is one Tab stop: the checked chip takes it.
      chip.tabIndex = checked ? 0 : -1;
      chip.disabled = state.readOnly;
    }
    const labelsName = state.readOnly ? "Labels" : "Label for new boxes";
    if (this.labels.getAttribute("aria-label") !== labelsName) {
      this.labels.setAttribute("aria-label", labelsName);
    }
    this.zoomText.textContent = `${Math.round(state.scale * 100)}%`;
    this.buttons.delete.hidden = state.selected !== "box";
    this.buttons.accept.hidden = state.selected !== "suggestion";
    this.buttons.reject.hidden = state.selected !== "suggestion";
    this.selectionGroup.hidden = state.readOnly || state.selected === null;
    this.suggestionGroup.hidden = state.readOnly || state.suggestions === 0;
    this.buttons.acceptAll.textContent = `Accept all ${state.suggestions}`;
  }

  dispose(): void {
    this.element.removeEventListener("click", this.onClick);
    this.element.remove();
  }
}

function button(
  text: string,
  action: string,
  title: string,
  ariaLabel?: string,
): HTMLButtonElement {
  const attrs: Record<string, string> = { type: "button", "data-action": action };
  if (ariaLabel !== undefined) attrs["aria-label"] = ariaLabel;
  return h("button", { className: "annolab-button annolab-bbox-button", text, title, attrs });
}

function parseAction(button: HTMLButtonElement): ToolbarAction | null {
  const label = button.dataset["label"];
  if (label !== undefined) return { kind: "label", name: label };
  const action = button.dataset["action"];
  switch (action) {
    case "zoom:in":
    case "zoom:out":
    case "zoom:fit":
      return { kind: "zoom", how: action.slice(5) as "in" | "out" | "fit" };
    case "delete":
    case "accept":
    case "reject":
    case "accept_all":
    case "reject_all":
      return { kind: action };
    default:
      return null;
  }
}
