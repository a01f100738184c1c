/// <reference types="node" />
// Unit tests for help.ts (the parts that need no DOM), run by `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ACTION_SHORTCUTS, isHelpKey, labelRows } from "./help";

const key = (k: string, extra: Partial<{ ctrlKey: boolean; target: unknown }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...extra,
}) as Parameters<typeof isHelpKey>[0];

test("? alone opens the list, not with Ctrl, not typed into a text field", () => {
  assert.equal(isHelpKey(key("?")), true);
  assert.equal(isHelpKey(key("?", { ctrlKey: true })), false);
  assert.equal(isHelpKey(key("/")), false);
  assert.equal(isHelpKey(key("?", { target: { tagName: "TEXTAREA" } })), false);
  assert.equal(isHelpKey(key("?", { target: { tagName: "DIV", isContentEditable: false } })), true);
});

test("every label has a row with its key, the eleventh too", () => {
  const labels = Array.from({ length: 11 }, (_, i) => ({
    name: i === 10 ? "EVENT" : `L${i}`,
    color: "#aec7e8",
    hotkey: null,
    description: "",
  }));
  const rows = labelRows(labels);
  assert.equal(rows.length, 11);
  assert.deepEqual(rows.at(-1), { keys: "e", what: "EVENT", color: "#aec7e8" });
  assert.ok(rows.every((row) => row.keys !== ""));
});

test("the action keys say Ctrl+S saves the notebook too", () => {
  const save = ACTION_SHORTCUTS.find((row) => row.keys === "Ctrl+S");
  assert.match(save?.what ?? "", /notebook/);
});
