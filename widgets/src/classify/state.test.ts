/// <reference types="node" />
// Unit tests for state.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyPatch, bestSuggestion, describeValue, isChosen, pick, sameValue } from "./state";

test("single choice: a label replaces the last one (radio), null clears", () => {
  assert.equal(applyPatch(null, pick(false, "pos"), false), "pos");
  assert.equal(applyPatch("pos", pick(false, "neg"), false), "neg");
  assert.equal(applyPatch("pos", { op: "choose", label: null }, false), null);
});

test("multi choice: a label toggles, in the order chosen", () => {
  let value = applyPatch([], pick(true, "b"), true);
  value = applyPatch(value, pick(true, "a"), true);
  assert.deepEqual(value, ["b", "a"]);
  assert.deepEqual(applyPatch(value, pick(true, "b"), true), ["a"]);
});

test("accepting a suggestion chooses its label and never unchooses it", () => {
  assert.equal(applyPatch(null, { op: "accept", label: "pos" }, false), "pos");
  assert.deepEqual(applyPatch(["a"], { op: "accept", label: "a" }, true), ["a"]);
  assert.deepEqual(applyPatch(["a"], { op: "accept", label: "b" }, true), ["a", "b"]);
});

test("set replaces the value (undo and redo)", () => {
  assert.deepEqual(applyPatch(["a"], { op: "set", value: ["b", "c"] }, true), ["b", "c"]);
});

test("the best suggestion is the surest one not chosen yet", () => {
  const suggestions = [
    { label: "a", score: 0.4 },
    { label: "b", score: 0.9 },
    { label: "c" },
  ];
  assert.equal(bestSuggestion(suggestions, null)?.label, "b");
  assert.equal(bestSuggestion(suggestions, ["b"])?.label, "a");
  assert.equal(bestSuggestion([], null), undefined);
});

test("helpers", () => {
  assert.equal(isChosen(["a"], "a"), true);
  assert.equal(isChosen("a", "b"), false);
  assert.equal(sameValue(["a", "b"], ["a", "b"]), true);
  assert.equal(sameValue(["a"], "a"), false);
  assert.equal(describeValue([]), "No labels chosen");
  assert.equal(describeValue("pos"), "Chosen: pos");
});
