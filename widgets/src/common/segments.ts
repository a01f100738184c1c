/**
 * Splits a text at every span boundary so overlapping and nested spans can be drawn as flat,
 * non-overlapping pieces. Pure (no DOM), so it is unit-tested under node.
 */

/** A span in the units of the text being split (UTF-16 for the DOM). */
export interface Range {
  start: number;
  end: number;
}

/**
 * A run of text, or the place where a span's tag goes (right after the span's last piece).
 * `covering` lists the indices of the spans over a text piece, outermost first: the last one
 * is the innermost (shortest; on a tie, the later in the input) and gives the piece its colour.
 */
export type Piece =
  | { kind: "text"; start: number; end: number; covering: number[] }
  | { kind: "tag"; span: number };

/** Pieces of `[0, length)` in document order; spans must satisfy 0 <= start < end <= length. */
export function splitAtBoundaries(length: number, spans: readonly Range[]): Piece[] {
  const width = (i: number): number => spanAt(spans, i).end - spanAt(spans, i).start;
  // Outer before inner; among equal widths the later span is drawn on top.
  const byDepth = (a: number, b: number): number => width(b) - width(a) || a - b;

  const cuts = new Set<number>([0, length]);
  for (const span of spans) cuts.add(span.start).add(span.end);
  const boundaries = [...cuts].sort((a, b) => a - b);
  const startOf = (i: number): number => spanAt(spans, i).start;
  const byStart = spans.map((_, i) => i).sort((a, b) => startOf(a) - startOf(b));

  const pieces: Piece[] = [];
  let active: number[] = [];
  let next = 0; // index into byStart of the first span not yet active
  for (let b = 1; b < boundaries.length; b++) {
    const start = boundaries[b - 1] as number;
    const end = boundaries[b] as number;
    active = active.filter((i) => spanAt(spans, i).end > start);
    while (next < byStart.length && startOf(byStart[next] as number) <= start) {
      active.push(byStart[next] as number);
      next += 1;
    }
    pieces.push({ kind: "text", start, end, covering: [...active].sort(byDepth) });
    // Inner spans close before the outer ones that end at the same place.
    const closing = active.filter((i) => spanAt(spans, i).end === end);
    closing.sort((x, y) => byDepth(y, x));
    for (const span of closing) pieces.push({ kind: "tag", span });
  }
  return pieces;
}

function spanAt(spans: readonly Range[], index: number): Range {
  return spans[index] as Range;
}
