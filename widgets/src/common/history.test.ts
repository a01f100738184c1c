/// <reference types="node" />
// Unit tests for history.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { History } from "./history";

test("undo returns the recorded state and redo comes back", () => {
  const history = new History<string>(10);
  history.record("a"); // a -> b
  history.record("b"); // b -> c
  assert.equal(history.undo("c"), "b");
  assert.equal(history.undo("b"), "a");
  assert.equal(history.undo("a"), undefined);
  assert.equal(history.redo("a"), "b");
  assert.equal(history.redo("b"), "c");
  assert.equal(history.redo("c"), undefined);
});

test("canUndo and canRedo follow the steps", () => {
  const history = new History<number>(10);
  assert.deepEqual([history.canUndo, history.canRedo], [false, false]);
  history.record(1);
  assert.deepEqual([history.canUndo, history.canRedo], [true, false]);
  history.undo(2);
  assert.deepEqual([history.canUndo, history.canRedo], [false, true]);
});

test("a new change after an undo clears the redo steps", () => {
  const history = new History<string>(10);
  history.record("a");
  history.undo("b");
  history.record("a");
  assert.equal(history.canRedo, false);
  assert.equal(history.redo("x"), undefined);
});

test("the history keeps only the newest `limit` steps", () => {
  const history = new History<number>(3);
  for (let state = 0; state < 10; state++) history.record(state);
  assert.equal(history.undo(10), 9);
  assert.equal(history.undo(9), 8);
  assert.equal(history.undo(8), 7);
  assert.equal(history.undo(7), undefined);
});

test("redo respects the limit too", () => {
  const history = new History<number>(2);
  history.record(0);
  history.record(1);
  history.undo(2);
  history.undo(1);
  history.record(5); // clears redo
  history.record(6);
  history.record(7);
  assert.equal(history.undo(8), 7);
  assert.equal(history.undo(7), 6);
  assert.equal(history.canUndo, false);
});

test("lowering the limit drops the oldest steps", () => {
  const history = new History<number>(5);
  for (let state = 0; state < 5; state++) history.record(state);
  history.limit = 2;
  assert.equal(history.undo(5), 4);
  assert.equal(history.undo(4), 3);
  assert.equal(history.canUndo, false);
});

test("a limit of 0 (or nonsense) keeps no history", () => {
  for (const limit of [0, -3, Number.NaN]) {
    const history = new History<number>(limit);
    history.record(1);
    assert.equal(history.canUndo, false, String(limit));
    assert.equal(history.limit, 0);
  }
});

test("clear forgets everything", () => {
  const history = new History<number>(5);
  history.record(1);
  history.undo(2);
  history.clear();
  assert.deepEqual([history.canUndo, history.canRedo], [false, false]);
});

test("discardLast drops a refused step without making it redoable", () => {
  const history = new History<string>(5);
  history.record("a");
  history.record("b");
  assert.equal(history.discardLast(), "b");
  assert.equal(history.canRedo, false);
  assert.equal(history.undo("b"), "a");
});
