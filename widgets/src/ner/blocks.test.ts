/// <reference types="node" />
// Unit tests for blocks.ts (the virtualization arithmetic), run by `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { type Range, blockAt, clipToBlock, rangesByBlock, splitBlocks } from "./blocks";

test("blocks cover the text exactly, in order", () => {
  const text = "word ".repeat(5000);
  const blocks = splitBlocks(text, 1000);
  assert.equal(blocks[0]?.start, 0);
  assert.equal(blocks[blocks.length - 1]?.end, text.length);
  for (let i = 1; i < blocks.length; i++) assert.equal(blocks[i]?.start, blocks[i - 1]?.end);
  for (const block of blocks) assert.ok(block.end - block.start <= 1000);
});

test("a block ends after a line break or a space, never inside a word", () => {
  const text = `${"a".repeat(900)}\n${"b".repeat(50)} ${"c".repeat(400)}`;
  const blocks = splitBlocks(text, 1000);
  assert.equal(blocks[0]?.end, 901); // after the line break
  const spaced = `${"abcd ".repeat(300)}`;
  for (const block of splitBlocks(spaced, 1000).slice(0, -1)) {
    assert.equal(spaced[block.end - 1], " ");
  }
});

test("without any space a block still keeps surrogate pairs whole", () => {
  const text = "😀".repeat(1000); // 2000 UTF-16 units, no space
  for (const block of splitBlocks(text, 999)) {
    assert.equal(block.start % 2, 0);
    assert.equal(block.end % 2, 0);
  }
});

test("blockAt finds the block of an offset; the end belongs to the last block", () => {
  const blocks = [
    { start: 0, end: 10 },
    { start: 10, end: 25 },
    { start: 25, end: 30 },
  ];
  assert.deepEqual([0, 9, 10, 24, 25, 30].map((o) => blockAt(blocks, o)), [0, 0, 1, 1, 2, 2]);
});

test("a range over a block boundary is drawn in each block it covers", () => {
  const blocks = [
    { start: 0, end: 10 },
    { start: 10, end: 20 },
    { start: 20, end: 30 },
  ];
  const ranges = [
    { start: 2, end: 4 },
    { start: 8, end: 22 },
    { start: 20, end: 30 },
  ];
  assert.deepEqual(rangesByBlock(blocks, ranges), [[0, 1], [1], [1, 2]]);
  const [middle, long] = [blocks[1], ranges[1]] as [Range, Range];
  assert.deepEqual(clipToBlock(middle, [long]), [{ start: 0, end: 10 }]);
});

// Its speed is measured in benchmarks/widgets_browser.py, not here: a timed unit test fails on a
// busy machine while the code is fine.
test("100,000 words and 5,000 spans: every span is indexed in each block it touches", () => {
  const text = Array.from({ length: 100_000 }, (_, i) => `w${i % 997}`).join(" ");
  const ranges = Array.from({ length: 5000 }, (_, i) => ({ start: i * 97, end: i * 97 + 5 }));
  assert.ok(ranges.every((r) => r.end <= text.length));
  const blocks = splitBlocks(text);
  const byBlock = rangesByBlock(blocks, ranges);
  assert.equal(byBlock.length, blocks.length);
  ranges.forEach((range, index) => {
    const touched = blocks.flatMap((b, i) => (b.start < range.end && range.start < b.end ? [i] : []));
    const indexedIn = byBlock.flatMap((ids, i) => (ids.includes(index) ? [i] : []));
    assert.deepEqual(indexedIn, touched, `span ${index}`);
  });
});
