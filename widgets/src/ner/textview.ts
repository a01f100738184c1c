/**
 * The text of the NER widget: the whole text as plain text nodes, cut into blocks, with spans
 * drawn only in the blocks near the viewport (blocks.ts says why). Offsets here are UTF-16
 * units, the DOM's; the editor converts from Python's code points.
 *
 * User text and label names go into the page as text nodes only (dom.ts).
 */
import { h, replaceChildren } from "../common/dom";
import { readableTextColor } from "../common/labels";
import { splitAtBoundaries } from "../common/segments";
import { type Block, blockAt, clipToBlock, rangesByBlock, splitBlocks } from "./blocks";

/** A span or suggestion as drawn, in UTF-16 offsets. */
export interface Mark {
  key: string;
  kind: "span" | "suggestion";
  start: number;
  end: number;
  label: string;
  score: number | undefined;
  color: string;
  focused: boolean;
}

/** What a click on the text hit. */
export type Hit =
  | { kind: "mark"; marks: Mark[] }
  | { kind: "accept" | "reject"; mark: Mark }
  | { kind: "text" };

/** Blocks drawn at once without waiting for the observer: a first screenful, and small texts. */
const EAGER_BLOCKS = 4;
/** Draw blocks this far outside the viewport too, so scrolling rarely shows a bare block. */
const MARGIN = "600px 0px";

interface DrawnText {
  start: number;
  node: Text;
}

export class TextView {
  /** The focusable scroll container. */
  readonly element: HTMLElement;
  private readonly content: HTMLElement;
  private readonly caret: HTMLElement;
  private text = "";
  private blocks: Block[] = [];
  private blockNodes: HTMLElement[] = [];
  /** Text nodes of each block with their start offsets, sorted: offset -> DOM. */
  private drawn: DrawnText[][] = [];
  /** Start offset of every text node of the document: DOM -> offset. */
  private starts = new WeakMap<Node, number>();
  /** The end offset of a tag (where its span ends): DOM positions inside tags map there. */
  private tagAt = new WeakMap<Node, number>();
  private hits = new WeakMap<Element, Hit>();
  private marks: Mark[] = [];
  private byBlock: number[][] = [];
  /** Per block: a signature of what is drawn, to redraw only blocks whose marks changed. */
  private signatures: string[] = [];
  private drawnSignature: (string | null)[] = [];
  private readonly visible = new Set<number>();
  private observer: IntersectionObserver | null = null;
  private readonly idPrefix: string;
  private readonly ids = new Map<string, string>();

  constructor(label: string) {
    this.idPrefix = `annolab-ner-${Math.random().toString(36).slice(2, 10)}`;
    this.content = h("div", { className: "annolab-ner-content" });
    this.caret = h("div", { className: "annolab-ner-caret", attrs: { "aria-hidden": "true" } });
    this.caret.hidden = true;
    this.element = h(
      "div",
      {
        className: "annolab-ner-text",
        attrs: {
          tabindex: "0",
          role: "application",
          "aria-label": label,
          "aria-roledescription": "text annotator",
        },
      },
      [this.content, this.caret],
    );
  }

  /** Shows a new text as plain blocks; marks follow with setMarks. */
  setText(text: string): void {
    this.text = text;
    this.blocks = splitBlocks(text);
    this.starts = new WeakMap();
    this.tagAt = new WeakMap();
    this.hits = new WeakMap();
    this.ids.clear();
    this.blockNodes = this.blocks.map((block, index) => {
      const node = document.createTextNode(text.slice(block.start, block.end));
      this.starts.set(node, block.start);
      const attrs = { "data-block": String(index) };
      return h("span", { className: "annolab-ner-block", attrs }, [node]);
    });
    this.drawn = this.blocks.map((block, index) => [
      { start: block.start, node: (this.blockNodes[index] as HTMLElement).firstChild as Text },
    ]);
    this.drawnSignature = this.blocks.map(() => "");
    this.signatures = this.blocks.map(() => "");
    this.byBlock = this.blocks.map(() => []);
    this.marks = [];
    this.visible.clear();
    replaceChildren(this.content, this.blockNodes);
    if (text.length === 0) {
      this.content.append(h("span", { className: "annolab-ner-empty", text: "(empty text)" }));
    }
    this.observe();
  }

  /** Marks to draw (any order). Blocks whose marks changed are redrawn if near the viewport. */
  setMarks(marks: Mark[]): void {
    this.marks = marks;
    this.byBlock = rangesByBlock(this.blocks, marks);
    this.signatures = this.byBlock.map((indices) =>
      indices
        .map((i) => {
          const m = marks[i] as Mark;
          return `${m.kind}${m.key}${m.color}${m.focused ? "!" : ""}${m.score ?? ""}`;
        })
        .join("|"),
    );
    for (let b = 0; b < this.blocks.length; b++) {
      if (b < EAGER_BLOCKS || this.visible.has(b)) this.drawBlock(b);
    }
  }

  /**
   * Draws the block holding `offset` now (before the observer would) and scrolls the text so
   * that the caret there (or `element`) is in view.
   */
  reveal(offset: number, element?: Element | null): void {
    if (this.blocks.length === 0) return;
    this.drawBlock(blockAt(this.blocks, offset));
    const rect = element?.getBoundingClientRect() ?? this.caretRect(offset);
    if (rect === null) return;
    const view = this.element.getBoundingClientRect();
    const pad = Math.min(24, view.height / 4);
    if (rect.top < view.top + pad) this.element.scrollTop -= view.top + pad - rect.top;
    else if (rect.bottom > view.bottom - pad) this.element.scrollTop += rect.bottom - view.bottom + pad;
  }

  /**
   * The element standing for a mark (its tag), for aria-activedescendant. With `reveal`, its
   * block is drawn and scrolled into view first; without, null when it is not drawn.
   */
  tagFor(key: string, kind: Mark["kind"], reveal: boolean): HTMLElement | null {
    const mark = this.marks.find((m) => m.key === key && m.kind === kind);
    if (mark === undefined) return null;
    const id = this.tagId(mark);
    if (reveal) {
      this.drawBlock(blockAt(this.blocks, mark.end - 1));
      const tag = this.element.ownerDocument.getElementById(id);
      this.reveal(mark.start, tag);
      return tag;
    }
    return this.element.ownerDocument.getElementById(id);
  }

  /** What the element under a click stands for. */
  hitAt(target: EventTarget | null): Hit {
    let node = target instanceof Node ? target : null;
    for (; node !== null && node !== this.element; node = node.parentNode) {
      const hit = node instanceof Element ? this.hits.get(node) : undefined;
      if (hit !== undefined) return hit;
    }
    return { kind: "text" };
  }

  // --- selection and caret --------------------------------------------------------------------

  /** The browser's selection as offsets `[anchor, focus]` if both ends are in the text. */
  selection(): { anchor: number; focus: number } | null {
    const selection = this.element.ownerDocument.getSelection();
    if (selection === null || selection.anchorNode === null || selection.focusNode === null) return null;
    const anchor = this.offsetOf(selection.anchorNode, selection.anchorOffset);
    const focus = this.offsetOf(selection.focusNode, selection.focusOffset);
    return anchor === null || focus === null ? null : { anchor, focus };
  }

  /** Shows `[anchor, focus]` as the browser's selection (highlighted); a caret if equal. */
  select(anchor: number, focus: number): void {
    const selection = this.element.ownerDocument.getSelection();
    if (selection === null) return;
    const a = this.pointOf(anchor);
    const f = this.pointOf(focus);
    if (a === null || f === null) return;
    if (anchor === focus) selection.removeAllRanges();
    else selection.setBaseAndExtent(a.node, a.offset, f.node, f.offset);
    this.showCaret(focus);
  }

  /** Draws the caret at `offset` (hidden for null). */
  showCaret(offset: number | null): void {
    const rect = offset === null ? null : this.caretRect(offset);
    if (rect === null) {
      this.caret.hidden = true;
      return;
    }
    const origin = this.element.getBoundingClientRect();
    this.caret.hidden = false;
    this.caret.style.left = `${rect.left - origin.left + this.element.scrollLeft}px`;
    this.caret.style.top = `${rect.top - origin.top + this.element.scrollTop}px`;
    this.caret.style.height = `${rect.height}px`;
  }

  /** The client rectangle of a caret at `offset`, or null when it is not laid out. */
  caretRect(offset: number): DOMRect | null {
    const point = this.pointOf(offset);
    if (point === null) return null;
    const range = this.element.ownerDocument.createRange();
    range.setStart(point.node, point.offset);
    range.collapse(true);
    const rects = range.getClientRects();
    if (rects.length > 0) return rects[0] as DOMRect;
    // A caret right after a line break has no box of its own: use the next character's.
    if (point.offset < point.node.length) {
      range.setEnd(point.node, point.offset + 1);
      const next = range.getClientRects()[0];
      if (next !== undefined) return new DOMRect(next.left, next.top, 0, next.height);
    }
    return null;
  }

  /** The text offset nearest to a point on screen (for Up and Down), or null. */
  offsetAtPoint(x: number, y: number): number | null {
    const doc = this.element.ownerDocument as Document & {
      caretPositionFromPoint?: (x: number, y: number) => { offsetNode: Node; offset: number } | null;
    };
    if (typeof doc.caretPositionFromPoint === "function") {
      const position = doc.caretPositionFromPoint(x, y);
      return position === null ? null : this.offsetOf(position.offsetNode, position.offset);
    }
    const range = doc.caretRangeFromPoint?.(x, y) ?? null;
    return range === null ? null : this.offsetOf(range.startContainer, range.startOffset);
  }

  dispose(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.element.remove();
  }

  // --- drawing --------------------------------------------------------------------------------

  private observe(): void {
    this.observer?.disconnect();
    // No IntersectionObserver (a very old host): draw everything.
    if (typeof IntersectionObserver === "undefined") {
      this.blocks.forEach((_, b) => this.visible.add(b));
      return;
    }
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root: this.element,
      rootMargin: MARGIN,
    });
    for (const node of this.blockNodes) this.observer.observe(node);
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const b = Number((entry.target as HTMLElement).dataset.block);
      if (entry.isIntersecting) {
        this.visible.add(b);
        this.drawBlock(b);
      } else {
        this.visible.delete(b);
      }
    }
  }

  private drawBlock(b: number): void {
    const signature = this.signatures[b] ?? "";
    if (this.drawnSignature[b] === signature) return;
    this.drawnSignature[b] = signature;
    const block = this.blocks[b] as Block;
    const element = this.blockNodes[b] as HTMLElement;
    const indices = this.byBlock[b] ?? [];
    const marks = indices.map((i) => this.marks[i] as Mark);
    const drawn: DrawnText[] = [];
    const nodes: Node[] = [];
    const addText = (start: number, end: number): Text => {
      const node = document.createTextNode(this.text.slice(block.start + start, block.start + end));
      this.starts.set(node, block.start + start);
      drawn.push({ start: block.start + start, node });
      return node;
    };
    const pieces = splitAtBoundaries(block.end - block.start, clipToBlock(block, marks));
    for (const piece of pieces) {
      if (piece.kind === "tag") {
        const mark = marks[piece.span] as Mark;
        // A mark running on into the next block gets its tag there, where it really ends.
        if (mark.end <= block.end) nodes.push(this.tag(mark));
        continue;
      }
      const node = addText(piece.start, piece.end);
      if (piece.covering.length === 0) {
        nodes.push(node);
        continue;
      }
      nodes.push(this.piece(node, piece.covering.map((i) => marks[i] as Mark)));
    }
    if (drawn.length === 0) drawn.push({ start: block.start, node: addText(0, 0) });
    this.drawn[b] = drawn;
    replaceChildren(element, nodes);
  }

  /** A run of text under one or more marks (outermost first). */
  private piece(node: Text, covering: Mark[]): HTMLElement {
    const spans = covering.filter((m) => m.kind === "span");
    const suggested = covering.some((m) => m.kind === "suggestion");
    const top = spans[spans.length - 1];
    const classes = ["annolab-ner-mark"];
    if (suggested) classes.push("annolab-ner-suggested");
    if (spans.length === 0) classes.push("annolab-ner-only-suggested");
    if (covering.some((m) => m.focused)) classes.push("annolab-ner-focused");
    const title = covering.map(describe).join("\n");
    const element = h("mark", { className: classes.join(" "), title }, [node]);
    if (top !== undefined) {
      element.style.backgroundColor = top.color;
      const ink = readableTextColor(top.color);
      if (ink !== null) element.style.color = ink;
      // Outer spans show as stacked underlines below the text, outermost lowest.
      const outer = spans.slice(0, -1).reverse();
      if (outer.length > 0) {
        element.style.boxShadow = outer.map((m, depth) => `0 ${3 * (depth + 1)}px 0 0 ${m.color}`).join(", ");
        element.classList.add("annolab-ner-stacked");
      }
    } else {
      const first = covering[covering.length - 1] as Mark;
      element.style.setProperty("--annolab-ner-color", first.color);
    }
    this.hits.set(element, { kind: "mark", marks: covering });
    return element;
  }

  /** The label chip after a span; a suggestion's has its score and accept/reject buttons. */
  private tag(mark: Mark): HTMLElement {
    const suggestion = mark.kind === "suggestion";
    const words = this.text.slice(mark.start, mark.end);
    const children: Node[] = [h("span", { className: "annolab-ner-tag-label", text: mark.label })];
    if (suggestion && mark.score !== undefined) {
      children.push(h("span", { className: "annolab-ner-score", text: formatScore(mark.score) }));
    }
    const tag = h(
      "span",
      {
        className: [
          "annolab-ner-tag",
          ...(suggestion ? ["annolab-ner-tag-suggestion"] : []),
          ...(mark.focused ? ["annolab-ner-focused"] : []),
        ].join(" "),
        attrs: {
          id: this.tagId(mark),
          role: "note",
          "aria-label": `${suggestion ? "Suggested " : ""}${mark.label}${scoreText(mark)}: ${words}`,
        },
      },
      children,
    );
    tag.style.setProperty("--annolab-ner-color", mark.color);
    if (!suggestion) {
      tag.style.backgroundColor = mark.color;
      const ink = readableTextColor(mark.color);
      if (ink !== null) tag.style.color = ink;
    } else {
      for (const [kind, symbol, verb] of [
        ["accept", "✓", "Accept"],
        ["reject", "✗", "Reject"],
      ] as const) {
        const button = h("button", {
          className: `annolab-ner-${kind}`,
          text: symbol,
          title: `${verb} (${kind === "accept" ? "Enter" : "Delete"})`,
          attrs: {
            type: "button",
            tabindex: "-1",
            "aria-label": `${verb} ${mark.label} suggestion: ${words}`,
          },
        });
        this.hits.set(button, { kind, mark });
        tag.append(button);
      }
    }
    this.tagAt.set(tag, mark.end);
    this.hits.set(tag, { kind: "mark", marks: [mark] });
    return tag;
  }

  /** A stable id per mark (label names may hold any character, so not derived from them). */
  private tagId(mark: Mark): string {
    const key = `${mark.kind}:${mark.key}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = `${this.idPrefix}-${this.ids.size}`;
      this.ids.set(key, id);
    }
    return id;
  }

  // --- offsets <-> DOM ------------------------------------------------------------------------

  /** The text offset of a DOM boundary point inside the text, or null outside it. */
  offsetOf(node: Node, offset: number): number | null {
    if (!this.element.contains(node)) return null;
    const start = this.starts.get(node);
    if (start !== undefined) return start + offset;
    // Inside a tag (not document text): the position where its span ends.
    for (let n: Node | null = node; n !== null && n !== this.element; n = n.parentNode) {
      const at = this.tagAt.get(n);
      if (at !== undefined) return at;
    }
    // An element boundary: the start of the child after it, or the end of the text before.
    const after = node.childNodes[offset];
    if (after !== undefined) {
      const first = this.firstOffsetIn(after);
      if (first !== null) return first;
    }
    for (let i = Math.min(offset, node.childNodes.length) - 1; i >= 0; i--) {
      const last = this.lastOffsetIn(node.childNodes[i] as Node);
      if (last !== null) return last;
    }
    return node === this.content || node === this.element ? (offset === 0 ? 0 : this.text.length) : null;
  }

  private firstOffsetIn(node: Node): number | null {
    const start = this.starts.get(node) ?? this.tagAt.get(node);
    if (start !== undefined) return start;
    for (const child of Array.from(node.childNodes)) {
      const found = this.firstOffsetIn(child);
      if (found !== null) return found;
    }
    return null;
  }

  private lastOffsetIn(node: Node): number | null {
    const start = this.starts.get(node);
    if (start !== undefined) return start + (node as Text).length;
    const at = this.tagAt.get(node);
    if (at !== undefined) return at;
    const children = Array.from(node.childNodes);
    for (let i = children.length - 1; i >= 0; i--) {
      const found = this.lastOffsetIn(children[i] as Node);
      if (found !== null) return found;
    }
    return null;
  }

  /** The text node and offset in it for a text offset. */
  private pointOf(offset: number): { node: Text; offset: number } | null {
    if (this.blocks.length === 0) return null;
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    const texts = this.drawn[blockAt(this.blocks, clamped)] ?? [];
    // The last text node starting at or before the offset.
    let lo = 0;
    let hi = texts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((texts[mid] as DrawnText).start <= clamped) lo = mid;
      else hi = mid - 1;
    }
    const found = texts[lo];
    if (found === undefined) return null;
    return { node: found.node, offset: Math.min(clamped - found.start, found.node.length) };
  }
}

function describe(mark: Mark): string {
  return `${mark.kind === "suggestion" ? "Suggested " : ""}${mark.label}${scoreText(mark)}`;
}

function scoreText(mark: Mark): string {
  return mark.score === undefined ? "" : ` (score ${formatScore(mark.score)})`;
}

/** Two decimals: scores are 0 to 1. */
export function formatScore(score: number): string {
  return score.toFixed(2);
}
