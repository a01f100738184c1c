/**
 * A bounded undo/redo history of snapshots. Pure (no DOM), so it is unit-tested under node.
 *
 * Widgets store whole snapshots of their small editable state (a list of spans, a set of
 * chosen labels) rather than inverse operations: undo then needs no per-operation code, and a
 * bounded history keeps the memory bounded too. Snapshots must be immutable values (the caller
 * never mutates one after recording it).
 */
export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  private max: number;

  /** Keeps at most `limit` undo steps (0 keeps none); older steps are dropped first. */
  constructor(limit: number) {
    this.max = clampLimit(limit);
  }

  /** The bound on undo steps; lowering it drops the oldest steps at once. */
  get limit(): number {
    return this.max;
  }

  set limit(limit: number) {
    this.max = clampLimit(limit);
    this.trim();
  }

  /** Call with the state as it was *before* each change; a new change clears the redo steps. */
  record(before: T): void {
    this.future = [];
    if (this.max === 0) return;
    this.past.push(before);
    this.trim();
  }

  /** The state to go back to, or undefined when there is none; `current` becomes redoable. */
  undo(current: T): T | undefined {
    const previous = this.past.pop();
    if (previous === undefined) return undefined;
    this.future.push(current);
    return previous;
  }

  /** The state undone last, or undefined when there is none; `current` becomes undoable. */
  redo(current: T): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(current);
    this.trim();
    return next;
  }

  /**
   * Forgets the last recorded step without making it redoable: for a change that was refused
   * (by Python's validation) after it was recorded, so undo does not step to an equal state.
   */
  discardLast(): T | undefined {
    return this.past.pop();
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  private trim(): void {
    const excess = this.past.length - this.max;
    if (excess > 0) this.past.splice(0, excess);
  }
}

// A negative, fractional or NaN limit from a hand-edited model must not break the widget.
function clampLimit(limit: number): number {
  return Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 0;
}
