import assert from "node:assert/strict";
import { test } from "node:test";

import { encodeSpans } from "../ner/wire";
import { caption, commentsOf } from "./comments";

test("comments are read by span key from the wire form", () => {
  const spans = [
    { start: 0, end: 6, label: "mislabeling" },
    { start: 8, end: 14, label: "hallucination" },
  ];
  const wire = { ...encodeSpans(spans), comments: ["a place, not a person", ""] };
  const found = commentsOf(wire);
  assert.equal(found.get("0:6:mislabeling"), "a place, not a person");
  assert.equal(found.get("8:14:hallucination"), "");
  assert.equal(found.size, 2);
});

test("a wire form without comments gives empty comments", () => {
  const found = commentsOf(encodeSpans([{ start: 1, end: 2, label: "x" }]));
  assert.equal(found.get("1:2:x"), "");
});

test("a plain list keeps its comments", () => {
  const found = commentsOf([{ start: 1, end: 2, label: "x", comment: "why" }]);
  assert.equal(found.get("1:2:x"), "why");
});

test("the caption quotes the span's words, cut when long", () => {
  const text = "PERSON: Empire State Building";
  assert.equal(caption(text, { start: 0, end: 6, label: "mislabeling" }, (i) => i), "mislabeling “PERSON”");
  const long = "x".repeat(100);
  assert.equal(caption(long, { start: 0, end: 100, label: "y" }, (i) => i).length, 'y “'.length + 60 + 1);
});
