/**
 * View parts shared by the widgets that judge model outputs (Pairwise here, Rubric imports
 * them): a text pane that keeps the output's whitespace and scrolls when long, and a free-text
 * box (a rationale, a comment) whose typing goes to Python as one patch per pause.
 */
import "./judging.css";

import { h } from "../common/dom";

/** UTF-8 bytes from a binary trait as a string ("" for none). */
export function decodeUtf8(bytes: DataView | null): string {
  return bytes === null || bytes.byteLength === 0 ? "" : new TextDecoder().decode(bytes);
}

/**
 * A titled pane showing `content` as text (never markup), whitespace kept, scrolling past its
 * maximum height. Focusable, so the keyboard scrolls it.
 */
export function textPane(className: string, title: string, content: string): HTMLElement {
  const body = h("div", {
    className: "annolab-judge-text",
    text: content === "" ? "(empty)" : content,
  });
  if (content === "") body.classList.add("annolab-judge-empty");
  return h(
    "section",
    { className: `annolab-judge-pane ${className}`, attrs: { tabindex: "0", "aria-label": title } },
    [h("div", { className: "annolab-judge-title", text: title }), body],
  );
}

/** How long typing pauses before the text goes to Python. */
const PAUSE_MS = 400;

/**
 * A textarea whose text is sent with `send` after each pause in typing (and at once by
 * `flush`, before a submit). `onBurst` runs when a new burst of typing starts, for the undo
 * history to record one step per burst, not one per key.
 */
export class TextBox {
  readonly element: HTMLTextAreaElement;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly onInput = (): void => this.typed();
  private readonly onBlur = (): void => this.flush();

  constructor(
    className: string,
    label: string,
    private readonly onBurst: () => void,
    private readonly send: (text: string) => void,
  ) {
    this.element = h("textarea", {
      className: `annolab-judge-box ${className}`,
      attrs: { rows: "3", "aria-label": label, placeholder: label },
    });
    this.element.addEventListener("input", this.onInput);
    this.element.addEventListener("blur", this.onBlur);
  }

  /** True while typed text has not been sent yet. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Shows `text` unless the annotator is typing (their text is newer). */
  show(text: string): void {
    if (!this.pending && this.element.value !== text) this.element.value = text;
  }

  /** Sends typed text now. */
  flush(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.send(this.element.value);
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.element.removeEventListener("input", this.onInput);
    this.element.removeEventListener("blur", this.onBlur);
  }

  private typed(): void {
    if (this.timer === null) this.onBurst();
    else clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), PAUSE_MS);
  }
}

/** The next row index for ArrowDown (+1) or ArrowUp (-1), kept within `count` rows. */
export function stepRow(current: number, delta: number, count: number): number {
  if (count <= 0) return 0;
  return Math.min(count - 1, Math.max(0, current + delta));
}
