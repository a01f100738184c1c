import assert from "node:assert/strict";
import { test } from "node:test";

import { type Question, answerForKey, clip, describe, optionKeys, step, toggle, usesSelect } from "./state";

const confidence: Question = {
  name: "confidence",
  kind: "choice",
  required: true,
  description: "",
  options: [
    { name: "high", color: "", hotkey: "" },
    { name: "medium", color: "", hotkey: "" },
    { name: "low", color: "", hotkey: "" },
  ],
};

test("options without hotkeys take 1-9 by position; own hotkeys win", () => {
  assert.deepEqual([...optionKeys(confidence.options ?? [])], [["1", "high"], ["2", "medium"], ["3", "low"]]);
  const mixed = [
    { name: "a", color: "", hotkey: "2" },
    { name: "b", color: "", hotkey: "" },
    { name: "c", color: "", hotkey: "" },
  ];
  assert.deepEqual([...optionKeys(mixed)], [["2", "a"], ["1", "b"], ["3", "c"]]);
});

test("a choice key picks its option and picking it again clears it", () => {
  assert.equal(answerForKey(confidence, null, "1"), "high");
  assert.equal(answerForKey(confidence, "high", "3"), "low");
  assert.equal(answerForKey(confidence, "low", "3"), null);
  assert.equal(answerForKey(confidence, null, "9"), undefined);
  assert.equal(answerForKey(confidence, null, "x"), undefined);
});

test("a rating takes 1..scale and nothing above", () => {
  const rating: Question = { name: "r", kind: "rating", required: false, description: "", scale: 4 };
  assert.equal(answerForKey(rating, null, "4"), 4);
  assert.equal(answerForKey(rating, null, "5"), undefined);
  assert.equal(answerForKey(rating, 4, "4"), null);
  assert.equal(answerForKey(rating, null, "0"), undefined);
});

test("choices toggle and respect max", () => {
  const q: Question = { ...confidence, kind: "choices", max: 2 };
  assert.deepEqual(toggle(q, [], "high"), ["high"]);
  assert.deepEqual(toggle(q, ["high"], "high"), []);
  assert.deepEqual(toggle(q, ["high", "low"], "medium"), ["high", "low"]);
});

test("many options show as a select", () => {
  assert.equal(usesSelect(confidence), false);
  const many = Array.from({ length: 8 }, (_, i) => ({ name: `o${i}`, color: "", hotkey: "" }));
  assert.equal(usesSelect({ ...confidence, options: many }), true);
});

test("focus steps stop at the ends and enter from either side", () => {
  assert.equal(step(0, 3, true), 1);
  assert.equal(step(2, 3, true), 2);
  assert.equal(step(0, 3, false), 0);
  assert.equal(step(-1, 3, true), 0);
  assert.equal(step(-1, 3, false), 2);
  assert.equal(step(0, 0, true), -1);
});

test("text is clipped by code points and the status names a missing required answer", () => {
  assert.equal(clip("a😀bc", 2), "a😀");
  assert.equal(clip("abc", null), "abc");
  assert.equal(describe(confidence, null), "required, not answered");
  assert.equal(describe(confidence, "high"), "high");
  assert.equal(describe({ ...confidence, kind: "rating", scale: 5 }, 3), "3 of 5");
});

test("options past the ninth get a letter of their name", () => {
  const options = Array.from({ length: 11 }, (_, i) => ({
    name: i === 9 ? "other" : i === 10 ? "unsure" : `o${i}`,
    color: "#aec7e8",
    hotkey: "",
  }));
  const keys = optionKeys(options);
  assert.equal(keys.get("o"), "other");
  assert.equal(keys.get("u"), "unsure");
  assert.equal(keys.size, 11);
});
