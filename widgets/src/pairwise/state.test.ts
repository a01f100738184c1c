/// <reference types="node" />
// Unit tests for state.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyPatch,
  describeValue,
  offeredVerdicts,
  outputMark,
  pickVerdict,
  verdictForKey,
} from "./state";

test("tie and both bad are offered only when allowed", () => {
  assert.deepEqual(offeredVerdicts(true, true), ["a", "b", "tie", "both_bad"]);
  assert.deepEqual(offeredVerdicts(false, true), ["a", "b", "both_bad"]);
  assert.deepEqual(offeredVerdicts(false, false), ["a", "b"]);
});

test("1/a pick A, 2/b pick B, t tie, x both bad; a verdict not offered has no key", () => {
  const all = offeredVerdicts(true, true);
  assert.equal(verdictForKey("1", all), "a");
  assert.equal(verdictForKey("A", all), "a");
  assert.equal(verdictForKey("b", all), "b");
  assert.equal(verdictForKey("t", all), "tie");
  assert.equal(verdictForKey("x", all), "both_bad");
  assert.equal(verdictForKey("t", ["a", "b"]), undefined);
  assert.equal(verdictForKey("3", all), undefined);
});

test("choosing, judging a criterion and typing a rationale build the value; empty is null", () => {
  const names = ["accuracy", "tone"];
  let value = applyPatch(null, { op: "judge", criterion: "tone", verdict: "b" }, names);
  value = applyPatch(value, { op: "choose", choice: "a" }, names);
  value = applyPatch(value, { op: "judge", criterion: "accuracy", verdict: "a" }, names);
  assert.deepEqual(value, { choice: "a", rationale: "", criteria: { accuracy: "a", tone: "b" } });
  assert.deepEqual(Object.keys(value?.criteria ?? {}), ["accuracy", "tone"]); // the order shown
  value = applyPatch(value, { op: "rationale", text: "B invents a date" }, names);
  assert.equal(value?.rationale, "B invents a date");
  let cleared = applyPatch({ choice: "a", rationale: "", criteria: {} }, { op: "choose", choice: null }, names);
  assert.equal(cleared, null);
  cleared = applyPatch({ choice: null, rationale: "", criteria: { tone: "a" } }, { op: "judge", criterion: "tone", verdict: null }, names);
  assert.equal(cleared, null);
});

test("picking a row's verdict again clears it", () => {
  const value = { choice: "a" as const, rationale: "", criteria: { tone: "tie" as const } };
  assert.deepEqual(pickVerdict(value, null, "a"), { op: "choose", choice: null });
  assert.deepEqual(pickVerdict(value, null, "b"), { op: "choose", choice: "b" });
  assert.deepEqual(pickVerdict(value, "tone", "tie"), { op: "judge", criterion: "tone", verdict: null });
  assert.deepEqual(pickVerdict(null, "tone", "both_bad"), {
    op: "judge",
    criterion: "tone",
    verdict: "both_bad",
  });
});

test("the outputs are marked by the verdict, and the value reads in words", () => {
  assert.equal(outputMark("a", "a"), "chosen");
  assert.equal(outputMark("a", "b"), null);
  assert.equal(outputMark("tie", "b"), "tie");
  assert.equal(outputMark("both_bad", "a"), "bad");
  assert.equal(outputMark(null, "a"), null);
  assert.equal(describeValue(null), "No verdict yet");
  assert.equal(
    describeValue({ choice: "b", rationale: "", criteria: { tone: "tie" } }),
    "B is better; tone: Tie",
  );
});
