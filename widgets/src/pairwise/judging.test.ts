/// <reference types="node" />
import assert from "node:assert/strict";
import { test } from "node:test";

import { stepRow } from "./judging";

test("arrow keys move between rows and stop at the first and last", () => {
  assert.equal(stepRow(0, 1, 3), 1);
  assert.equal(stepRow(2, 1, 3), 2);
  assert.equal(stepRow(0, -1, 3), 0);
  assert.equal(stepRow(1, -1, 3), 0);
  assert.equal(stepRow(0, 1, 0), 0);
});
