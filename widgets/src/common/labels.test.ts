/// <reference types="node" />
// Unit tests for labels.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { PALETTE, type Span, labelColors, readableTextColor } from "./labels";

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
