/// <reference types="node" />
// Unit tests for wire.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeSpans, encodeSpans } from "./wire";

test("spans survive the wire form, scores and all", () => {
  const spans = [
    { start: 0, end: 3, label: "PER", score: 0.25 },
    { start: 4, end: 9, label: "東京" },
    { start: 2 ** 40, end: 2 ** 40 + 1, label: "PER" },
  ];
  assert.deepEqual(decodeSpans(encodeSpans(spans)), spans);
});

test("Python's bytes read the same: little-endian float64 and uint32", () => {
  // encode_spans([{"start": 1, "end": 2, "label": "A"}]) in Python, byte for byte.
  const bytes = (hex: string): DataView => new DataView(Uint8Array.from(Buffer.from(hex, "hex")).buffer);
  const wire = {
    count: 1,
    labels: ["A"],
    label: bytes("00000000"),
    start: bytes("000000000000f03f"),
    end: bytes("0000000000000040"),
    score: null,
  };
  assert.deepEqual(decodeSpans(wire), [{ start: 1, end: 2, label: "A" }]);
});

test("a plain list and nothing at all pass through", () => {
  assert.deepEqual(decodeSpans([{ start: 0, end: 1, label: "X" }]), [{ start: 0, end: 1, label: "X" }]);
  assert.deepEqual(decodeSpans(null), []);
});
