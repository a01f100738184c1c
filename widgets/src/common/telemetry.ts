/**
 * Telemetry: how the annotator works on the task on screen, summed in the page and sent to
 * Python as a small summary, never one message per event.
 *
 * Counted per view (a view shows one task; the annotation loop makes a widget per task):
 * - `keys`: key presses inside the widget (Ctrl+Z and the like included);
 * - `pointer`: mouse, pen or touch presses inside the widget;
 * - `edits`: changes sent to Python as patches, except those an undo or redo makes;
 * - `undos`, `redos`: Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y) inside the widget and the Undo / Redo
 *   buttons, whether or not there was a step to undo (the annotator asked for it);
 * - `active_ms`, `idle_ms`: the time split in two. After each input the annotator counts as
 *   active for up to IDLE_AFTER_MS (30 s); time past that with no input is idle, and so is all
 *   the time the browser tab is hidden. Reading a task counts as active for those 30 s.
 *
 * A summary holds the counts since the previous one and a `batch_id` made here, which the
 * store keys on: a summary written twice is stored once. It goes out as the custom message
 * `{telemetry: {...}}` just before Submit, Save draft and Skip reach Python (on the nonce's
 * change, which fires before `save_changes` sends it, so Python has the summary when its
 * callback runs), and every INTERVAL_MS while there was input since the last one.
 *
 * `TelemetryCounter` is pure (times are passed in), so node unit-tests it; `trackTelemetry`
 * wires it to a widget's root element and model.
 */
import type { AnyModel } from "@anywidget/types";

import { type KeyLike, isRedo, isUndo } from "./keys";
import { uuid4 } from "./uuid";

/** No input for this long and the annotator counts as idle. */
export const IDLE_AFTER_MS = 30_000;
/** How often a summary goes out while the annotator works (only if there was input). */
export const INTERVAL_MS = 60_000;

export interface Counts {
  active_ms: number;
  idle_ms: number;
  keys: number;
  pointer: number;
  edits: number;
  undos: number;
  redos: number;
}

/** Why a summary was sent; Python accepts only these. */
export type Reason = "submit" | "draft" | "skip" | "interval";

export interface Summary extends Counts {
  batch_id: string;
  reason: Reason;
}

function zero(): Counts {
  return { active_ms: 0, idle_ms: 0, keys: 0, pointer: 0, edits: 0, undos: 0, redos: 0 };
}

/** The counts and the active/idle clock of one view. Times are milliseconds, from any origin. */
export class TelemetryCounter {
  private counts: Counts = zero();
  /** Time before this is already split into active and idle. */
  private mark: number;
  /** The last input (or the start, or the tab coming back): active until IDLE_AFTER_MS after. */
  private lastInput: number;
  private hidden = false;
  private fresh = false;
  private readonly idleAfter: number;

  constructor(now: number, idleAfter: number = IDLE_AFTER_MS) {
    this.mark = Math.round(now);
    this.lastInput = now;
    this.idleAfter = Math.max(0, idleAfter);
  }

  /** True when there was input since the last summary: a periodic one is worth sending. */
  get worthSending(): boolean {
    return this.fresh;
  }

  /** When the last input came (for telling which of two views an edit belongs to). */
  get lastInputAt(): number {
    return this.lastInput;
  }

  /** A key press; Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y also count as an undo or a redo. */
  key(e: KeyLike, now: number): void {
    this.input(now);
    this.counts.keys += 1;
    if (isUndo(e)) this.counts.undos += 1;
    else if (isRedo(e)) this.counts.redos += 1;
  }

  /** A mouse, pen or touch press. */
  pointer(now: number): void {
    this.input(now);
    this.counts.pointer += 1;
  }

  /** The Undo button (its press was counted as a pointer action already). */
  undo(now: number): void {
    this.input(now);
    this.counts.undos += 1;
  }

  /** The Redo button. */
  redo(now: number): void {
    this.input(now);
    this.counts.redos += 1;
  }

  /** A change sent to Python (not one made by undo or redo: the caller leaves those out). */
  edit(now: number): void {
    this.input(now);
    this.counts.edits += 1;
  }

  /** The tab was hidden or shown again: hidden time is idle time. */
  visibility(hidden: boolean, now: number): void {
    this.advance(now);
    if (this.hidden && !hidden) this.lastInput = now; // back: active again for a while
    this.hidden = hidden;
  }

  /** The counts since the last call (whole milliseconds), and a fresh start from `now`. */
  take(now: number): Counts {
    this.advance(now);
    const taken = this.counts;
    this.counts = zero();
    this.fresh = false;
    return taken;
  }

  private input(now: number): void {
    this.advance(now);
    this.lastInput = Math.max(this.lastInput, now);
    this.fresh = true;
  }

  /** Splits the time from `mark` to `now` into active and idle. */
  private advance(now: number): void {
    const end = Math.round(now);
    if (end <= this.mark) return;
    if (this.hidden) {
      this.counts.idle_ms += end - this.mark;
    } else {
      const activeUntil = Math.min(end, Math.max(this.mark, Math.round(this.lastInput + this.idleAfter)));
      this.counts.active_ms += activeUntil - this.mark;
      this.counts.idle_ms += end - activeUntil;
    }
    this.mark = end;
  }
}

/** The model parts telemetry uses: custom messages out, and the action nonces' changes. */
export type TelemetryModel = Pick<AnyModel, "send" | "on" | "off">;

export interface Telemetry {
  /** The Undo / Redo buttons call these around their action, which may send a patch. */
  undo(run: () => void): void;
  redo(run: () => void): void;
  dispose(): void;
}

interface Tracker {
  counter: TelemetryCounter;
  /** True while an undo or redo runs: its patch is not an edit. */
  replaying(): boolean;
}

// The views of each model (a widget displayed twice has two): PatchChannel reports an edit by
// its model, and the view that had the last input is the one the annotator is working in.
const trackers = new WeakMap<object, Set<Tracker>>();

/** Counts one edit for `model`'s view in use; PatchChannel calls this for each patch sent. */
export function noteEdit(model: object): void {
  const views = trackers.get(model);
  if (views === undefined || views.size === 0) return;
  let latest: Tracker | undefined;
  for (const view of views) {
    if (latest === undefined || view.counter.lastInputAt > latest.counter.lastInputAt) latest = view;
  }
  if (latest !== undefined && !latest.replaying()) latest.counter.edit(clock());
}

const NONCES: ReadonlyArray<[string, Reason]> = [
  ["change:submit_count", "submit"],
  ["change:draft_count", "draft"],
  ["change:skip_count", "skip"],
];

/**
 * Counts input inside `root` and sends summaries over `model`'s custom messages; the action
 * bar starts one per view, so every annotation widget has it. `dispose` removes every listener
 * and the timer.
 */
export function trackTelemetry(
  root: HTMLElement,
  model: TelemetryModel,
  options: { idleAfterMs?: number; intervalMs?: number } = {},
): Telemetry {
  const counter = new TelemetryCounter(clock(), options.idleAfterMs ?? IDLE_AFTER_MS);
  let replaying = false;
  const tracker: Tracker = { counter, replaying: () => replaying };
  const views = trackers.get(model) ?? new Set<Tracker>();
  views.add(tracker);
  trackers.set(model, views);

  // The editor's own keydown handler runs after this capture-phase one, in the same dispatch,
  // and sends the undo's patch from there: the flag covers it. The next input clears it
  // before its own handlers run (the browser may dispatch a queued key before any timer), and
  // a timer clears it when no input follows.
  const onKey = (e: KeyboardEvent): void => {
    const undoing = isUndo(e) || isRedo(e);
    replaying = undoing; // a held Ctrl+Z's repeats undo too: their patches are not edits
    if (undoing) {
      setTimeout(() => {
        replaying = false;
      }, 0);
    }
    if (e.repeat && undoing) return; // a held Ctrl+Z is one request
    counter.key(e, clock());
  };
  const onPointer = (): void => {
    replaying = false;
    counter.pointer(clock());
  };
  const doc = root.ownerDocument;
  const onVisibility = (): void => counter.visibility(doc.visibilityState === "hidden", clock());
  const send = (reason: Reason): void => {
    const summary: Summary = { batch_id: uuid4(), reason, ...counter.take(clock()) };
    model.send({ telemetry: summary });
  };
  const onNonce = NONCES.map(([event, reason]) => [event, () => send(reason)] as const);
  root.addEventListener("keydown", onKey, true);
  root.addEventListener("pointerdown", onPointer, true);
  doc.addEventListener("visibilitychange", onVisibility);
  for (const [event, handler] of onNonce) model.on(event, handler);
  if (doc.visibilityState === "hidden") counter.visibility(true, clock());
  const timer = setInterval(() => {
    if (counter.worthSending) send("interval");
  }, options.intervalMs ?? INTERVAL_MS);

  const around = (record: (now: number) => void, run: () => void): void => {
    record(clock());
    replaying = true;
    try {
      run();
    } finally {
      replaying = false;
    }
  };
  return {
    undo: (run) => around((now) => counter.undo(now), run),
    redo: (run) => around((now) => counter.redo(now), run),
    dispose(): void {
      clearInterval(timer);
      root.removeEventListener("keydown", onKey, true);
      root.removeEventListener("pointerdown", onPointer, true);
      doc.removeEventListener("visibilitychange", onVisibility);
      for (const [event, handler] of onNonce) model.off(event, handler);
      views.delete(tracker);
    },
  };
}

function clock(): number {
  return typeof performance === "undefined" ? Date.now() : performance.now();
}
