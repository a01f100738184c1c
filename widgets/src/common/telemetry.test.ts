/// <reference types="node" />
// Unit tests for telemetry.ts's counter and edit attribution, run by `npm test` with node's
// built-in runner (no DOM: times are passed in).
import assert from "node:assert/strict";
import { test } from "node:test";

import type { KeyLike } from "./keys";
import { IDLE_AFTER_MS, type Summary, TelemetryCounter, noteEdit, trackTelemetry } from "./telemetry";

function key(k: string, mods: Partial<KeyLike> = {}): KeyLike {
  return { key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}

test("keys, pointer presses, undos and redos are counted", () => {
  const c = new TelemetryCounter(0);
  c.key(key("a"), 10);
  c.key(key("b"), 20);
  c.key(key("z", { ctrlKey: true }), 30);
  c.key(key("z", { ctrlKey: true }), 40);
  c.key(key("Z", { metaKey: true, shiftKey: true }), 50);
  c.key(key("y", { ctrlKey: true }), 60);
  c.pointer(70);
  c.undo(80); // the Undo button
  c.edit(90);
  const counts = c.take(100);
  assert.deepEqual(
    { keys: counts.keys, pointer: counts.pointer, edits: counts.edits },
    { keys: 6, pointer: 1, edits: 1 },
  );
  assert.deepEqual({ undos: counts.undos, redos: counts.redos }, { undos: 3, redos: 2 });
});

test("Ctrl+Z on a Cyrillic layout is an undo by its physical key", () => {
  const c = new TelemetryCounter(0);
  c.key(key("я", { ctrlKey: true, code: "KeyZ" }), 1);
  assert.equal(c.take(2).undos, 1);
});

test("time is active for 30 s after each input, idle past that", () => {
  assert.equal(IDLE_AFTER_MS, 30_000);
  const c = new TelemetryCounter(0);
  c.key(key("a"), 10_000); // 0-10 s: active (reading the task)
  c.key(key("b"), 100_000); // 10-40 s active, 40-100 s idle
  const counts = c.take(110_000); // 100-110 s active
  assert.deepEqual([counts.active_ms, counts.idle_ms], [50_000, 60_000]);
});

test("with no input at all the first 30 s are active and the rest idle", () => {
  const c = new TelemetryCounter(1_000);
  const counts = c.take(91_000);
  assert.deepEqual([counts.active_ms, counts.idle_ms], [30_000, 60_000]);
});

test("a hidden tab is idle however recent the input", () => {
  const c = new TelemetryCounter(0);
  c.key(key("a"), 1_000);
  c.visibility(true, 5_000); // hidden 5 s after the start
  c.visibility(false, 15_000); // back after 10 s: active again from here
  const counts = c.take(20_000);
  assert.deepEqual([counts.active_ms, counts.idle_ms], [10_000, 10_000]);
});

test("take returns the counts since the last take and starts again", () => {
  const c = new TelemetryCounter(0);
  assert.equal(c.worthSending, false);
  c.key(key("a"), 1_000);
  assert.equal(c.worthSending, true);
  const first = c.take(2_000);
  assert.equal(c.worthSending, false);
  c.pointer(3_000);
  const second = c.take(4_000);
  assert.deepEqual([first.keys, first.pointer, first.active_ms], [1, 0, 2_000]);
  assert.deepEqual([second.keys, second.pointer, second.active_ms], [0, 1, 2_000]);
  // Summed, the summaries cover the whole time once: nothing counted twice or lost.
  assert.equal(first.active_ms + first.idle_ms + second.active_ms + second.idle_ms, 4_000);
});

test("times are whole milliseconds and never go backwards", () => {
  const c = new TelemetryCounter(0.4);
  c.key(key("a"), 1_000.6);
  c.key(key("b"), 500); // an earlier time (clock skew between sources) adds nothing
  const counts = c.take(2_000.2);
  assert.ok(Number.isInteger(counts.active_ms) && Number.isInteger(counts.idle_ms));
  assert.equal(counts.active_ms + counts.idle_ms, 2_000);
  assert.equal(counts.keys, 2);
});

test("an edit for a model with no tracked view is ignored", () => {
  assert.doesNotThrow(() => noteEdit({}));
});

/** A keydown as the browser sends it, with node's own EventTarget standing in for the page. */
function keydown(k: string, mods: Partial<KeyLike> = {}): Event {
  return Object.assign(new Event("keydown"), { repeat: false, isComposing: false, ...key(k, mods) });
}

test("a label key pressed before the undo's timer fires is still an edit", () => {
  const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
  const root = Object.assign(new EventTarget(), { ownerDocument: doc }) as unknown as HTMLElement;
  const sent: Summary[] = [];
  const nonces = new Map<string, () => void>();
  const model = {
    send: (msg: { telemetry: Summary }) => sent.push(msg.telemetry),
    on: (event: string, handler: () => void) => nonces.set(event, handler),
    off: (event: string) => nonces.delete(event),
  };
  const telemetry = trackTelemetry(root, model as never);
  // The editor's handler, registered after telemetry's: every key here sends a patch.
  root.addEventListener("keydown", () => noteEdit(model));
  root.dispatchEvent(keydown("1"));
  root.dispatchEvent(keydown("z", { ctrlKey: true })); // its patch is the undo's, not an edit
  root.dispatchEvent(keydown("3")); // at once: the browser may run queued input before timers
  nonces.get("change:submit_count")?.();
  telemetry.dispose();
  assert.deepEqual(
    sent.map((s) => [s.reason, s.keys, s.edits, s.undos]),
    [["submit", 3, 2, 1]],
  );
});
