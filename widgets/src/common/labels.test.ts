/// <reference types="node" />
// Unit tests for labels.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MIN_TEXT_CONTRAST,
  PALETTE,
  type Span,
  contrastWithBlack,
  labelColor,
  labelColors,
  readableTextColor,
} from "./labels";

const span = (label: string): Span => ({ start: 0, end: 1, label, score: null });

test("declared labels keep their colours; undeclared ones continue the palette", () => {
  const declared = [{ name: "PER", color: "#123456" }];
  const colors = labelColors(declared, [span("ORG"), span("PER"), span("LOC")]);
  assert.deepEqual([...colors], [
    ["PER", "#123456"],
    ["ORG", PALETTE[1]],
    ["LOC", PALETTE[2]],
  ]);
});

test("text is black on light colours and white on dark ones", () => {
  for (const color of PALETTE) assert.equal(readableTextColor(color), "#000000", color);
  assert.equal(readableTextColor("#1f2d3d"), "#ffffff");
  assert.equal(readableTextColor("tomato"), null);
});

test("label colours never repeat and keep black text readable, for any number of labels", () => {
  const colors = Array.from({ length: 200 }, (_, i) => labelColor(i));
  assert.equal(new Set(colors).size, 200);
  assert.deepEqual(colors.slice(0, 10), [...PALETTE]);
  for (const color of colors) {
    assert.ok(contrastWithBlack(color) >= MIN_TEXT_CONTRAST, color);
    assert.equal(readableTextColor(color), "#000000", color);
  }
  // The same values as tests/test_schema.py: Python and the widgets colour labels alike.
  assert.deepEqual(colors.slice(10, 14), ["#ecb4ac", "#83e2aa", "#d9acec", "#e2e183"]);
});

test("undeclared labels past the tenth get new colours, not the palette again", () => {
  const declared = PALETTE.map((color, i) => ({ name: `L${i}`, color }));
  const colors = labelColors(declared, [span("NEW")]);
  assert.equal(colors.get("NEW"), "#ecb4ac");
});
