/// <reference types="node" />
// Unit tests for store.ts (and the channel under it) against a fake model, run by `npm test`.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";

import type { AnyModel } from "@anywidget/types";

import type { Box } from "./doc";
import type { BBoxModel } from "./model";
import { BoxStore } from "./store";

type Handler = (...args: unknown[]) => void;

/** Enough of an anywidget model: traits, change events, custom messages both ways. */
class FakeModel {
  state: Record<string, unknown>;
  sent: Array<Record<string, unknown>> = [];
  private handlers = new Map<string, Set<Handler>>();

  constructor(state: Partial<BBoxModel>) {
    this.state = { value: [], suggestions: [], history_limit: 100, ...state };
  }
  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    for (const h of this.handlers.get(`change:${key}`) ?? []) h();
  }
  on(event: string, handler: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(handler);
  }
  off(event: string, handler: Handler): void {
    this.handlers.get(event)?.delete(handler);
  }
  send(content: Record<string, unknown>): void {
    this.sent.push(content);
  }
  /** One state message from Python: every key is set first, then the change events fire. */
  update(state: Partial<BBoxModel>): void {
    Object.assign(this.state, state);
    for (const key of Object.keys(state)) {
      for (const h of this.handlers.get(`change:${key}`) ?? []) h();
    }
  }
  /** Python's outcome of the `n`-th patch sent: its changes (if any) with its mark. */
  handled(n: number, state: Partial<BBoxModel> = {}): void {
    this.update({ ...state, last_patch: String(this.sent[n]?.["uuid"]) });
  }
  listeners(): number {
    return [...this.handlers.values()].reduce((n, set) => n + set.size, 0);
  }
}

const box = (x: number, label = "cat"): Box => ({ x, y: 0, width: 10, height: 10, label });

let model: FakeModel;
let store: BoxStore;
let changes: number;
let said: string[];

beforeEach(() => {
  model = new FakeModel({ value: [box(0)] });
  changes = 0;
  said = [];
  store = new BoxStore(model as unknown as AnyModel<BBoxModel>, {
    changed: () => (changes += 1),
    say: (message) => said.push(message),
  });
});

test("an edit shows at once and goes to Python as a patch with a uuid", () => {
  store.commit({ op: "add", box: box(20) });
  assert.deepEqual(store.doc.boxes, [box(0), box(20)]);
  assert.deepEqual(store.selection, { kind: "box", index: 1 });
  const sent = model.sent[0] as Record<string, unknown>;
  assert.equal(sent["op"], "add");
  const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(String(sent["uuid"]), UUID4);
  assert.deepEqual(said, ["Added a cat box."]);
  assert.equal(changes, 1);
});

test("Python's outcome of an accepted edit changes nothing and keeps the history", async () => {
  store.commit({ op: "add", box: box(20) });
  model.handled(0, { value: [box(0), box(20)] });
  await tick();
  assert.deepEqual(store.doc.boxes, [box(0), box(20)]);
  assert.equal(store.canUndo, true);
});

test("a refused edit is taken back once its outcome reaches the model", async () => {
  store.commit({ op: "relabel", index: 0, label: "zebra" });
  assert.equal(store.doc.boxes[0]?.label, "zebra");
  model.handled(0); // the mark alone: nothing changed
  await tick();
  assert.deepEqual(store.doc.boxes, [box(0)]);
  assert.equal(store.canUndo, true);
});

test("while an edit's outcome is on its way, earlier states do not flicker the page", async () => {
  store.commit({ op: "add", box: box(20) });
  store.commit({ op: "add", box: box(40) });
  model.handled(0, { value: [box(0), box(20)] });
  await tick();
  assert.equal(store.doc.boxes.length, 3);
  model.handled(1, { value: [box(0), box(20), box(40)] });
  await tick();
  assert.equal(store.doc.boxes.length, 3);
  assert.equal(store.canUndo, true);
});

test("a later edit survives the refusal of an earlier one", async () => {
  store.commit({ op: "relabel", index: 0, label: "zebra" }); // Python will refuse this
  store.commit({ op: "add", box: box(40) });
  model.handled(0);
  model.handled(1, { value: [box(0), box(40)] });
  await tick();
  assert.deepEqual(store.doc.boxes, [box(0), box(40)]);
});

test("a change made in Python is adopted and clears the undo history", async () => {
  store.commit({ op: "add", box: box(20) });
  store.select({ kind: "box", index: 1 });
  model.handled(0, { value: [box(0), box(20)] });
  await tick();
  model.update({ value: [box(99, "dog")] });
  await tick();
  assert.deepEqual(store.doc.boxes, [box(99, "dog")]);
  assert.equal(store.canUndo, false);
  assert.equal(store.selection, null); // the selected box 1 is gone
});

test("another view's edit is adopted like a change made in Python", async () => {
  store.commit({ op: "add", box: box(20) });
  model.handled(0, { value: [box(0), box(20)] });
  await tick();
  model.update({ value: [box(0)], last_patch: "someone-elses-uuid" });
  await tick();
  assert.deepEqual(store.doc.boxes, [box(0)]);
  assert.equal(store.canUndo, false);
});

test("undo and redo send the whole state as one replace patch", () => {
  store.commit({ op: "remove", index: 0 });
  store.undo();
  assert.deepEqual(store.doc.boxes, [box(0)]);
  const { uuid, ...replace } = model.sent.at(-1) ?? {};
  assert.equal(typeof uuid, "string");
  assert.deepEqual(replace, { op: "replace", boxes: [box(0)], suggestions: [] });
  store.redo();
  assert.deepEqual(store.doc.boxes, []);
  assert.deepEqual(said.slice(-2), ["Undone.", "Redone."]);
});

test("the history keeps history_limit steps, and follows a new limit", () => {
  model.set("history_limit", 2);
  for (let i = 1; i <= 4; i++) store.commit({ op: "move", index: 0, x: i, y: 0 });
  store.undo();
  store.undo();
  store.undo();
  assert.equal(store.doc.boxes[0]?.x, 2);
});

test("selecting announces the box; selecting it again does nothing", () => {
  store.select({ kind: "box", index: 0 });
  store.select({ kind: "box", index: 0 });
  assert.deepEqual(said, ["Selected. Box 1 of 1: cat, x 0, y 0, 10 by 10 pixels"]);
  assert.equal(changes, 1);
});

test("dispose removes every listener it added", () => {
  const before = model.listeners();
  store.dispose();
  assert.equal(model.listeners(), before - 4); // value, suggestions, last_patch, history_limit
  assert.equal(model.listeners(), 0);
});
