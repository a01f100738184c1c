/// <reference types="node" />
// Unit tests for doc.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { type Box, type Doc, applyPatch, cycleSelection, sameDoc, selectionAfter } from "./doc";

function box(x: number, label = "cat", score?: number): Box {
  const plain = { x, y: 0, width: 10, height: 10, label };
  return score === undefined ? plain : { ...plain, score };
}

const DOC: Doc = {
  boxes: [box(0), box(20, "dog")],
  suggestions: [box(40, "cat", 0.9), box(60, "dog", 0.4)],
};

describe("applyPatch mirrors Python's patch ops", () => {
  test("add appends", () => {
    const doc = applyPatch(DOC, { op: "add", box: box(80) });
    assert.deepEqual(doc.boxes.map((b) => b.x), [0, 20, 80]);
  });

  test("move changes x and y only", () => {
    const doc = applyPatch(DOC, { op: "move", index: 1, x: 5, y: 7 });
    assert.deepEqual(doc.boxes[1], { x: 5, y: 7, width: 10, height: 10, label: "dog" });
  });

  test("resize replaces the geometry and keeps the label", () => {
    const geometry = { x: 1, y: 2, width: 3, height: 4 };
    const doc = applyPatch(DOC, { op: "resize", index: 0, box: geometry });
    assert.deepEqual(doc.boxes[0], { x: 1, y: 2, width: 3, height: 4, label: "cat" });
  });

  test("remove and relabel", () => {
    assert.deepEqual(applyPatch(DOC, { op: "remove", index: 0 }).boxes, [box(20, "dog")]);
    assert.equal(applyPatch(DOC, { op: "relabel", index: 0, label: "dog" }).boxes[0]?.label, "dog");
  });

  test("accept moves a suggestion, with its score, to the end of the boxes", () => {
    const doc = applyPatch(DOC, { op: "accept", index: 1 });
    assert.deepEqual(doc.boxes[2], box(60, "dog", 0.4));
    assert.deepEqual(doc.suggestions, [box(40, "cat", 0.9)]);
  });

  test("reject, accept_all and reject_all", () => {
    const rejected = applyPatch(DOC, { op: "reject", index: 0 });
    assert.deepEqual(rejected.suggestions, [box(60, "dog", 0.4)]);
    const all = applyPatch(DOC, { op: "accept_all" });
    assert.equal(all.boxes.length, 4);
    assert.equal(all.suggestions.length, 0);
    assert.deepEqual(applyPatch(DOC, { op: "reject_all" }), { boxes: DOC.boxes, suggestions: [] });
  });

  test("replace sets both lists", () => {
    const doc = applyPatch(DOC, { op: "replace", boxes: [box(1)], suggestions: [] });
    assert.deepEqual(doc, { boxes: [box(1)], suggestions: [] });
  });

  test("the input document is not changed", () => {
    const copy = structuredClone(DOC);
    applyPatch(DOC, { op: "move", index: 0, x: 99, y: 99 });
    applyPatch(DOC, { op: "accept_all" });
    assert.deepEqual(DOC, copy);
  });
});

describe("selection", () => {
  test("a new or accepted box is selected; a removed one clears the selection", () => {
    const third = { kind: "box", index: 2 };
    assert.deepEqual(selectionAfter(DOC, { op: "add", box: box(80) }, null), third);
    assert.deepEqual(selectionAfter(DOC, { op: "accept", index: 0 }, null), third);
    assert.equal(selectionAfter(DOC, { op: "remove", index: 0 }, { kind: "box", index: 0 }), null);
    const kept = { kind: "box", index: 1 } as const;
    assert.equal(selectionAfter(DOC, { op: "move", index: 1, x: 0, y: 0 }, kept), kept);
  });

  test("Tab walks boxes then suggestions, and leaves the widget past the end", () => {
    let selection = cycleSelection(DOC, null, 1);
    const seen = [];
    while (selection !== null) {
      seen.push(`${selection.kind}${selection.index}`);
      selection = cycleSelection(DOC, selection, 1);
    }
    assert.deepEqual(seen, ["box0", "box1", "suggestion0", "suggestion1"]);
    assert.deepEqual(cycleSelection(DOC, null, -1), { kind: "suggestion", index: 1 });
    assert.equal(cycleSelection(DOC, { kind: "box", index: 0 }, -1), null);
    assert.equal(cycleSelection({ boxes: [], suggestions: [] }, null, 1), null);
  });
});

test("sameDoc compares geometry, labels and scores in order", () => {
  assert.equal(sameDoc(DOC, structuredClone(DOC)), true);
  assert.equal(sameDoc(DOC, applyPatch(DOC, { op: "move", index: 0, x: 1, y: 0 })), false);
  const unscored = { boxes: [{ ...box(0), score: null }], suggestions: [] };
  assert.equal(sameDoc(unscored, { boxes: [box(0)], suggestions: [] }), true);
});
