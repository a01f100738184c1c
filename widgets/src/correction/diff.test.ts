import assert from "node:assert/strict";
import { test } from "node:test";

import { diffChars, diffStats, myers, sideOf } from "./diff";

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", "c", " ", "é", "😀", "中", "\n", "e\u0301"];

function randomText(next: () => number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return out;
}

function mutate(next: () => number, text: string, edits: number): string {
  const chars = Array.from(text);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (chars.length + 1));
    const r = next();
    if (r < 0.4 && chars.length > 0) chars.splice(Math.min(at, chars.length - 1), 1);
    else if (r < 0.8) chars.splice(at, 0, ALPHABET[Math.floor(next() * ALPHABET.length)] as string);
    else if (chars.length > 0) chars[Math.min(at, chars.length - 1)] = "x";
  }
  return chars.join("");
}

function checkSides(a: string, b: string): void {
  const parts = diffChars(a, b);
  assert.equal(sideOf(parts, "old"), a, `old side of ${JSON.stringify([a, b])}`);
  assert.equal(sideOf(parts, "new"), b, `new side of ${JSON.stringify([a, b])}`);
  for (let i = 1; i < parts.length; i++) assert.notEqual(parts[i]?.op, parts[i - 1]?.op, "runs are merged");
  for (const part of parts) assert.notEqual(part.text, "", "no empty runs");
}

test("a one-word correction is a deletion and an insertion", () => {
  assert.deepEqual(diffChars("capital of Spain.", "capital of France."), [
    { op: "=", text: "capital of " },
    { op: "-", text: "Spain" },
    { op: "+", text: "France" },
    { op: "=", text: "." },
  ]);
});

test("equal texts are one kept run; empty texts none", () => {
  assert.deepEqual(diffChars("same", "same"), [{ op: "=", text: "same" }]);
  assert.deepEqual(diffChars("", ""), []);
  assert.deepEqual(diffChars("", "new"), [{ op: "+", text: "new" }]);
  assert.deepEqual(diffChars("old", ""), [{ op: "-", text: "old" }]);
});

test("an emoji is never split into halves", () => {
  const parts = diffChars("a😀b", "a😁b");
  assert.deepEqual(parts, [
    { op: "=", text: "a" },
    { op: "-", text: "😀" },
    { op: "+", text: "😁" },
    { op: "=", text: "b" },
  ]);
  assert.deepEqual(diffStats(parts), { inserted: 1, deleted: 1 });
});

test("myers finds a shortest edit script", () => {
  // ABCABBA -> CBABAC needs 5 edits (Myers' own example).
  const ops = myers(Array.from("ABCABBA"), Array.from("CBABAC"), 100);
  assert.notEqual(ops, null);
  assert.equal(ops?.filter((op) => op !== "=").length, 5);
  assert.equal(myers(Array.from("abc"), Array.from("xyz"), 2), null, "over the limit");
});

test("property: both sides of random diffs give back the two texts", () => {
  const next = random(12);
  for (let i = 0; i < 500; i++) {
    const a = randomText(next, Math.floor(next() * 40));
    const b = next() < 0.5 ? mutate(next, a, Math.floor(next() * 8)) : randomText(next, Math.floor(next() * 40));
    checkSides(a, b);
  }
});

test("property: far-apart long texts fall back to words and stay exact", () => {
  const next = random(7);
  for (let i = 0; i < 5; i++) {
    const a = randomText(next, 3000);
    const b = randomText(next, 3000);
    checkSides(a, b);
  }
});

test("two 10k-character texts with scattered edits diff in about 20 ms", () => {
  const next = random(3);
  const words = ["the", "model", "said", "Paris", "is", "a", "city", "in", "France", "and"];
  let a = "";
  while (a.length < 10_000) a += `${words[Math.floor(next() * words.length)]} `;
  const b = mutate(next, a, 200);
  diffChars(a, b); // warm the JIT, as a page does on the first keystrokes
  const started = performance.now();
  const parts = diffChars(a, b);
  const ms = performance.now() - started;
  assert.equal(sideOf(parts, "new"), b);
  assert.equal(sideOf(parts, "old"), a);
  // The target is 20 ms; the bound leaves room for a loaded test machine.
  assert.ok(ms < 60, `took ${ms.toFixed(1)} ms`);
  console.log(`diff of two 10k texts with 200 edits: ${ms.toFixed(1)} ms`);
});

test("two unrelated 10k-character texts still diff quickly", () => {
  const next = random(5);
  const a = randomText(next, 10_000);
  const b = randomText(next, 10_000);
  const started = performance.now();
  const parts = diffChars(a, b);
  const ms = performance.now() - started;
  assert.equal(sideOf(parts, "new"), b);
  assert.ok(ms < 200, `took ${ms.toFixed(1)} ms`);
  console.log(`diff of two unrelated 10k texts: ${ms.toFixed(1)} ms`);
});
