/// <reference types="node" />
// Unit tests for gesture.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { Doc } from "./doc";
import type { Point } from "./geometry";
import {
  type EditorState,
  type Gesture,
  drag,
  gestureBox,
  inspect,
  press,
  release,
} from "./gesture";

// A 4000x3000 image shown at scale 0.2 with a 10 px margin: natural = (display - 10) * 5.
const VIEWPORT = { scale: 0.2, x: 10, y: 10 };
const DOC: Doc = {
  boxes: [{ x: 500, y: 500, width: 1000, height: 500, label: "cat" }], // display 110..310, 110..210
  // display 410..510 on both axes
  suggestions: [{ x: 2000, y: 2000, width: 500, height: 500, label: "dog", score: 0.8 }],
};
const state = (over: Partial<EditorState> = {}): EditorState => ({
  doc: DOC,
  selection: null,
  viewport: VIEWPORT,
  image: { width: 4000, height: 3000 },
  ...over,
});
const at = (x: number, y: number): Point => ({ x, y });
const add = (x: number, y: number, width: number, height: number) => ({
  op: "add",
  box: { x, y, width, height, label: "cat" },
});

/** press -> drags -> release, as the editor runs it. */
function gesture(
  s: EditorState,
  points: Point[],
  label: string | null = "cat",
  button = 0,
  panKey = false,
) {
  const first = points[0] as Point;
  const started = press(s, { point: first, button, panKey });
  let g: Gesture = started.gesture;
  const after = { ...s, selection: started.selection };
  for (const p of points.slice(1)) g = drag(g, p, after);
  return { gesture: g, ...release(g, after, label) };
}

describe("draw", () => {
  test("a drag on empty space adds a box in natural pixels", () => {
    const out = gesture(state(), [at(20, 30), at(40, 50), at(60, 90)]);
    assert.deepEqual(out.patch, add(50, 100, 200, 300));
  });

  test("dragging up and left gives the same box", () => {
    const out = gesture(state(), [at(60, 90), at(20, 30)]);
    assert.deepEqual(out.patch, add(50, 100, 200, 300));
  });

  test("a box drawn past the image edge is clamped to it", () => {
    const out = gesture(state(), [at(790, 590), at(1200, 900)]);
    assert.deepEqual(out.patch, add(3900, 2900, 100, 100));
  });

  test("a click on empty space clears the selection and adds nothing", () => {
    const selected = state({ selection: { kind: "box", index: 0 } });
    const out = gesture(selected, [at(700, 50), at(701, 51)]);
    assert.equal(out.patch, null);
    assert.equal(out.selection, null);
  });

  test("without a label nothing is drawn", () => {
    assert.equal(gesture(state(), [at(20, 30), at(60, 90)], null).patch, null);
  });

  test("the draft shows on the interaction layer only once dragging", () => {
    const started = press(state(), { point: at(20, 30), button: 0, panKey: false });
    assert.equal(gestureBox(started.gesture), null);
    const moved = drag(started.gesture, at(30, 40), state());
    const draft = { x: 50, y: 100, width: 50, height: 50 };
    assert.deepEqual(gestureBox(moved), { index: -1, rect: draft });
  });

  test("a drag starting on a suggestion draws; a click on it selects it", () => {
    const drawn = gesture(state(), [at(420, 420), at(460, 470)]);
    assert.equal(drawn.patch?.op, "add");
    const clicked = gesture(state(), [at(420, 420)]);
    assert.deepEqual(clicked.selection, { kind: "suggestion", index: 0 });
    assert.equal(clicked.patch, null);
  });
});

describe("move", () => {
  test("dragging a box moves it by whole natural pixels and selects it", () => {
    const out = gesture(state(), [at(150, 150), at(170, 140)]);
    assert.deepEqual(out.patch, { op: "move", index: 0, x: 600, y: 450 });
    assert.deepEqual(out.selection, { kind: "box", index: 0 });
  });

  test("a move stops at the image edge", () => {
    const out = gesture(state(), [at(150, 150), at(-500, -500)]);
    assert.deepEqual(out.patch, { op: "move", index: 0, x: 0, y: 0 });
  });

  test("a click on a box selects it without a patch", () => {
    const out = gesture(state(), [at(150, 150), at(151, 150)]);
    assert.equal(out.patch, null);
    assert.deepEqual(out.selection, { kind: "box", index: 0 });
  });

  test("a box on its half pixel keeps it", () => {
    const onHalf = { x: 500.5, y: 500, width: 1000, height: 500, label: "cat" };
    const half = { boxes: [onHalf], suggestions: [] };
    const out = gesture(state({ doc: half }), [at(150, 150), at(154, 150)]);
    assert.deepEqual(out.patch, { op: "move", index: 0, x: 520.5, y: 500 });
  });
});

describe("resize", () => {
  const selected = state({ selection: { kind: "box", index: 0 } });

  test("the south-east handle of the selected box resizes it", () => {
    const out = gesture(selected, [at(310, 210), at(330, 250)]);
    const grown = { x: 500, y: 500, width: 1100, height: 700 };
    assert.deepEqual(out.patch, { op: "resize", index: 0, box: grown });
  });

  test("dragging the west edge past the east one stops one pixel short", () => {
    const out = gesture(selected, [at(110, 160), at(600, 160)]);
    const thin = { x: 1499, y: 500, width: 1, height: 500 };
    assert.deepEqual(out.patch, { op: "resize", index: 0, box: thin });
  });

  test("handles of a box that is not selected are not grabbed", () => {
    const out = gesture(state(), [at(310, 210), at(330, 250)]);
    assert.equal(out.patch?.op, "move");
  });
});

describe("pan", () => {
  test("Space + drag pans and changes no box", () => {
    const out = gesture(state(), [at(150, 150), at(200, 120)], "cat", 0, true);
    assert.equal(out.patch, null);
    assert.equal(out.gesture.kind, "pan");
    const viewport = out.gesture.kind === "pan" ? out.gesture.viewport : null;
    assert.deepEqual(viewport, { scale: 0.2, x: 60, y: -20 });
  });

  test("the middle button pans", () => {
    assert.equal(gesture(state(), [at(150, 150), at(160, 160)], "cat", 1).gesture.kind, "pan");
  });
});

describe("read-only (inspect)", () => {
  /** inspect -> drags -> release, as the editor runs it in a read-only view. */
  function look(s: EditorState, points: Point[], button = 0) {
    const first = points[0] as Point;
    const started = inspect(s, { point: first, button, panKey: false });
    let g: Gesture = started.gesture;
    const after = { ...s, selection: started.selection };
    for (const p of points.slice(1)) g = drag(g, p, after);
    return { gesture: g, pressed: started.selection, ...release(g, after, "cat") };
  }

  test("a drag on empty space pans and draws nothing", () => {
    const out = look(state(), [at(20, 30), at(60, 90)]);
    assert.equal(out.patch, null);
    assert.equal(gestureBox(out.gesture), null);
    assert.deepEqual(out.gesture.kind === "pan" && out.gesture.viewport, {
      scale: 0.2,
      x: 50,
      y: 70,
    });
  });

  test("a drag on a box pans and leaves the box where it is", () => {
    const out = look(state(), [at(150, 150), at(250, 180)]);
    assert.equal(out.patch, null);
    assert.equal(out.gesture.kind, "pan");
    assert.deepEqual(out.selection, { kind: "box", index: 0 });
  });

  test("a click selects the box or the suggestion under it, or clears the selection", () => {
    assert.deepEqual(look(state(), [at(150, 150)]).selection, { kind: "box", index: 0 });
    assert.deepEqual(look(state(), [at(450, 450)]).selection, { kind: "suggestion", index: 0 });
    const selected = state({ selection: { kind: "box", index: 0 } });
    assert.equal(look(selected, [at(700, 50)]).selection, null);
  });

  test("on the selected box's handle it pans instead of resizing", () => {
    const selected = state({ selection: { kind: "box", index: 0 } });
    const out = look(selected, [at(310, 210), at(400, 300)]); // the south-east handle
    assert.equal(out.gesture.kind, "pan");
    assert.equal(out.patch, null);
  });

  test("the middle button pans and keeps the selection", () => {
    const selected = state({ selection: { kind: "suggestion", index: 0 } });
    const out = look(selected, [at(150, 150), at(160, 160)], 1);
    assert.deepEqual(out.pressed, { kind: "suggestion", index: 0 });
  });
});
