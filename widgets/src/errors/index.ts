/**
 * Errors: mark the errors in a model's output, each labelled with an error type and commented.
 * Python side: annolab/widgets/errors.py. The NER editor (../ner/) does the text view,
 * selection, hotkeys, suggestions and undo; this view adds the reference output, a legend of
 * the taxonomy and a comment field for the focused error span.
 */
import type { AnyModel, RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "../ner/ner.css";
import "./errors.css";

import { h } from "../common/dom";
import { assignHotkeys } from "../common/hotkeys";
import { bumpNonce, guardShortcuts, isPlainKey, isSubmit } from "../common/keys";
import { OffsetIndex } from "../common/offsets";
import { PatchChannel } from "../common/patches";
import { type Focus, type Span, keyOf } from "../ner/doc";
import { Editor } from "../ner/editor";
import type { NerModel } from "../ner/model";
import { type WireErrors, caption, commentsOf } from "./comments";

export interface ErrorsModel extends Omit<NerModel, "value"> {
  value: WireErrors | Span[];
  reference: string;
}

type CommentPatch = { op: "comment"; span: Span; comment: string };

const NO_SPAN = "Focus an error (Tab or click) to comment on it";

class ErrorsView {
  readonly root: HTMLElement;
  private readonly model: AnyModel<ErrorsModel>;
  private readonly editor: Editor;
  private readonly textView: HTMLElement;
  private readonly reference: HTMLDetailsElement;
  private readonly referenceText: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly comment: HTMLTextAreaElement;
  private readonly commentCaption: HTMLElement;
  private readonly channel: PatchChannel<CommentPatch>;
  private readonly cleanups: Array<() => void> = [];
  private comments = new Map<string, string>();
  /** The span whose comment the field shows, or null. */
  private span: Span | null = null;

  constructor(model: AnyModel<ErrorsModel>, el: HTMLElement) {
    this.model = model;
    this.referenceText = h("pre", { className: "annolab-errors-reference-text" });
    this.reference = h("details", { className: "annolab-errors-reference", attrs: { open: "" } }, [
      h("summary", { text: "Reference output" }),
      this.referenceText,
    ]);
    this.legend = h("dl", { className: "annolab-errors-legend", attrs: { "aria-label": "Error types" } });
    const host = h("div", { className: "annolab-errors-editor" });
    this.root = h(
      "div",
      { className: "annolab annolab-errors", attrs: { role: "group", "aria-label": "Errors in a model output" } },
      [this.reference, this.legend, host],
    );
    el.append(this.root);
    // The value's comments ride beside the NER columns; the editor reads the columns only.
    // "c" opens the comment field, so no label is given it (or its capital).
    this.editor = new Editor(model as unknown as AnyModel<NerModel>, host, COMMENT_KEYS);
    this.textView = this.editor.root.querySelector<HTMLElement>(".annolab-ner-text") ?? this.editor.root;
    this.textView.setAttribute("aria-label", "Model output");
    this.commentCaption = h("span", { className: "annolab-errors-comment-caption", text: NO_SPAN });
    this.comment = h("textarea", {
      className: "annolab-errors-comment-input",
      attrs: { rows: "2", "aria-label": "Comment on the focused error", "aria-keyshortcuts": "C", disabled: "" },
    });
    const panel = h("label", { className: "annolab-errors-comment" }, [
      h("span", { className: "annolab-errors-comment-title" }, [
        document.createTextNode("Comment "),
        h("kbd", { text: "c" }),
        document.createTextNode(" · "),
        this.commentCaption,
      ]),
      this.comment,
    ]);
    // Above Undo/Submit, inside the editor's frame.
    const bar = this.editor.root.querySelector(".annolab-actions");
    this.editor.root.insertBefore(panel, bar);
    this.channel = new PatchChannel<CommentPatch>(model, () => this.sync());
    this.cleanups.push(guardShortcuts(this.root));
    this.wire();
    this.readReference();
    this.readLegend();
    this.readComments();
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.channel.dispose();
    this.editor.dispose();
    this.root.remove();
  }

  private listen<E extends Event>(target: EventTarget, type: string, handler: (event: E) => void): void {
    const listener = handler as EventListener;
    target.addEventListener(type, listener);
    this.cleanups.push(() => target.removeEventListener(type, listener));
  }

  private wire(): void {
    const on = (event: string, handler: () => void): void => {
      this.model.on(event, handler);
      this.cleanups.push(() => this.model.off(event, handler));
    };
    on("change:reference", () => this.readReference());
    on("change:labels", () => this.readLegend());
    on("change:value", () => this.readComments());
    // The editor's focus changes show in its status line and aria-activedescendant.
    const observer = new MutationObserver(() => this.sync());
    observer.observe(this.editor.root, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["aria-activedescendant"],
    });
    this.cleanups.push(() => observer.disconnect());
    // After the editor's own listener on the same element (stopPropagation there does not stop
    // a second listener on the element itself).
    this.listen<KeyboardEvent>(this.editor.root, "keydown", (e) => {
      if (e.defaultPrevented || e.target === this.comment || !isPlainKey(e)) return;
      if (e.key.toLowerCase() === "c" && this.span !== null) {
        e.preventDefault();
        e.stopPropagation();
        this.comment.focus();
        this.comment.select();
      }
    });
    this.listen<KeyboardEvent>(this.comment, "keydown", (e) => this.onCommentKey(e));
    this.listen<FocusEvent>(this.comment, "blur", () => this.save());
  }

  private onCommentKey(e: KeyboardEvent): void {
    // The comment's keys are its own: a digit is a letter here, not an error type.
    e.stopPropagation();
    if (e.isComposing) return;
    if (isSubmit(e)) {
      e.preventDefault();
      this.save();
      bumpNonce(this.model, "submit_count");
    } else if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.save();
      this.textView.focus({ preventScroll: true });
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.comment.value = this.stored();
      this.textView.focus({ preventScroll: true });
    }
  }

  private stored(): string {
    return this.span === null ? "" : this.comments.get(keyOf(this.span)) ?? "";
  }

  private save(): void {
    const span = this.span;
    if (span === null || this.comment.value === this.stored()) return;
    const comment = this.comment.value;
    // Shown at once; Python's echo (or refusal, in the banner) settles it.
    this.comments.set(keyOf(span), comment);
    this.channel.send({ op: "comment", span: { start: span.start, end: span.end, label: span.label }, comment });
    this.root.dataset.comments = String(Number(this.root.dataset.comments ?? "0") + 1);
  }

  private readReference(): void {
    const reference = this.model.get("reference") ?? "";
    this.referenceText.textContent = reference;
    this.reference.hidden = reference === "";
  }

  private readLegend(): void {
    const labels = this.model.get("labels");
    const keys = assignHotkeys(labels, COMMENT_KEYS);
    const rows: Node[] = [];
    for (const label of labels) {
      const key = keys.byLabel.get(label.name);
      const swatch = h("span", { className: "annolab-errors-swatch", attrs: { "aria-hidden": "true" } });
      swatch.style.backgroundColor = label.color;
      const term = h("dt", {}, [swatch, h("kbd", { text: key ?? "–" }), document.createTextNode(` ${label.name}`)]);
      rows.push(term, h("dd", { text: label.description }));
    }
    this.legend.replaceChildren(...rows);
  }

  private readComments(): void {
    if (this.channel.busy) return;
    this.comments = commentsOf(this.model.get("value"));
    this.sync(true);
  }

  /** The comment field follows the editor's focused span. */
  private sync(fromModel = false): void {
    const focus = this.editor.focused;
    const span = focus?.kind === "span" ? focus.span : null;
    const key = span === null ? null : keyOf(span);
    const same = key === (this.span === null ? null : keyOf(this.span));
    // The observer calls this for every change in the editor, this field's own included: an
    // unchanged focus must change nothing, or the calls would never end.
    if (same && !fromModel) return;
    const typing = this.root.ownerDocument.activeElement === this.comment;
    if (!same && typing) this.save();
    this.span = span;
    this.comment.disabled = span === null;
    let shown = NO_SPAN;
    if (span !== null) {
      const text = this.editorText();
      shown = caption(text.text, span, (cp) => text.index.toUtf16(cp));
    }
    if (this.commentCaption.textContent !== shown) this.commentCaption.textContent = shown;
    // While typing, the field keeps what is typed (Python's echo of an earlier save may land).
    if (!(same && typing)) {
      const value = this.stored();
      if (this.comment.value !== value) this.comment.value = value;
    }
  }

  private cachedText: { bytes: unknown; text: string; index: OffsetIndex } | null = null;

  private editorText(): { text: string; index: OffsetIndex } {
    const bytes = this.model.get("_text_utf8");
    if (this.cachedText === null || this.cachedText.bytes !== bytes) {
      const text = bytes === null || bytes === undefined ? "" : new TextDecoder().decode(bytes);
      this.cachedText = { bytes, text, index: new OffsetIndex(text) };
    }
    return this.cachedText;
  }
}

function render({ model, el }: RenderProps<ErrorsModel>): () => void {
  const view = new ErrorsView(model, el);
  return () => view.dispose();
}

export default { render };

/** The comment key, kept from the labels' automatic keys. */
const COMMENT_KEYS = ["c", "C"] as const;
