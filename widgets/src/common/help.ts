/**
 * The shortcut list every annotation widget opens on "?": the widget's own keys, one row per
 * label with its key and colour, and the keys of the action bar. Esc or "?" closes it, and
 * focus goes back where it was, so the annotator carries on where they looked.
 */
import { h, replaceChildren } from "./dom";
import { type LabelInfo, assignHotkeys } from "./hotkeys";
import { readableTextColor } from "./labels";

/** One line of the list: the keys as shown ("Ctrl+Enter") and what they do. */
export interface ShortcutRow {
  keys: string;
  what: string;
}

/** The rows of the action bar's keys, shared by every widget. */
export const ACTION_SHORTCUTS: readonly ShortcutRow[] = [
  { keys: "Ctrl+Enter", what: "Submit" },
  { keys: "Esc", what: "Skip (first cancels what is under way)" },
  { keys: "Ctrl+S", what: "Save a draft (the notebook is saved too)" },
  { keys: "Ctrl+Z / Ctrl+Shift+Z", what: "Undo / redo" },
  { keys: "?", what: "Show or hide this list" },
];

/** Whether a key press asks for the list: "?" alone, not typed into a text field. */
export function isHelpKey(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; target?: EventTarget | null }): boolean {
  if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return false;
  const target = e.target as HTMLElement | null | undefined;
  const tag = target?.tagName;
  // A "?" typed into a comment or a form answer is text, not a request for help.
  return !(tag === "INPUT" || tag === "TEXTAREA" || target?.isContentEditable === true);
}

/** The label rows: each label's key (as the widgets assign them) and its colour. */
export function labelRows(labels: readonly LabelInfo[]): Array<ShortcutRow & { color: string }> {
  const keys = assignHotkeys(labels);
  return labels.map((label) => ({
    keys: keys.byLabel.get(label.name) ?? "",
    what: label.name,
    color: label.color,
  }));
}

export interface HelpOverlay {
  readonly element: HTMLElement;
  readonly isOpen: boolean;
  toggle(): void;
  close(): void;
  dispose(): void;
}

/**
 * A dialog in `root` (hidden until "?"), filled when opened from `rows()` (the widget's keys)
 * and `labels()` (the current label set), so it never shows stale hotkeys.
 */
export function helpOverlay(
  root: HTMLElement,
  rows: () => readonly ShortcutRow[],
  labels: () => readonly LabelInfo[],
): HelpOverlay {
  const body = h("div", { className: "annolab-help-body" });
  const close = h("button", {
    className: "annolab-button annolab-help-close",
    text: "Close",
    title: "Close (Esc or ?)",
    attrs: { type: "button" },
  });
  const element = h(
    "div",
    {
      className: "annolab-help",
      attrs: { role: "dialog", "aria-label": "Keyboard shortcuts", tabindex: "-1", hidden: "" },
    },
    [h("div", { className: "annolab-help-title", text: "Keyboard shortcuts" }), body, close],
  );
  let returnTo: HTMLElement | null = null;

  const table = (title: string, items: ReadonlyArray<ShortcutRow & { color?: string }>): Node[] => {
    if (items.length === 0) return [];
    const lines = items.map((row) => {
      const what = h("td", { text: row.what });
      if (row.color !== undefined) {
        what.replaceChildren(
          h("span", {
            className: "annolab-chip annolab-help-chip",
            text: row.what,
            style: { backgroundColor: row.color, color: readableTextColor(row.color) ?? "" },
          }),
        );
      }
      return h("tr", {}, [h("td", {}, [h("kbd", { text: row.keys })]), what]);
    });
    const className = title === "Labels" ? "annolab-help-labels" : "annolab-help-keys";
    return [
      h("div", { className: "annolab-help-section", text: title }),
      h("table", { className }, [h("tbody", {}, lines)]),
    ];
  };

  const open = (): void => {
    const active = root.ownerDocument.activeElement;
    returnTo = active instanceof HTMLElement && root.contains(active) ? active : null;
    replaceChildren(body, [
      ...table("Labels", labelRows(labels())),
      ...table("This widget", rows()),
      ...table("Actions", ACTION_SHORTCUTS),
    ]);
    element.hidden = false;
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "nearest" });
  };
  const shut = (): void => {
    if (element.hidden) return;
    element.hidden = true;
    returnTo?.focus({ preventScroll: true });
    returnTo = null;
  };
  const onKeyDown = (e: KeyboardEvent): void => {
    const isOpen = !element.hidden;
    if (isHelpKey(e)) {
      if (isOpen) shut();
      else open();
    } else if (isOpen && e.key === "Escape") {
      // Esc closes the list; it must not also skip the task.
      shut();
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  };
  const onClose = (): void => shut();
  // Capture: the list sees "?" and Esc before the editor, which would take Esc as "skip".
  root.addEventListener("keydown", onKeyDown, true);
  close.addEventListener("click", onClose);
  root.append(element);
  return {
    element,
    get isOpen() {
      return !element.hidden;
    },
    toggle: () => (element.hidden ? open() : shut()),
    close: shut,
    dispose() {
      root.removeEventListener("keydown", onKeyDown, true);
      close.removeEventListener("click", onClose);
      element.remove();
    },
  };
}
