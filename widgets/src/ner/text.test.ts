/// <reference types="node" />
// Unit tests for text.ts (caret moves and word snapping), run by `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { lineEnd, lineStart, snapToWords, stepGrapheme, stepWord, trimSpace } from "./text";

test("a grapheme step crosses a flag, an emoji family and a combining mark in one go", () => {
  const text = "a🇬🇧b👨‍👩‍👧ce\u0301";
  const stops: number[] = [0];
  for (let at = 0; at < text.length; ) stops.push((at = stepGrapheme(text, at, true)));
  assert.deepEqual(stops, [0, 1, 5, 6, 14, 15, 17]);
  const back: number[] = [text.length];
  for (let at = text.length; at > 0; ) back.push((at = stepGrapheme(text, at, false)));
  assert.deepEqual(back, [...stops].reverse());
});

test("word steps go to the end of the next word and the start of the previous one", () => {
  const text = "Ada met  Charles, today.";
  assert.equal(stepWord(text, 0, true), 3);
  assert.equal(stepWord(text, 3, true), 7);
  assert.equal(stepWord(text, 7, true), 16);
  assert.equal(stepWord(text, 16, false), 9);
  assert.equal(stepWord(text, 9, false), 4);
  assert.equal(stepWord(text, text.length, true), text.length);
  assert.equal(stepWord(text, 0, false), 0);
});

test("a word longer than the segmenting window is still one step", () => {
  const text = `x ${"a".repeat(2000)} y`;
  assert.equal(stepWord(text, 2, true), 2002);
  assert.equal(stepWord(text, 2002, false), 2);
});

test("snapping grows a selection to whole words and trims spaces", () => {
  const text = "Ada Lovelace met Charles Babbage.";
  assert.deepEqual(snapToWords(text, 5, 10), { start: 4, end: 12 }); // "velac" -> "Lovelace"
  assert.deepEqual(snapToWords(text, 3, 17), { start: 4, end: 16 }); // " Lovelace met " trimmed
  assert.deepEqual(snapToWords(text, 25, 33), { start: 25, end: 33 }); // punctuation kept
  assert.equal(snapToWords(text, 3, 4), null); // only a space
});

test("snapping in CJK uses the engine's words, not the whole run of letters", () => {
  const text = "我住在東京都的新宿。";
  const snapped = snapToWords(text, 3, 4); // inside 東京都
  assert.ok(snapped !== null);
  assert.ok(snapped.start >= 3 && snapped.end <= 9, JSON.stringify(snapped));
});

test("snapping after emoji works in UTF-16 offsets", () => {
  const text = "😀 hello world";
  assert.deepEqual(snapToWords(text, 4, 6), { start: 3, end: 8 });
});

test("trimSpace only trims", () => {
  assert.deepEqual(trimSpace(" ab c ", 0, 6), { start: 1, end: 5 });
  assert.equal(trimSpace("   ", 0, 3), null);
});

test("line starts and ends", () => {
  const text = "one\ntwo\n\nfour";
  assert.equal(lineStart(text, 5), 4);
  assert.equal(lineEnd(text, 5), 7);
  assert.equal(lineStart(text, 9), 9);
  assert.equal(lineEnd(text, 10), text.length);
});
