/// <reference types="node" />
// Unit tests for hotkeys.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { type LabelInfo, assignHotkeys, labelForKey } from "./hotkeys";

const label = (name: string, hotkey: string | null = null): LabelInfo => ({
  name,
  color: "#aec7e8",
  hotkey,
  description: "",
});

test("configured hotkeys win; the others get the free digits in order", () => {
  const keys = assignHotkeys([label("PER", "2"), label("ORG"), label("LOC", "l"), label("MISC")]);
  assert.deepEqual([...keys.byLabel], [
    ["PER", "2"],
    ["LOC", "l"],
    ["ORG", "1"],
    ["MISC", "3"],
  ]);
});

test("past nine labels without hotkeys, the rest have none", () => {
  const labels = Array.from({ length: 11 }, (_, i) => label(`L${i}`));
  const keys = assignHotkeys(labels);
  assert.equal(keys.byLabel.get("L8"), "9");
  assert.equal(keys.byLabel.has("L9"), false);
});

test("a key in the other case still picks the label, unless it has its own", () => {
  const keys = assignHotkeys([label("PER", "p"), label("POS", "P"), label("ORG", "o")]);
  assert.equal(labelForKey(keys, "p"), "PER");
  assert.equal(labelForKey(keys, "P"), "POS");
  assert.equal(labelForKey(keys, "O"), "ORG");
  assert.equal(labelForKey(keys, "x"), undefined);
});
