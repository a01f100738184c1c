/**
 * The editor's keyboard, as a pure function from a key press to an action (tested under node).
 *
 *   label hotkey        pick the label to draw with; relabel the selected box
 *   Delete, Backspace   delete the selected box, or reject the selected suggestion
 *   Enter               accept the selected suggestion
 *   arrows              move the selected box 1 natural pixel (Shift: 10)
 *   Tab, Shift+Tab      select the next / previous box (suggestions after boxes)
 *   + / - / 0           zoom in, out, fit (when not label hotkeys)
 *   Space (held)        drag to pan
 *   Escape              cancel a drag, else clear the selection, else skip
 *   Ctrl+Z, Ctrl+Shift+Z (or Ctrl+Y), Ctrl+Enter: undo, redo, submit (Cmd on macOS)
 */
import type { Selection } from "./doc";

/** The parts of a KeyboardEvent the keymap reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** Shortcuts shared by every annolab widget (undo, redo, submit, skip). */
export interface CommonKeys {
  isUndo(e: KeyPress): boolean;
  isRedo(e: KeyPress): boolean;
  isSubmit(e: KeyPress): boolean;
  isSkip(e: KeyPress): boolean;
  isSaveDraft(e: KeyPress): boolean;
}

export type KeyAction =
  | { kind: "undo" | "redo" | "submit" | "skip" | "draft" | "cancel" | "deselect" }
  | { kind: "delete" | "accept" }
  | { kind: "nudge"; dx: number; dy: number }
  | { kind: "cycle"; step: 1 | -1 }
  | { kind: "label"; name: string }
  | { kind: "zoom"; how: "in" | "out" | "fit" };

export interface KeyContext {
  selection: Selection;
  /** A drag is under way. */
  dragging: boolean;
  /** Hotkey -> label name. */
  hotkeys: ReadonlyMap<string, string>;
  common: CommonKeys;
}

const ARROWS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/** The action of a key press, or null when the key is not the editor's (let it through). */
export function keyAction(e: KeyPress, ctx: KeyContext): KeyAction | null {
  const { selection, common } = ctx;
  if (common.isUndo(e)) return { kind: "undo" };
  if (common.isRedo(e)) return { kind: "redo" };
  if (common.isSubmit(e)) return { kind: "submit" };
  if (common.isSaveDraft(e)) return { kind: "draft" };
  if (e.key === "Escape") {
    if (ctx.dragging) return { kind: "cancel" };
    if (selection !== null) return { kind: "deselect" };
    return common.isSkip(e) ? { kind: "skip" } : null;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return null;

  const arrow = ARROWS[e.key];
  if (arrow !== undefined) {
    if (selection?.kind !== "box") return null;
    const step = e.shiftKey ? 10 : 1;
    return { kind: "nudge", dx: arrow[0] * step, dy: arrow[1] * step };
  }
  if (e.key === "Tab") return { kind: "cycle", step: e.shiftKey ? -1 : 1 };
  if (e.key === "Delete" || e.key === "Backspace") {
    return selection === null ? null : { kind: "delete" };
  }
  if (e.key === "Enter") return selection?.kind === "suggestion" ? { kind: "accept" } : null;

  // Hotkeys are single characters; compare case-sensitively (a project may use "a" and "A").
  const label = ctx.hotkeys.get(e.key);
  if (label !== undefined) return { kind: "label", name: label };
  if (e.key === "+" || e.key === "=") return { kind: "zoom", how: "in" };
  if (e.key === "-" || e.key === "_") return { kind: "zoom", how: "out" };
  if (e.key === "0") return { kind: "zoom", how: "fit" };
  return null;
}

/**
 * Whether a read-only view runs `action`: looking (select, zoom, cancel a pan) yes; anything
 * that edits the boxes, undoes, or submits, skips or saves a draft, no.
 */
export function allowedWhenReadOnly(action: KeyAction): boolean {
  switch (action.kind) {
    case "cycle":
    case "zoom":
    case "cancel":
    case "deselect":
      return true;
    default:
      return false;
  }
}
