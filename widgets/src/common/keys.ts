/**
 * Keyboard conventions shared by every annotation widget, and keeping JupyterLab's shortcuts
 * out of the way while a widget has focus.
 *
 * How JupyterLab decides (checked in @lumino/commands 2, as bundled by JupyterLab 4.6, and in
 * the browser tests): `CommandRegistry.processKeydownEvent` matches each key binding's selector
 * by walking from `event.target` up to `event.currentTarget`; at each element it first stops
 * with "no match" if the element has the attribute `data-lm-suppress-shortcuts`
 * (`hasAttribute`, any value), then tests the selector. The notebook's command-mode bindings
 * end in `:focus`, which the focused element itself (the event's target) matches at the first
 * step, so an attribute on an ancestor comes too late: it must be on the focused element. The
 * guard puts it on whatever element inside the widget takes focus, and takes it off when focus
 * leaves, so the notebook's shortcuts work again outside. (The application listens on
 * `document` in the capture phase, so stopping propagation inside the widget would not help.)
 */
import type { AnyModel } from "@anywidget/types";

/** The attribute Lumino's key-binding matcher stops at. */
export const SUPPRESS_SHORTCUTS = "data-lm-suppress-shortcuts";

/** The part of a KeyboardEvent these checks read (a plain object in unit tests). */
export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/**
 * Makes JupyterLab's shortcuts (command-mode "a", "b", "d d", "m", Shift+Enter...) not fire
 * while focus is inside `root`; the returned cleanup puts things back. `root` should hold a
 * focusable element (tabindex) so a click inside moves focus there rather than to the notebook
 * (whose `mousedown` handler focuses the cell first; the click's own focus change comes after).
 */
export function guardShortcuts(root: HTMLElement): () => void {
  const marked = new Set<Element>();
  const mark = (element: Element): void => {
    if (element.hasAttribute(SUPPRESS_SHORTCUTS)) return;
    element.setAttribute(SUPPRESS_SHORTCUTS, "true");
    marked.add(element);
  };
  const unmark = (element: Element): void => {
    if (marked.delete(element)) element.removeAttribute(SUPPRESS_SHORTCUTS);
  };
  const onFocusIn = (event: Event): void => {
    if (event.target instanceof Element) mark(event.target);
  };
  const onFocusOut = (event: Event): void => {
    if (event.target instanceof Element) unmark(event.target);
  };
  // The root too: a key pressed on it (or on a child without focus handling) stops there.
  mark(root);
  // Focus may already be inside (a view re-rendered under the cursor).
  const active = root.ownerDocument?.activeElement ?? null;
  if (active !== null && active !== root && root.contains(active)) mark(active);
  root.addEventListener("focusin", onFocusIn);
  root.addEventListener("focusout", onFocusOut);
  return () => {
    root.removeEventListener("focusin", onFocusIn);
    root.removeEventListener("focusout", onFocusOut);
    for (const element of [...marked]) unmark(element);
  };
}

/** Ctrl+Z (Cmd+Z on a Mac). */
export function isUndo(e: KeyLike): boolean {
  return primary(e) && !e.shiftKey && !e.altKey && letter(e) === "z";
}

/** Ctrl+Shift+Z (Cmd+Shift+Z), or Ctrl+Y as on Windows. */
export function isRedo(e: KeyLike): boolean {
  if (!primary(e) || e.altKey) return false;
  const key = letter(e);
  return (e.shiftKey && key === "z") || (!e.shiftKey && key === "y");
}

/** Ctrl+Enter (Cmd+Enter): submit, as "run" is Ctrl+Enter in a notebook. */
export function isSubmit(e: KeyLike): boolean {
  return primary(e) && !e.shiftKey && !e.altKey && e.key === "Enter";
}

/** Ctrl+S (Cmd+S): save a draft, in place of the browser's "save page". */
export function isSaveDraft(e: KeyLike): boolean {
  return primary(e) && !e.shiftKey && !e.altKey && letter(e) === "s";
}

/** Escape without modifiers: skip. A widget first uses Escape to cancel what is under way. */
export function isSkip(e: KeyLike): boolean {
  return e.key === "Escape" && !e.ctrlKey && !e.metaKey && !e.shiftKey && !e.altKey;
}

/** A plain key (no Ctrl, Cmd or Alt; Shift allowed since it makes capitals): a label hotkey. */
export function isPlainKey(e: KeyLike): boolean {
  return !e.ctrlKey && !e.metaKey && !e.altKey && e.key.length > 0;
}

/**
 * Adds 1 to a nonce trait and syncs it. Python fires its callbacks on every change, so the
 * same event twice in a row (submit, submit) still reaches Python twice.
 */
export function bumpNonce(
  model: Pick<AnyModel, "get" | "set" | "save_changes">,
  name: "submit_count" | "skip_count" | "draft_count",
): void {
  const current = model.get(name);
  model.set(name, (typeof current === "number" ? current : 0) + 1);
  model.save_changes();
}

// Ctrl on Windows and Linux, Cmd on a Mac; either is accepted everywhere, as JupyterLab does
// with "Accel".
function primary(e: KeyLike): boolean {
  return e.ctrlKey || e.metaKey;
}

/**
 * The letter of a shortcut, lower case. On non-Latin layouts (Cyrillic, Greek) `key` is the
 * local letter, so the physical key (`code`, "KeyZ") decides, as it does in browsers' own
 * Ctrl+Z.
 */
function letter(e: KeyLike): string {
  const key = e.key.toLowerCase();
  if (/^[a-z]$/.test(key)) return key;
  const code = /^Key([A-Z])$/.exec(e.code ?? "");
  return code === null ? key : (code[1] as string).toLowerCase();
}
