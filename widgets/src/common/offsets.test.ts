/// <reference types="node" />
// Unit tests for offsets.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { OffsetIndex, codePointToUtf16, utf16ToCodePoint } from "./offsets";

// Expected values below were computed with CPython (`len(t)`, `t.index(...)`, `t[s:e]`).
const MIXED = "Hi 👋🏽, 東京で𠀋を見た. Café = Cafe\u0301 👨‍👩‍👧 🇫🇷!";

/** Python's view of a string: one entry per code point (no lone surrogates in these tests). */
function codePoints(text: string): string[] {
  return Array.from(text);
}

/** Slices like Python's `text[start:end]` via the index. */
function pySlice(index: OffsetIndex, text: string, start: number, end: number): string {
  return text.slice(index.toUtf16(start), index.toUtf16(end));
}

describe("OffsetIndex", () => {
  test("lengths match Python len() and JavaScript .length", () => {
    const index = new OffsetIndex(MIXED);
    assert.equal(index.codePointLength, 38);
    assert.equal(index.utf16Length, 46);
  });

  test("ASCII offsets are unchanged", () => {
    const index = new OffsetIndex("plain text");
    for (let i = 0; i <= 10; i++) {
      assert.equal(index.toUtf16(i), i);
      assert.equal(index.toCodePoint(i), i);
    }
  });

  test("emoji (surrogate pairs) shift later offsets by one unit each", () => {
    const index = new OffsetIndex("a😀b😀c");
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => index.toUtf16(i)),
      [0, 1, 3, 4, 6, 7],
    );
    assert.deepEqual(
      [0, 1, 3, 4, 6, 7].map((u) => index.toCodePoint(u)),
      [0, 1, 2, 3, 4, 5],
    );
  });

  test("an offset inside a surrogate pair maps to the start of its character", () => {
    const index = new OffsetIndex("a😀b");
    assert.equal(index.toCodePoint(2), 1);
  });

  test("Python slices of mixed text come out the same in JavaScript", () => {
    const index = new OffsetIndex(MIXED);
    assert.equal(pySlice(index, MIXED, 7, 9), "東京");
    assert.equal(pySlice(index, MIXED, 10, 11), "𠀋"); // CJK Extension B: outside the BMP
    assert.equal(pySlice(index, MIXED, 23, 28), "Cafe\u0301"); // combining mark: own code point
    assert.equal(pySlice(index, MIXED, 29, 34), "👨‍👩‍👧"); // ZWJ sequence: five code points
    assert.equal(pySlice(index, MIXED, 35, 37), "🇫🇷"); // flag: two regional indicators
  });

  test("BMP CJK and combining marks need no conversion", () => {
    const text = "東京タワー e\u0301\u0302 한국어";
    const index = new OffsetIndex(text);
    assert.equal(index.codePointLength, text.length);
    for (let i = 0; i <= text.length; i++) assert.equal(index.toUtf16(i), i);
  });

  test("every offset round-trips", () => {
    const long = `${"é😀東".repeat(500)}end`;
    const samples = [MIXED, "", "😀", "😀😀😀", "x👋🏽y", "𠀋𠀌𠀍abc", long];
    for (const text of samples) {
      const index = new OffsetIndex(text);
      const chars = codePoints(text);
      assert.equal(index.codePointLength, chars.length);
      let unit = 0;
      for (let cp = 0; cp <= chars.length; cp++) {
        assert.equal(index.toUtf16(cp), unit, `toUtf16(${cp}) of ${JSON.stringify(text)}`);
        assert.equal(index.toCodePoint(unit), cp, `toCodePoint(${unit})`);
        unit += chars[cp]?.length ?? 0;
      }
      assert.equal(unit, text.length);
    }
  });

  test("a lone surrogate counts as one in both units, like in Python", () => {
    const text = "a\uD83Db\uDE00c";
    const index = new OffsetIndex(text);
    assert.equal(index.codePointLength, 5);
    assert.equal(index.toUtf16(4), 4);
  });

  test("offsets outside the text throw a RangeError", () => {
    const index = new OffsetIndex("a😀");
    assert.throws(() => index.toUtf16(3), RangeError);
    assert.throws(() => index.toUtf16(-1), RangeError);
    assert.throws(() => index.toCodePoint(4), RangeError);
    assert.throws(() => index.toCodePoint(1.5), RangeError);
  });

  test("one-off helpers agree with the index", () => {
    assert.equal(codePointToUtf16(MIXED, 38), 46);
    assert.equal(utf16ToCodePoint(MIXED, 46), 38);
  });
});
