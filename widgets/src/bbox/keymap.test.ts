/// <reference types="node" />
// Unit tests for keymap.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { Selection } from "./doc";
import {
  type KeyAction,
  type KeyContext,
  type KeyPress,
  allowedWhenReadOnly,
  keyAction,
} from "./keymap";

const mod = (e: KeyPress): boolean => e.ctrlKey || e.metaKey;
const COMMON = {
  isUndo: (e: KeyPress) => mod(e) && !e.shiftKey && e.key.toLowerCase() === "z",
  isRedo: (e: KeyPress) => mod(e) && e.shiftKey && e.key.toLowerCase() === "z",
  isSubmit: (e: KeyPress) => mod(e) && e.key === "Enter",
  isSaveDraft: (e: KeyPress) => mod(e) && e.key === "s",
  isSkip: (e: KeyPress) => e.key === "Escape",
};
const HOTKEYS = new Map([
  ["1", "cat"],
  ["d", "dog"],
  ["0", "zero"],
]);

function key(k: string, mods: Partial<KeyPress> = {}): KeyPress {
  return { key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}

function action(e: KeyPress, selection: Selection = null, dragging = false) {
  const ctx: KeyContext = { selection, dragging, hotkeys: HOTKEYS, common: COMMON };
  return keyAction(e, ctx);
}

const BOX = { kind: "box", index: 0 } as const;
const SUGGESTION = { kind: "suggestion", index: 0 } as const;

test("arrows nudge the selected box by 1, with Shift by 10", () => {
  assert.deepEqual(action(key("ArrowLeft"), BOX), { kind: "nudge", dx: -1, dy: 0 });
  const down = action(key("ArrowDown", { shiftKey: true }), BOX);
  assert.deepEqual(down, { kind: "nudge", dx: 0, dy: 10 });
  assert.equal(action(key("ArrowLeft")), null); // nothing selected: the page may scroll
  assert.equal(action(key("ArrowLeft"), SUGGESTION), null);
});

test("label hotkeys pick a label, case-sensitively", () => {
  assert.deepEqual(action(key("d"), BOX), { kind: "label", name: "dog" });
  assert.equal(action(key("D")), null);
  assert.equal(action(key("d", { ctrlKey: true })), null);
});

test("a hotkey wins over the zoom key it shadows", () => {
  assert.deepEqual(action(key("0")), { kind: "label", name: "zero" });
  assert.deepEqual(action(key("+")), { kind: "zoom", how: "in" });
  assert.deepEqual(action(key("-")), { kind: "zoom", how: "out" });
});

test("Delete and Backspace delete what is selected", () => {
  assert.deepEqual(action(key("Delete"), BOX), { kind: "delete" });
  assert.deepEqual(action(key("Backspace"), SUGGESTION), { kind: "delete" });
  assert.equal(action(key("Delete")), null);
});

test("Enter accepts a selected suggestion; Ctrl+Enter submits", () => {
  assert.deepEqual(action(key("Enter"), SUGGESTION), { kind: "accept" });
  assert.equal(action(key("Enter"), BOX), null);
  assert.deepEqual(action(key("Enter", { ctrlKey: true }), SUGGESTION), { kind: "submit" });
});

test("Escape cancels a drag, then clears the selection, then skips", () => {
  assert.deepEqual(action(key("Escape"), BOX, true), { kind: "cancel" });
  assert.deepEqual(action(key("Escape"), BOX), { kind: "deselect" });
  assert.deepEqual(action(key("Escape")), { kind: "skip" });
});

test("undo, redo and Tab", () => {
  assert.deepEqual(action(key("z", { ctrlKey: true })), { kind: "undo" });
  assert.deepEqual(action(key("Z", { metaKey: true, shiftKey: true })), { kind: "redo" });
  assert.deepEqual(action(key("Tab")), { kind: "cycle", step: 1 });
  assert.deepEqual(action(key("Tab", { shiftKey: true })), { kind: "cycle", step: -1 });
});

test("a read-only view runs the keys that look, not those that edit or submit", () => {
  const run = (e: KeyPress, selection: Selection = BOX): boolean => {
    const got = action(e, selection);
    assert.notEqual(got, null, e.key);
    return allowedWhenReadOnly(got as KeyAction);
  };
  assert.equal(run(key("Tab")), true);
  assert.equal(run(key("+")), true);
  assert.equal(run(key("Escape")), true); // clears the selection
  for (const e of [
    key("Delete"),
    key("Backspace"),
    key("ArrowLeft"),
    key("d"), // a label hotkey relabels
    key("z", { ctrlKey: true }),
    key("z", { ctrlKey: true, shiftKey: true }),
    key("Enter", { ctrlKey: true }),
    key("s", { ctrlKey: true }),
  ]) {
    assert.equal(run(e), false, e.key);
  }
  assert.equal(run(key("Enter"), SUGGESTION), false); // accept
  assert.equal(run(key("Escape"), null), false); // skip
});
