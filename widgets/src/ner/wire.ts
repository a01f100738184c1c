/**
 * The wire form of a span list (annolab/widgets/_spans.py, encode_spans): columns in binary
 * buffers, which ipywidgets hands over as DataViews. A 5,000-span value is then ~100 kB of
 * buffers instead of ~250 kB of JSON to parse and deep-compare on every edit.
 */
import type { Span } from "./doc";

export interface WireSpans {
  count: number;
  labels: string[];
  /** uint32 index into `labels`, little-endian */
  label: DataView;
  /** float64 code-point offsets, little-endian */
  start: DataView;
  end: DataView;
  /** float64 scores, NaN for none; null when no span has one */
  score: DataView | null;
}

/** The spans of a wire form; a plain list (an older kernel, a test) passes through. */
export function decodeSpans(wire: WireSpans | Span[] | null | undefined): Span[] {
  if (wire === null || wire === undefined) return [];
  if (Array.isArray(wire)) return wire;
  const spans: Span[] = new Array<Span>(wire.count);
  for (let i = 0; i < wire.count; i++) {
    const span: Span = {
      start: wire.start.getFloat64(i * 8, true),
      end: wire.end.getFloat64(i * 8, true),
      label: wire.labels[wire.label.getUint32(i * 4, true)] as string,
    };
    const score = wire.score === null ? Number.NaN : wire.score.getFloat64(i * 8, true);
    if (!Number.isNaN(score)) span.score = score;
    spans[i] = span;
  }
  return spans;
}

/** The wire form of spans (what Python sends); for tests and for a front end that sets spans. */
export function encodeSpans(spans: readonly Span[]): WireSpans {
  const labels: string[] = [];
  const index = new Map<string, number>();
  const label = new DataView(new ArrayBuffer(spans.length * 4));
  const start = new DataView(new ArrayBuffer(spans.length * 8));
  const end = new DataView(new ArrayBuffer(spans.length * 8));
  const score = new DataView(new ArrayBuffer(spans.length * 8));
  spans.forEach((span, i) => {
    let at = index.get(span.label);
    if (at === undefined) {
      at = labels.push(span.label) - 1;
      index.set(span.label, at);
    }
    label.setUint32(i * 4, at, true);
    start.setFloat64(i * 8, span.start, true);
    end.setFloat64(i * 8, span.end, true);
    score.setFloat64(i * 8, span.score ?? Number.NaN, true);
  });
  const scored = spans.some((span) => span.score !== undefined);
  return { count: spans.length, labels, label, start, end, score: scored ? score : null };
}
