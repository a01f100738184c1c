/**
 * Preview: a read-only view of a text with its labelled spans highlighted.
 * Python side: annolab/widgets/preview.py. Python validates the state; this view trusts it.
 */
import type { AnyModel, RenderProps } from "@anywidget/types";

import "../common/theme.css";
import "./preview.css";

import { h, replaceChildren, text } from "../common/dom";
import { type Label, type Span, labelColors, readableTextColor } from "../common/labels";
import { OffsetIndex } from "../common/offsets";
import { type Range, splitAtBoundaries } from "../common/segments";

/** Mirrors the traitlets of annolab.widgets.Preview. */
interface PreviewModel {
  text: string;
  spans: Span[];
  labels: Label[];
  /** Indexes into `spans` of those not in every answer (adjudication): outlined and flagged. */
  disputed: number[];
}

const WATCHED = ["change:text", "change:spans", "change:labels", "change:disputed"] as const;

function render({ model, el }: RenderProps<PreviewModel>): () => void {
  const root = h("div", { className: "annolab annolab-preview", attrs: { role: "document" } });
  const body = h("div", { className: "annolab-preview-text" });
  root.append(body);
  el.append(root);

  // Python sends text and spans in one message, which fires one change event per trait: draw
  // once, after all of them.
  let pending = false;
  let disposed = false;
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      if (!disposed) draw(model, root, body);
    });
  };

  draw(model, root, body);
  for (const event of WATCHED) model.on(event, schedule);
  return () => {
    disposed = true;
    for (const event of WATCHED) model.off(event, schedule);
    root.remove();
  };
}

function draw(model: AnyModel<PreviewModel>, root: HTMLElement, body: HTMLElement): void {
  const content = model.get("text");
  const spans = model.get("spans");
  const colors = labelColors(model.get("labels"), spans);
  const disputed = new Set(model.get("disputed") ?? []);
  const count = spans.length === 1 ? "1 labelled span" : `${spans.length} labelled spans`;
  root.setAttribute("aria-label", `Text preview with ${count}`);

  // Spans arrive in Python code points; the DOM slices UTF-16.
  const index = new OffsetIndex(content);
  const ranges: Range[] = spans.map((s) => ({
    start: index.toUtf16(s.start),
    end: index.toUtf16(s.end),
  }));

  const nodes: Node[] = [];
  if (content.length === 0) {
    nodes.push(h("span", { className: "annolab-preview-empty", text: "(empty text)" }));
  }
  for (const piece of splitAtBoundaries(content.length, ranges)) {
    if (piece.kind === "tag") {
      const span = spans[piece.span] as Span;
      const style = colorStyle(colors, span.label);
      const flagged = disputed.has(piece.span);
      nodes.push(
        h("span", {
          className: flagged ? "annolab-tag annolab-tag-disputed" : "annolab-tag",
          text: flagged ? `⚠ ${span.label}` : span.label,
          style,
        }),
      );
      continue;
    }
    const slice = content.slice(piece.start, piece.end);
    const top = piece.covering[piece.covering.length - 1];
    if (top === undefined) {
      nodes.push(text(slice));
      continue;
    }
    const label = (spans[top] as Span).label;
    const covering = piece.covering.map((i) => spans[i] as Span);
    const classes = ["annolab-span"];
    if (covering.length > 1) classes.push("annolab-span-stacked");
    if (piece.covering.some((i) => disputed.has(i))) classes.push("annolab-span-disputed");
    nodes.push(
      h("mark", {
        className: classes.join(" "),
        text: slice,
        title: covering.map(describe).join("\n"),
        attrs: { "data-label": label },
        style: colorStyle(colors, label),
      }),
    );
  }
  replaceChildren(body, nodes);
}

interface ColorStyle {
  backgroundColor: string;
  color?: string;
}

function colorStyle(colors: Map<string, string>, label: string): ColorStyle {
  const backgroundColor = colors.get(label) ?? "";
  const color = readableTextColor(backgroundColor);
  return color === null ? { backgroundColor } : { backgroundColor, color };
}

/** Tooltip line: the label, and the score when there is one. */
function describe(span: Span): string {
  return span.score === null ? span.label : `${span.label} (score ${formatScore(span.score)})`;
}

/** Three significant digits: 0.93, 0.000123, 12.3. */
function formatScore(score: number): string {
  return String(Number(score.toPrecision(3)));
}

export default { render };
