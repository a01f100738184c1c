/// <reference types="node" />
// Unit tests for hotkeys.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { type LabelInfo, assignHotkeys, labelForKey, pickHotkey } from "./hotkeys";

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

test("past nine labels, the rest get a letter of their name, then any free letter", () => {
  const labels = Array.from({ length: 11 }, (_, i) => label(`L${i}`));
  const keys = assignHotkeys(labels);
  assert.equal(keys.byLabel.get("L8"), "9");
  assert.equal(keys.byLabel.get("L9"), "l");
  assert.equal(keys.byLabel.get("L10"), "a");
  assert.equal(labelForKey(keys, "l"), "L9");
});

test("every one of 80 labels has its own key, none of the widgets' own keys", () => {
  const keys = assignHotkeys(Array.from({ length: 80 }, (_, i) => label(`label ${i}`)));
  assert.equal(keys.byLabel.size, 80);
  assert.equal(keys.byKey.size, 80);
  for (const reserved of ["?", "0", "+", "-", "=", "_", " "]) assert.equal(keys.byKey.has(reserved), false);
});

test("the same keys as Python's pick_hotkey for a list of names", () => {
  const names = ["PER", "ORG", "LOC", "MISC", "DATE", "TIME", "MONEY", "PCT", "QTY", "LAW", "EVENT"];
  const keys = assignHotkeys(names.map((name) => label(name)));
  assert.deepEqual([...keys.byLabel.values()], [..."123456789", "l", "e"]);
  assert.equal(pickHotkey("x", new Set([..."123456789abcdefghijklmnopqrstuvwxyz"])), "A");
});

test("a key in the other case still picks the label, unless it has its own", () => {
  const keys = assignHotkeys([label("PER", "p"), label("POS", "P"), label("ORG", "o")]);
  assert.equal(labelForKey(keys, "p"), "PER");
  assert.equal(labelForKey(keys, "P"), "POS");
  assert.equal(labelForKey(keys, "O"), "ORG");
  assert.equal(labelForKey(keys, "x"), undefined);
});

test("reserved keys are never handed to a label without its own", () => {
  const labels = Array.from({ length: 12 }, (_, i) => label(i === 9 ? "content" : `x${i}`));
  const keys = assignHotkeys(labels, ["c", "C"]);
  assert.equal(keys.byLabel.get("content"), "o");
  assert.equal(keys.byKey.has("c"), false);
  // A label's own hotkey still wins.
  assert.equal(assignHotkeys([label("comment", "c")], ["c"]).byLabel.get("comment"), "c");
});
