/**
 * Completes common/keys.ts's guardShortcuts for focusable elements inside the widget.
 *
 * Lumino matches a key binding by walking up from the focused element and stops at the first
 * element carrying `data-lm-suppress-shortcuts`, but it tests each element *before* looking
 * for the attribute. JupyterLab's command-mode bindings use selectors such as
 * `.jp-Notebook.jp-mod-commandMode :focus:not(:read-write)`, which the focused element itself
 * matches, so an attribute on an ancestor alone comes too late: with focus on the stage, "a"
 * still inserted a cell (seen in tests/browser/test_bbox_browser.py). The attribute has to be
 * on the focused element, so it is put on each element as it gains focus.
 */
import { SUPPRESS_SHORTCUTS } from "../common/keys";

export function suppressOnFocus(root: HTMLElement): () => void {
  const marked = new Set<Element>();
  const mark = (event: FocusEvent): void => {
    const target = event.target;
    if (!(target instanceof Element) || target.hasAttribute(SUPPRESS_SHORTCUTS)) return;
    target.setAttribute(SUPPRESS_SHORTCUTS, "true");
    marked.add(target);
  };
  root.addEventListener("focusin", mark);
  return () => {
    root.removeEventListener("focusin", mark);
    for (const element of marked) element.removeAttribute(SUPPRESS_SHORTCUTS);
    marked.clear();
  };
}
