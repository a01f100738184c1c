/// <reference types="node" />
// Unit tests for geometry.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  MAX_SCALE,
  type Rect,
  clampPoint,
  clampRect,
  fitViewport,
  handlePosition,
  handlesFor,
  hitBox,
  hitHandle,
  intersectsStage,
  moveRect,
  panBy,
  rectFromCorners,
  rectToDisplay,
  stageHeight,
  resizeRect,
  toDisplay,
  toNatural,
  wheelZooms,
  wheelFactor,
  zoomAt,
} from "./geometry";

const IMAGE = { width: 4000, height: 3000 };
function rect(x: number, y: number, width: number, height: number): Rect {
  return { x, y, width, height };
}

describe("display <-> natural", () => {
  test("a 4000x3000 image fits an 800x600 stage at scale 0.2", () => {
    assert.deepEqual(fitViewport(IMAGE, { width: 800, height: 600 }), { scale: 0.2, x: 0, y: 0 });
  });

  test("fitting centres the image along the loose side", () => {
    const v = fitViewport(IMAGE, { width: 1000, height: 600 });
    assert.equal(v.scale, 0.2);
    assert.equal(v.x, 100);
    assert.equal(v.y, 0);
  });

  test("a small image is shown at its natural size, never enlarged", () => {
    const v = fitViewport({ width: 320, height: 240 }, { width: 954, height: 500 });
    assert.deepEqual(v, { scale: 1, x: (954 - 320) / 2, y: (500 - 240) / 2 });
  });

  test("the stage is as tall as the fitted image, within its bounds", () => {
    // A 320x240 image in a 954 px wide cell: 240 px tall, not 954 * 0.75.
    assert.equal(stageHeight(954, { width: 320, height: 240 }, 200, 600), 240);
    // A large photo is capped at the share of the window.
    assert.equal(stageHeight(954, { width: 4000, height: 3000 }, 200, 600), 600);
    // A wide strip still leaves room for the message and the toolbar.
    assert.equal(stageHeight(954, { width: 2000, height: 100 }, 200, 600), 200);
    assert.equal(stageHeight(1000, null, 200, 600), 600);
  });

  test("only Ctrl or Cmd + wheel zooms; a plain wheel scrolls", () => {
    assert.equal(wheelZooms({ ctrlKey: false, metaKey: false }), false);
    assert.equal(wheelZooms({ ctrlKey: true, metaKey: false }), true);
    assert.equal(wheelZooms({ ctrlKey: false, metaKey: true }), true);
  });

  test("an unknown size gives the identity", () => {
    assert.deepEqual(fitViewport({ width: 0, height: 0 }, { width: 800, height: 600 }), {
      scale: 1,
      x: 0,
      y: 0,
    });
  });

  test("points round-trip", () => {
    const v = { scale: 0.37, x: 12.5, y: -40 };
    const p = { x: 1234, y: 987 };
    const back = toNatural(v, toDisplay(v, p));
    assert.ok(Math.abs(back.x - p.x) < 1e-9 && Math.abs(back.y - p.y) < 1e-9);
  });

  test("a natural rect scales and shifts to display", () => {
    const v = { scale: 0.5, x: 10, y: 20 };
    assert.deepEqual(rectToDisplay(v, rect(100, 200, 40, 60)), rect(60, 120, 20, 30));
  });
});

describe("zoom and pan", () => {
  test("zooming keeps the natural point under the pointer", () => {
    const v = { scale: 0.2, x: 100, y: 0 };
    const anchor = { x: 333, y: 222 };
    const before = toNatural(v, anchor);
    const zoomed = zoomAt(v, 2.5, anchor, 0.2);
    assert.equal(zoomed.scale, 0.5);
    const after = toNatural(zoomed, anchor);
    assert.ok(Math.abs(after.x - before.x) < 1e-9 && Math.abs(after.y - before.y) < 1e-9);
  });

  test("zoom stops at MAX_SCALE and at a quarter of the fit scale", () => {
    const v = { scale: 1, x: 0, y: 0 };
    assert.equal(zoomAt(v, 1000, { x: 0, y: 0 }, 0.2).scale, MAX_SCALE);
    assert.equal(zoomAt(v, 0.0001, { x: 0, y: 0 }, 0.2).scale, 0.05);
  });

  test("wheel up zooms in, wheel down zooms out, by the same factor", () => {
    const up = wheelFactor(-100, 0);
    const down = wheelFactor(100, 0);
    assert.ok(up > 1 && down < 1);
    assert.ok(Math.abs(up * down - 1) < 1e-12);
    assert.equal(wheelFactor(-3, 1), wheelFactor(-48, 0)); // lines count as 16 px
  });

  test("pan shifts the offset only", () => {
    assert.deepEqual(panBy({ scale: 2, x: 1, y: 1 }, 5, -3), { scale: 2, x: 6, y: -2 });
  });
});

describe("rectangles", () => {
  test("corners in any order give the same rect", () => {
    const a = { x: 10, y: 50 };
    const b = { x: 40, y: 20 };
    assert.deepEqual(rectFromCorners(a, b), rect(10, 20, 30, 30));
    assert.deepEqual(rectFromCorners(b, a), rect(10, 20, 30, 30));
  });

  test("points and rects are clamped to the image", () => {
    assert.deepEqual(clampPoint({ x: -5, y: 3500 }, IMAGE), { x: 0, y: 3000 });
    assert.deepEqual(clampRect(rect(-10, 2990, 50, 50), IMAGE), rect(0, 2990, 40, 10));
    assert.deepEqual(clampRect(rect(5000, 10, 5, 5), IMAGE), rect(4000, 10, 0, 5));
  });

  test("a move stops at the image edges and keeps the size", () => {
    assert.deepEqual(moveRect(rect(10, 10, 100, 50), -30, 5, IMAGE), rect(0, 15, 100, 50));
    const corner = moveRect(rect(3800, 2900, 100, 50), 500, 500, IMAGE);
    assert.deepEqual(corner, rect(3900, 2950, 100, 50));
  });
});

describe("resize", () => {
  const box = rect(100, 100, 200, 100); // edges x 100..300, y 100..200

  test("a corner handle moves its two edges", () => {
    assert.deepEqual(resizeRect(box, "se", { x: 350, y: 260 }, IMAGE, 1), rect(100, 100, 250, 160));
    assert.deepEqual(resizeRect(box, "nw", { x: 50, y: 80 }, IMAGE, 1), rect(50, 80, 250, 120));
  });

  test("a side handle moves one edge only", () => {
    assert.deepEqual(resizeRect(box, "e", { x: 400, y: 9999 }, IMAGE, 1), rect(100, 100, 300, 100));
    assert.deepEqual(resizeRect(box, "n", { x: -50, y: 150 }, IMAGE, 1), rect(100, 150, 200, 50));
  });

  test("edges stop at the image border", () => {
    assert.deepEqual(resizeRect(box, "nw", { x: -50, y: -50 }, IMAGE, 1), rect(0, 0, 300, 200));
    const far = { x: 9000, y: 9000 };
    assert.deepEqual(resizeRect(box, "se", far, IMAGE, 1), rect(100, 100, 3900, 2900));
  });

  test("an edge stops minSize before the opposite one instead of flipping", () => {
    assert.deepEqual(resizeRect(box, "w", { x: 500, y: 150 }, IMAGE, 1), rect(299, 100, 1, 100));
    assert.deepEqual(resizeRect(box, "s", { x: 150, y: 0 }, IMAGE, 5), rect(100, 100, 200, 5));
  });

  test("a box already smaller than minSize does not shrink further", () => {
    const tiny = rect(10, 10, 0.5, 0.5);
    assert.deepEqual(resizeRect(tiny, "e", { x: 0, y: 0 }, IMAGE, 1), rect(10, 10, 0.5, 0.5));
  });
});

describe("hit testing", () => {
  test("handles sit on corners and mid-sides", () => {
    const r = rect(0, 0, 100, 50);
    assert.deepEqual(handlePosition(r, "se"), { x: 100, y: 50 });
    assert.deepEqual(handlePosition(r, "n"), { x: 50, y: 0 });
    assert.equal(hitHandle(r, { x: 103, y: 48 }, 6), "se");
    assert.equal(hitHandle(r, { x: 52, y: 2 }, 6), "n");
    assert.equal(hitHandle(r, { x: 50, y: 25 }, 6), null);
  });

  test("on a tiny box the nearest corner wins; it has no middle handles", () => {
    const r = rect(0, 0, 4, 4);
    assert.equal(hitHandle(r, { x: 4, y: 4 }, 6), "se");
    assert.equal(hitHandle(r, { x: -1, y: -1 }, 6), "nw");
    assert.equal(hitHandle(r, { x: 1, y: -1 }, 6), "nw"); // not "n": there is none
    assert.deepEqual(handlesFor(r, 32), ["nw", "ne", "se", "sw"]);
    assert.deepEqual(handlesFor(rect(0, 0, 100, 10), 32), ["nw", "n", "ne", "se", "s", "sw"]);
  });

  test("the smallest box under the point wins, so nested boxes stay reachable", () => {
    const boxes = [rect(0, 0, 100, 100), rect(10, 10, 20, 20), rect(200, 200, 5, 5)];
    assert.equal(hitBox(boxes, { x: 15, y: 15 }, 0), 1);
    assert.equal(hitBox(boxes, { x: 50, y: 50 }, 0), 0);
    assert.equal(hitBox(boxes, { x: 150, y: 150 }, 0), -1);
  });

  test("tolerance grows boxes, and among equal boxes the later (on top) wins", () => {
    const boxes = [rect(0, 0, 10, 10), rect(0, 0, 10, 10)];
    assert.equal(hitBox(boxes, { x: 12, y: 5 }, 0), -1);
    assert.equal(hitBox(boxes, { x: 12, y: 5 }, 3), 1);
  });

  test("1,000 boxes hit-test well within a frame", () => {
    const boxes = Array.from({ length: 1000 }, (_, i) =>
      rect((i % 40) * 100, Math.floor(i / 40) * 120, 80, 100),
    );
    const start = performance.now();
    for (let i = 0; i < 1000; i++) hitBox(boxes, { x: (i * 37) % 4000, y: (i * 53) % 3000 }, 2);
    const perCall = (performance.now() - start) / 1000;
    assert.ok(perCall < 1, `hitBox took ${perCall} ms per call`);
  });

  test("culling keeps rects that touch the stage", () => {
    const stage = { width: 800, height: 600 };
    assert.equal(intersectsStage(rect(-50, -50, 60, 60), stage), true);
    assert.equal(intersectsStage(rect(801, 0, 10, 10), stage), false);
  });
});
