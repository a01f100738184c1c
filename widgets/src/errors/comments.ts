/**
 * The comments of error spans. Python sends the value in the NER wire form plus `comments`,
 * one string per span in the same (sorted) order; the NER editor ignores them, this view reads
 * them by span key. Pure, so it is unit-tested under node.
 */
import { type Span, keyOf } from "../ner/doc";
import { type WireSpans, decodeSpans } from "../ner/wire";

export type WireErrors = WireSpans & { comments?: string[] };

/** span key -> comment, for the spans of the value (a plain list may carry `comment`). */
export function commentsOf(wire: WireErrors | Array<Span & { comment?: string }> | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (wire === null || wire === undefined) return out;
  if (Array.isArray(wire)) {
    for (const span of wire) out.set(keyOf(span), span.comment ?? "");
    return out;
  }
  const spans = decodeSpans(wire);
  spans.forEach((span, i) => out.set(keyOf(span), wire.comments?.[i] ?? ""));
  return out;
}

/** A span in words for the comment field's caption: `mislabeling “PERSON”`. */
export function caption(text: string, span: Span, toUtf16: (cp: number) => number): string {
  const words = text.slice(toUtf16(span.start), toUtf16(span.end));
  const cut = words.length > 60 ? `${words.slice(0, 59)}…` : words;
  return `${span.label} “${cut}”`;
}
