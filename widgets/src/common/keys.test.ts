/// <reference types="node" />
// Unit tests for keys.ts, run by `npm test` with node's built-in runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  type KeyLike,
  SUPPRESS_SHORTCUTS,
  bumpNonce,
  guardShortcuts,
  isPlainKey,
  isRedo,
  isSaveDraft,
  isSkip,
  isSubmit,
  isUndo,
} from "./keys";

function key(k: string, mods: Partial<KeyLike> = {}): KeyLike {
  return { key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}

test("Ctrl+Z and Cmd+Z undo; with Shift they redo", () => {
  assert.equal(isUndo(key("z", { ctrlKey: true })), true);
  assert.equal(isUndo(key("z", { metaKey: true })), true);
  assert.equal(isUndo(key("Z", { ctrlKey: true, shiftKey: true })), false);
  assert.equal(isRedo(key("Z", { ctrlKey: true, shiftKey: true })), true);
  assert.equal(isRedo(key("z", { metaKey: true, shiftKey: true })), true);
  assert.equal(isRedo(key("z", { ctrlKey: true })), false);
});

test("Ctrl+Y redoes; a bare z or y does neither", () => {
  assert.equal(isRedo(key("y", { ctrlKey: true })), true);
  assert.equal(isUndo(key("z")), false);
  assert.equal(isRedo(key("y")), false);
  assert.equal(isUndo(key("z", { ctrlKey: true, altKey: true })), false);
});

test("on a Cyrillic layout the physical Z key still undoes", () => {
  assert.equal(isUndo(key("я", { ctrlKey: true, code: "KeyZ" })), true);
  assert.equal(isRedo(key("Я", { ctrlKey: true, shiftKey: true, code: "KeyZ" })), true);
  assert.equal(isUndo(key("ч", { ctrlKey: true, code: "KeyX" })), false);
});

test("Ctrl+Enter or Cmd+Enter submits; Enter and Shift+Enter do not", () => {
  assert.equal(isSubmit(key("Enter", { ctrlKey: true })), true);
  assert.equal(isSubmit(key("Enter", { metaKey: true })), true);
  assert.equal(isSubmit(key("Enter")), false);
  assert.equal(isSubmit(key("Enter", { shiftKey: true })), false);
  assert.equal(isSubmit(key("Enter", { ctrlKey: true, shiftKey: true })), false);
});

test("Escape alone skips", () => {
  assert.equal(isSkip(key("Escape")), true);
  assert.equal(isSkip(key("Escape", { shiftKey: true })), false);
  assert.equal(isSkip(key("Escape", { ctrlKey: true })), false);
  assert.equal(isSkip(key("Esc")), false);
});

test("plain keys are hotkey candidates; chords are not", () => {
  assert.equal(isPlainKey(key("1")), true);
  assert.equal(isPlainKey(key("P", { shiftKey: true })), true);
  assert.equal(isPlainKey(key("1", { ctrlKey: true })), false);
  assert.equal(isPlainKey(key("1", { altKey: true })), false);
});

/** Enough of an element for guardShortcuts: attributes, listeners, children, a document. */
class FakeElement {
  readonly attrs = new Map<string, string>();
  readonly listeners = new Map<string, EventListener>();
  readonly children: FakeElement[] = [];
  ownerDocument: { activeElement: FakeElement | null } = { activeElement: null };
  constructor(children: FakeElement[] = []) {
    this.children = children;
  }
  addEventListener(type: string, listener: EventListener): void {
    this.listeners.set(type, listener);
  }
  removeEventListener(type: string, listener: EventListener): void {
    if (this.listeners.get(type) === listener) this.listeners.delete(type);
  }
  getAttribute(name: string): string | null {
    return this.attrs.get(name) ?? null;
  }
  setAttribute(name: string, value: string): void {
    this.attrs.set(name, value);
  }
  removeAttribute(name: string): void {
    this.attrs.delete(name);
  }
  hasAttribute(name: string): boolean {
    return this.attrs.has(name);
  }
  contains(other: FakeElement): boolean {
    return other === this || this.children.some((child) => child.contains(other));
  }
  /** Dispatches a focus event from `target` as it bubbles to this element. */
  fire(type: string, target: FakeElement): void {
    this.listeners.get(type)?.({ target, stopPropagation() {} } as unknown as Event);
  }
}

// guardShortcuts tests `event.target instanceof Element`; node has no DOM, so lend it one.
(globalThis as { Element?: unknown }).Element ??= FakeElement;

test("the focused element inside the widget carries Lumino's attribute, until focus leaves", () => {
  const text = new FakeElement();
  const button = new FakeElement();
  const root = new FakeElement([text, button]);
  const cleanup = guardShortcuts(root as unknown as HTMLElement);
  assert.equal(root.hasAttribute(SUPPRESS_SHORTCUTS), true);
  root.fire("focusin", text);
  assert.equal(text.hasAttribute(SUPPRESS_SHORTCUTS), true);
  root.fire("focusout", text);
  root.fire("focusin", button);
  assert.equal(text.hasAttribute(SUPPRESS_SHORTCUTS), false);
  assert.equal(button.hasAttribute(SUPPRESS_SHORTCUTS), true);
  cleanup();
  assert.equal(button.hasAttribute(SUPPRESS_SHORTCUTS), false);
  assert.equal(root.hasAttribute(SUPPRESS_SHORTCUTS), false);
  assert.equal(root.listeners.size, 0);
});

test("focus already inside the widget is guarded at once", () => {
  const text = new FakeElement();
  const root = new FakeElement([text]);
  root.ownerDocument = { activeElement: text };
  guardShortcuts(root as unknown as HTMLElement);
  assert.equal(text.hasAttribute(SUPPRESS_SHORTCUTS), true);
});

test("an attribute that was there before the guard stays after it", () => {
  const root = new FakeElement();
  root.setAttribute(SUPPRESS_SHORTCUTS, "outer");
  guardShortcuts(root as unknown as HTMLElement)();
  assert.equal(root.getAttribute(SUPPRESS_SHORTCUTS), "outer");
});

test("bumpNonce adds one and saves, every time", () => {
  const state: Record<string, unknown> = { submit_count: 4 };
  let saves = 0;
  const model = {
    get: (name: string) => state[name],
    set: (name: string, value: unknown) => {
      state[name] = value;
    },
    save_changes: () => {
      saves += 1;
    },
  };
  bumpNonce(model as never, "submit_count");
  bumpNonce(model as never, "submit_count");
  bumpNonce(model as never, "skip_count");
  assert.deepEqual(state, { submit_count: 6, skip_count: 1 });
  assert.equal(saves, 3);
});

test("Ctrl+S or Cmd+S saves a draft, on any layout; with Shift or Alt it does not", () => {
  assert.equal(isSaveDraft(key("s", { ctrlKey: true })), true);
  assert.equal(isSaveDraft(key("s", { metaKey: true })), true);
  assert.equal(isSaveDraft(key("ы", { ctrlKey: true, code: "KeyS" })), true);
  assert.equal(isSaveDraft(key("S", { ctrlKey: true, shiftKey: true })), false);
  assert.equal(isSaveDraft(key("s", { ctrlKey: true, altKey: true })), false);
  assert.equal(isSaveDraft(key("s")), false);
});
