/**
 * The parts every annotation widget shows around its editor: the error banner (Python's
 * `error` trait) and the action bar (undo, redo, skip, submit), which also starts the view's
 * telemetry (telemetry.ts), so every widget with an action bar has it.
 */
import type { AnyModel } from "@anywidget/types";

import "./chrome.css";

import { h } from "./dom";
import { type HelpOverlay, type ShortcutRow, helpOverlay } from "./help";
import type { LabelInfo } from "./hotkeys";
import { isSaveDraft } from "./keys";
import { type Telemetry, trackTelemetry } from "./telemetry";

/** What the action bar's buttons do. */
export interface Actions {
  onUndo(): void;
  onRedo(): void;
  onSubmit(): void;
  onSkip(): void;
  onDraft(): void;
  /** The widget's own keys for the shortcut list ("?"); the action bar's are added. */
  shortcuts?(): readonly ShortcutRow[];
}

export interface ActionBar {
  /** Enables or disables Undo and Redo. */
  update(canUndo: boolean, canRedo: boolean): void;
  /** The shortcut list ("?"). */
  readonly help: HelpOverlay;
  dispose(): void;
}

/** The model traits the banner reads: an error message, "" for none. */
interface ErrorModel {
  error: string;
}

/**
 * Shows `model.get("error")` (as text: it quotes user data) at the top of `root`, with
 * role="alert" so screen readers announce it; hidden while the error is "". The dismiss
 * button clears the trait, which Python also does after the next accepted change.
 */
export function errorBanner(root: HTMLElement, model: AnyModel<ErrorModel>): () => void {
  const message = h("span", { className: "annolab-error-text" });
  const dismiss = h("button", {
    className: "annolab-error-dismiss",
    text: "×",
    title: "Dismiss",
    attrs: { type: "button", "aria-label": "Dismiss error" },
  });
  const banner = h("div", { className: "annolab-error", attrs: { role: "alert" } }, [
    message,
    dismiss,
  ]);
  const show = (): void => {
    const error = model.get("error");
    message.textContent = typeof error === "string" ? error : "";
    banner.hidden = message.textContent === "";
  };
  const clear = (): void => {
    model.set("error", "");
    model.save_changes();
  };
  show();
  root.prepend(banner);
  model.on("change:error", show);
  dismiss.addEventListener("click", clear);
  return () => {
    model.off("change:error", show);
    dismiss.removeEventListener("click", clear);
    banner.remove();
  };
}

/**
 * The model traits that hide Skip and Submit (a view composing several widgets has its own)
 * and show Save draft (where something stores drafts: the annotation loop).
 */
interface ActionsModel {
  show_submit: boolean;
  show_draft: boolean;
}

/**
 * Undo, Redo, Skip and Submit buttons appended to `root`. Labels name the shortcut too
 * (aria-keyshortcuts for assistive technology, the title for a mouse user). Given a `model`
 * with a `show_submit` trait, Skip and Submit follow it, and telemetry counts the annotator's
 * input inside `root` and sends summaries over the model (telemetry.ts).
 */
export function actionBar(
  root: HTMLElement,
  actions: Actions,
  model?: AnyModel<ActionsModel>,
): ActionBar {
  const telemetry: Telemetry | null =
    model === undefined ? null : trackTelemetry(root, model);
  const counted = (name: string, run: () => void): (() => void) => {
    if (telemetry === null) return run;
    if (name === "Undo") return () => telemetry.undo(run);
    if (name === "Redo") return () => telemetry.redo(run);
    return run;
  };
  const cleanups: Array<() => void> = [];
  const help = helpOverlay(
    root,
    () => actions.shortcuts?.() ?? [],
    () => labelsOf(model),
  );
  cleanups.push(() => help.dispose());
  cleanups.push(passSaveToNotebook(root));
  const specs = [
    ["Undo", "Control+Z", "Ctrl+Z", actions.onUndo],
    ["Redo", "Control+Shift+Z", "Ctrl+Shift+Z", actions.onRedo],
    ["Skip", "Escape", "Esc", actions.onSkip],
    ["Save draft", "Control+S", "Ctrl+S", actions.onDraft],
    ["Submit", "Control+Enter", "Ctrl+Enter", actions.onSubmit],
  ] as const;
  const bar = h("div", {
    className: "annolab-actions",
    attrs: { role: "toolbar", "aria-label": "Annotation actions" },
  });
  const helpButton = h("button", {
    className: "annolab-action annolab-action-help",
    text: "?",
    title: "Keyboard shortcuts (?)",
    attrs: { type: "button", "aria-keyshortcuts": "?", "aria-label": "Keyboard shortcuts" },
  });
  const toggleHelp = (): void => help.toggle();
  helpButton.addEventListener("click", toggleHelp);
  cleanups.push(() => helpButton.removeEventListener("click", toggleHelp));
  const buttons = specs.map(([name, aria, shown, run]) => {
    const button = h("button", {
      className: `annolab-action annolab-action-${name.split(" ")[0]?.toLowerCase()}`,
      text: name,
      title: name === "Save draft" ? `${name} (${shown}; saves the notebook too)` : `${name} (${shown})`,
      attrs: { type: "button", "aria-keyshortcuts": aria },
    });
    const act = counted(name, run);
    const click = (): void => act();
    button.addEventListener("click", click);
    cleanups.push(() => button.removeEventListener("click", click));
    bar.append(button);
    return button;
  });
  bar.append(helpButton);
  const [undo, redo, skip, draft, submit] = buttons as [
    HTMLButtonElement,
    HTMLButtonElement,
    HTMLButtonElement,
    HTMLButtonElement,
    HTMLButtonElement,
  ];
  const showSubmit = (): void => {
    const shown = model?.get("show_submit") !== false;
    skip.hidden = !shown;
    submit.hidden = !shown;
    draft.hidden = !shown || model?.get("show_draft") !== true;
  };
  showSubmit();
  if (model !== undefined) {
    for (const trait of ["change:show_submit", "change:show_draft"]) {
      model.on(trait, showSubmit);
      cleanups.push(() => model.off(trait, showSubmit));
    }
  }
  root.append(bar);
  return {
    update(canUndo: boolean, canRedo: boolean): void {
      undo.disabled = !canUndo;
      redo.disabled = !canRedo;
    },
    help,
    dispose(): void {
      for (const cleanup of cleanups) cleanup();
      telemetry?.dispose();
      bar.remove();
    },
  };
}

/** The `labels` trait of a widget that has one (NER, Classify, BBox...), else none. */
function labelsOf(model: AnyModel<ActionsModel> | undefined): readonly LabelInfo[] {
  const raw: unknown = (model as unknown as AnyModel<{ labels: unknown }> | undefined)?.get("labels");
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const { name, color, hotkey, description } = item as Record<string, unknown>;
    if (typeof name !== "string") return [];
    return [
      {
        name,
        color: typeof color === "string" ? color : "#c7c7c7",
        hotkey: typeof hotkey === "string" ? hotkey : null,
        description: typeof description === "string" ? description : "",
      },
    ];
  });
}

/**
 * Ctrl+S (Cmd+S) inside a widget saves the draft (the widget's own handler) AND the notebook,
 * as the hand expects: JupyterLab does not see the key while focus is inside the widget
 * (guardShortcuts hides it), so the same key is sent again from just outside the widget, where
 * JupyterLab's "Save" binding (selector `body`) matches. Outside JupyterLab nothing listens for
 * it and nothing happens. The browser's own "Save page" is kept off either way.
 */
export function passSaveToNotebook(root: HTMLElement): () => void {
  const onKeyDown = (e: KeyboardEvent): void => {
    // isTrusted: the copy sent below, or a script's, is never sent again.
    if (!e.isTrusted || !isSaveDraft(e)) return;
    e.preventDefault();
    const outside = root.parentElement;
    if (outside === null) return;
    const copy = new KeyboardEvent("keydown", {
      key: e.key,
      code: e.code,
      ctrlKey: e.ctrlKey,
      metaKey: e.metaKey,
      bubbles: true,
      cancelable: true,
    });
    // Lumino reads the legacy keyCode, which an event built in script has as 0.
    Object.defineProperty(copy, "keyCode", { value: e.keyCode });
    Object.defineProperty(copy, "which", { value: e.which });
    // After the widget's own handlers have stored the draft.
    queueMicrotask(() => outside.dispatchEvent(copy));
  };
  root.addEventListener("keydown", onKeyDown, true);
  return () => root.removeEventListener("keydown", onKeyDown, true);
}
