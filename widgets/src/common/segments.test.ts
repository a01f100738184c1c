/// <reference types="node" />
// Unit tests for segments.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { type Piece, splitAtBoundaries } from "./segments";

/** Compact form for assertions: "start-end:covering" for text, "#span" for tags. */
function show(pieces: Piece[]): string[] {
  return pieces.map((p) =>
    p.kind === "text" ? `${p.start}-${p.end}:${p.covering.join(",")}` : `#${p.span}`,
  );
}

test("text without spans is one uncovered piece", () => {
  assert.deepEqual(show(splitAtBoundaries(5, [])), ["0-5:"]);
});

test("empty text gives no pieces", () => {
  assert.deepEqual(splitAtBoundaries(0, []), []);
});

test("a span gets its tag right after it", () => {
  assert.deepEqual(show(splitAtBoundaries(10, [{ start: 2, end: 5 }])), ["0-2:", "2-5:0", "#0", "5-10:"]);
});

test("nested spans: the inner one is last (on top) and closes first", () => {
  const spans = [
    { start: 0, end: 10 },
    { start: 3, end: 10 },
  ];
  assert.deepEqual(show(splitAtBoundaries(10, spans)), ["0-3:0", "3-10:0,1", "#1", "#0"]);
});

test("overlapping spans split at every boundary", () => {
  const spans = [
    { start: 0, end: 6 },
    { start: 4, end: 9 },
  ];
  assert.deepEqual(show(splitAtBoundaries(9, spans)), ["0-4:0", "4-6:0,1", "#0", "6-9:1", "#1"]);
});

test("identical spans: the later one is on top", () => {
  const spans = [
    { start: 1, end: 3 },
    { start: 1, end: 3 },
  ];
  assert.deepEqual(show(splitAtBoundaries(3, spans)), ["0-1:", "1-3:0,1", "#1", "#0"]);
});

test("spans given out of order are laid out in text order", () => {
  const spans = [
    { start: 6, end: 8 },
    { start: 0, end: 2 },
  ];
  assert.deepEqual(show(splitAtBoundaries(8, spans)), ["0-2:1", "#1", "2-6:", "6-8:0", "#0"]);
});
