/// <reference types="node" />
// Unit tests for state.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyPatch, describeValue, keyForScore, pickScore, scoreForKey } from "./state";

const CRITERIA = [
  { name: "accuracy", description: "", scale: 5 },
  { name: "helpfulness", description: "", scale: 10 },
];

test("a digit scores within the row's scale; 0 is 10", () => {
  assert.equal(scoreForKey("4", 5), 4);
  assert.equal(scoreForKey("6", 5), undefined);
  assert.equal(scoreForKey("0", 10), 10);
  assert.equal(scoreForKey("0", 5), undefined);
  assert.equal(scoreForKey("a", 5), undefined);
  assert.equal(keyForScore(10), "0");
  assert.equal(keyForScore(3), "3");
});

test("scores keep the criteria's order; a comment alone is a value; nothing is null", () => {
  let value = applyPatch(null, { op: "score", criterion: "helpfulness", score: 7 }, CRITERIA);
  value = applyPatch(value, { op: "score", criterion: "accuracy", score: 2 }, CRITERIA);
  assert.deepEqual(value, { scores: { accuracy: 2, helpfulness: 7 }, comment: "" });
  assert.deepEqual(Object.keys(value?.scores ?? {}), ["accuracy", "helpfulness"]);
  assert.deepEqual(applyPatch(null, { op: "comment", text: "terse" }, CRITERIA), { scores: {}, comment: "terse" });
  const one = { scores: { accuracy: 2 }, comment: "" };
  assert.equal(applyPatch(one, { op: "score", criterion: "accuracy", score: null }, CRITERIA), null);
});

test("the same score again clears the row", () => {
  const value = { scores: { accuracy: 2 }, comment: "" };
  assert.deepEqual(pickScore(value, "accuracy", 2), { op: "score", criterion: "accuracy", score: null });
  assert.deepEqual(pickScore(value, "accuracy", 3), { op: "score", criterion: "accuracy", score: 3 });
});

test("the status says how many criteria are scored", () => {
  assert.equal(describeValue(null, CRITERIA), "0 of 2 scored");
  assert.equal(describeValue({ scores: { accuracy: 4 }, comment: "" }, CRITERIA), "1 of 2 scored: accuracy 4/5");
});
