/// <reference types="node" />
// Unit tests for the screen-reader text of a11y.ts, run by `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeBox, describeDisputed, describePatch } from "./a11y";
import type { Doc } from "./doc";

const BOX = { x: 10.5, y: 20, width: 30, height: 40.25, label: "traffic light" };
const DOC: Doc = { boxes: [BOX], suggestions: [{ ...BOX, score: 0.876 }, BOX] };

test("a box reads with its label, place and size in natural pixels", () => {
  assert.equal(
    describeBox(BOX, "box", 0, 3),
    "Box 1 of 3: traffic light, x 10.5, y 20, 30 by 40.25 pixels",
  );
  assert.equal(
    describeBox({ ...BOX, score: 0.876 }, "suggestion", 1, 2),
    "Suggestion 2 of 2: traffic light, x 10.5, y 20, 30 by 40.25 pixels, score 0.88",
  );
});

test("each edit is announced", () => {
  assert.equal(describePatch({ op: "add", box: BOX }, DOC, BOX), "Added a traffic light box.");
  const remove = { op: "remove", index: 0 } as const;
  assert.equal(describePatch(remove, DOC, undefined), "Deleted the traffic light box.");
  const relabel = { op: "relabel", index: 0, label: "car" } as const;
  assert.equal(describePatch(relabel, DOC, BOX), "Relabelled as car.");
  assert.equal(describePatch({ op: "accept_all" }, DOC, undefined), "Accepted 2 suggestions.");
  const moved = { ...BOX, x: 1, y: 2 };
  const move = { op: "move", index: 0, x: 1, y: 2 } as const;
  assert.equal(describePatch(move, DOC, moved), "Now x 1, y 2, 30 by 40.25 pixels.");
});

test("a disputed box says it is not in every answer", () => {
  assert.equal(
    describeBox(BOX, "box", 1, 2, true),
    "Box 2 of 2: traffic light, x 10.5, y 20, 30 by 40.25 pixels, not in every answer",
  );
  assert.equal(describeDisputed(0), "");
  assert.equal(describeDisputed(1), "1 box not in every answer");
  assert.equal(describeDisputed(3), "3 boxes not in every answer");
});
