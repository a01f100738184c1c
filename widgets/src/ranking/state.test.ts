/// <reference types="node" />
// Unit tests for state.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyPatch,
  describeValue,
  displayOrder,
  dropPatch,
  isLong,
  moveBy,
  place,
  ranksOnDrop,
  rankForKey,
  readTexts,
  takeShownOrder,
} from "./state";

const IDS = ["a", "b", "c", "d"];

test("the ranked ids come first, then the others in the order given", () => {
  assert.deepEqual(displayOrder(IDS, []), ["a", "b", "c", "d"]);
  assert.deepEqual(displayOrder(IDS, ["c", "a"]), ["c", "a", "b", "d"]);
});

test("placing moves or adds an id, clamped to right after the last ranked one", () => {
  assert.deepEqual(place([], "c", 0), ["c"]);
  assert.deepEqual(place(["c"], "a", 5), ["c", "a"]);
  assert.deepEqual(place(["c", "a", "b"], "b", 0), ["b", "c", "a"]);
  assert.deepEqual(place(["c", "a", "b"], "c", 2), ["a", "b", "c"]);
  assert.deepEqual(place(["c", "a"], "a", -3), ["a", "c"]);
});

test("moving up and down steps one place; across the line it ranks or unranks", () => {
  const value = ["c", "a"];
  assert.deepEqual(moveBy(value, "a", -1), { op: "place", id: "a", index: 0 });
  assert.equal(moveBy(value, "c", -1), null); // already first
  assert.deepEqual(moveBy(value, "c", 1), { op: "place", id: "c", index: 1 });
  assert.deepEqual(moveBy(value, "a", 1), { op: "unrank", id: "a" }); // last ranked: below the line
  assert.deepEqual(moveBy(value, "d", -1), { op: "place", id: "d", index: 2 }); // unranked: ranked last
  assert.equal(moveBy(value, "d", 1), null);
  let moved = value;
  for (const patch of [moveBy(moved, "b", -1), moveBy(["c", "a", "b"], "b", -1)]) {
    if (patch !== null) moved = applyPatch(moved, patch);
  }
  assert.deepEqual(moved, ["c", "b", "a"]);
});

test("a drop above the line places the card at its slot; below it unranks", () => {
  assert.deepEqual(dropPatch([], "c", 0, true), { op: "place", id: "c", index: 0 });
  assert.deepEqual(dropPatch(["c", "a"], "b", 1, true), { op: "place", id: "b", index: 1 });
  assert.deepEqual(applyPatch(["c", "a"], { op: "place", id: "b", index: 1 }), ["c", "b", "a"]);
  assert.deepEqual(dropPatch(["c", "a"], "c", 1, true), { op: "place", id: "c", index: 1 });
  assert.equal(dropPatch(["c", "a"], "c", 0, true), null); // dropped where it was
  assert.deepEqual(dropPatch(["c", "a"], "a", 3, false), { op: "unrank", id: "a" });
  assert.equal(dropPatch(["c"], "d", 2, false), null);
});

test("number keys give ranks 1..9; Enter takes the order shown", () => {
  assert.equal(rankForKey("1"), 0);
  assert.equal(rankForKey("9"), 8);
  assert.equal(rankForKey("0"), undefined);
  assert.equal(rankForKey("x"), undefined);
  assert.deepEqual(takeShownOrder(IDS, ["d"]), { op: "set", value: ["d", "a", "b", "c"] });
  assert.equal(takeShownOrder(["a", "b"], ["b", "a"]), null);
  assert.deepEqual(applyPatch(["a"], { op: "unrank", id: "a" }), []);
});

test("the ranking reads in words; long texts are clamped; texts decode by position", () => {
  assert.equal(describeValue(IDS, []), "Nothing ranked yet (4 outputs)");
  assert.equal(describeValue(["a", "b"], ["b", "a"]), "Ranked: 1. b, 2. a");
  assert.equal(describeValue(IDS, ["b"]), "Ranked: 1. b; not ranked yet: a, c, d");
  assert.equal(isLong("short"), false);
  assert.equal(isLong("x".repeat(281)), true);
  assert.equal(isLong("1\n2\n3\n4\n5\n6\n7"), true);
  assert.deepEqual(readTexts('["one", "two"]', 3), ["one", "two", ""]);
  assert.deepEqual(readTexts("not json", 1), [""]);
});

test("a drop ranks a card among the ranked ones, or last when an unranked card is dragged up", () => {
  assert.equal(ranksOnDrop(0, 0, false, true), true); // nothing ranked: dragged up, it is first
  assert.equal(ranksOnDrop(0, 0, false, false), false); // nudged down: still not ranked
  assert.equal(ranksOnDrop(1, 2, false, false), true);
  assert.equal(ranksOnDrop(2, 2, true, false), true); // the last ranked card stays ranked
  assert.equal(ranksOnDrop(3, 2, true, false), false); // below the first unranked one
});
