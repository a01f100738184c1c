/// <reference types="node" />
// Unit tests for doc.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  type Doc,
  type Span,
  applyPatch,
  compareSpans,
  diffSpans,
  keepFocus,
  nextFocus,
  overlapping,
  replacePatch,
  sameDoc,
} from "./doc";

const s = (start: number, end: number, label = "PER", score?: number): Span =>
  score === undefined ? { start, end, label } : { start, end, label, score };
const doc = (value: Span[], suggestions: Span[] = []): Doc => ({ value, suggestions });

describe("applyPatch predicts Python", () => {
  test("add keeps Python's order (start, end, label)", () => {
    const next = applyPatch(doc([s(0, 3), s(10, 12)]), { op: "add", span: s(5, 7, "ORG") }, false);
    assert.deepEqual(next?.value, [s(0, 3), s(5, 7, "ORG"), s(10, 12)]);
  });

  test("an overlap is refused unless allowed", () => {
    const before = doc([s(0, 5)]);
    assert.equal(applyPatch(before, { op: "add", span: s(3, 8) }, false), null);
    assert.deepEqual(applyPatch(before, { op: "add", span: s(3, 8) }, true)?.value, [s(0, 5), s(3, 8)]);
    // Touching is not overlapping: [0, 5) and [5, 8).
    assert.deepEqual(applyPatch(before, { op: "add", span: s(5, 8) }, false)?.value, [s(0, 5), s(5, 8)]);
  });

  test("an exact duplicate is refused even when overlaps are allowed", () => {
    assert.equal(applyPatch(doc([s(0, 5)]), { op: "add", span: s(0, 5) }, true), null);
  });

  test("remove and relabel find the span by key", () => {
    const before = doc([s(0, 3), s(4, 6)]);
    assert.deepEqual(applyPatch(before, { op: "remove", span: s(4, 6) }, false)?.value, [s(0, 3)]);
    assert.equal(applyPatch(before, { op: "remove", span: s(4, 7) }, false), null);
    const relabelled = applyPatch(before, { op: "relabel", span: s(0, 3), label: "LOC" }, false);
    assert.deepEqual(relabelled?.value, [s(0, 3, "LOC"), s(4, 6)]);
  });

  test("accept moves a suggestion into the value without its score", () => {
    const before = doc([], [s(0, 3, "PER", 0.9), s(5, 8, "LOC", 0.4)]);
    const next = applyPatch(before, { op: "accept", span: s(0, 3, "PER", 0.9) }, false);
    assert.deepEqual(next, doc([s(0, 3)], [s(5, 8, "LOC", 0.4)]));
    const relabelled = applyPatch(before, { op: "accept", span: s(5, 8, "LOC", 0.4), label: "ORG" }, false);
    assert.deepEqual(relabelled?.value, [s(5, 8, "ORG")]);
  });

  test("accept_all takes the surest first and leaves what would overlap", () => {
    const before = doc([], [s(0, 5, "PER", 0.4), s(2, 6, "ORG", 0.9), s(10, 12, "LOC")]);
    const next = applyPatch(before, { op: "accept_all" }, false);
    assert.deepEqual(next, doc([s(2, 6, "ORG"), s(10, 12, "LOC")], [s(0, 5, "PER", 0.4)]));
    const all = applyPatch(before, { op: "accept_all" }, true);
    assert.equal(all?.value.length, 3);
    assert.deepEqual(all?.suggestions, []);
  });

  test("reject and reject_all drop suggestions only", () => {
    const before = doc([s(0, 1)], [s(2, 3, "PER", 0.5), s(4, 5, "PER", 0.5)]);
    assert.deepEqual(applyPatch(before, { op: "reject", span: s(2, 3, "PER", 0.5) }, false)?.suggestions, [
      s(4, 5, "PER", 0.5),
    ]);
    assert.deepEqual(applyPatch(before, { op: "reject_all" }, false), doc([s(0, 1)]));
  });
});

describe("undo and redo travel as diffs", () => {
  test("replacePatch carries only what changed, and applying it gives the target", () => {
    const many = Array.from({ length: 100 }, (_, i) => s(i * 10, i * 10 + 3));
    const from = doc(many, [s(5, 6, "LOC", 0.5)]);
    const to = doc([...many.slice(0, 50), ...many.slice(51)], []);
    const patch = replacePatch(from, to);
    assert.equal(patch.op, "replace");
    if (patch.op !== "replace") return;
    assert.deepEqual(patch.value, { remove: [many[50]], add: [] });
    assert.deepEqual(patch.suggestions, { remove: [s(5, 6, "LOC", 0.5)], add: [] });
    const reached = applyPatch(from, patch, false);
    assert.ok(reached !== null && sameDoc(reached, to));
  });

  test("a score change counts as a change", () => {
    assert.deepEqual(diffSpans([s(0, 1, "A", 0.1)], [s(0, 1, "A", 0.2)]), {
      remove: [s(0, 1, "A", 0.1)],
      add: [s(0, 1, "A", 0.2)],
    });
  });
});

test("labels sort by code point, as Python sorts str", () => {
  // "\u{1F600}" (astral) is above "\uFF21" (BMP) in code points but below it in UTF-16 units.
  const spans = [s(0, 1, "\u{1F600}"), s(0, 1, "\uFF21")];
  spans.sort(compareSpans);
  assert.deepEqual(spans.map((x) => x.label), ["\uFF21", "\u{1F600}"]);
});

test("overlapping finds the neighbour that overlaps", () => {
  const value = [s(0, 3), s(5, 9), s(12, 15)];
  assert.deepEqual(overlapping(value, s(8, 10)), s(5, 9));
  assert.deepEqual(overlapping(value, s(10, 13)), s(12, 15));
  assert.equal(overlapping(value, s(9, 12)), undefined);
});

describe("Tab order", () => {
  const d = doc([s(0, 3), s(10, 14, "LOC")], [s(0, 3, "PER", 0.5), s(5, 8, "ORG", 0.7)]);

  test("forward from the caret, then item by item, then off the end", () => {
    let focus = nextFocus(d, null, 4, true);
    assert.deepEqual(focus, { kind: "suggestion", span: s(5, 8, "ORG", 0.7) });
    focus = nextFocus(d, focus, 0, true);
    assert.deepEqual(focus, { kind: "span", span: s(10, 14, "LOC") });
    assert.equal(nextFocus(d, focus, 0, true), null);
  });

  test("a span comes before a suggestion at the same place, both ways", () => {
    const first = nextFocus(d, null, 0, true);
    assert.deepEqual(first, { kind: "span", span: s(0, 3) });
    const second = nextFocus(d, first, 0, true);
    assert.deepEqual(second, { kind: "suggestion", span: s(0, 3, "PER", 0.5) });
    assert.deepEqual(nextFocus(d, second, 0, false), first);
    assert.equal(nextFocus(d, first, 0, false), null);
  });

  test("backward from the caret", () => {
    assert.deepEqual(nextFocus(d, null, 9, false), { kind: "suggestion", span: s(5, 8, "ORG", 0.7) });
  });

  test("keepFocus follows a span that is still there and drops one that is gone", () => {
    const focus = { kind: "span" as const, span: s(10, 14, "LOC") };
    assert.deepEqual(keepFocus(d, focus), focus);
    assert.equal(keepFocus(doc([]), focus), null);
  });
});
