/**
 * Edits go to Python as patches: custom messages `{op, ..., uuid}` that Python validates and
 * applies to its traitlets, then answers `{uuid, ok: true}` or `{uuid, error}` (manzt/quak's
 * pattern). Python changes its traitlets before it answers, so once nothing is pending the
 * model holds the settled state, and a view takes it again (which also rolls back an edit
 * Python refused).
 */
import type { AnyModel } from "@anywidget/types";

import { noteEdit } from "./telemetry";
import { uuid4 } from "./uuid";

/** Any patch: an `op` and its fields (each widget defines its own union). */
export interface PatchMessage {
  op: string;
}

interface Reply {
  uuid?: unknown;
  ok?: unknown;
  error?: unknown;
}

export class PatchChannel<P extends PatchMessage> {
  private readonly pending = new Map<string, number>();
  private readonly model: Pick<AnyModel, "send" | "on" | "off">;
  private readonly onSettled: (error: string | null, elapsedMs: number) => void;
  private readonly listener = (msg: unknown): void => this.receive(msg);

  /**
   * `onSettled` runs after each answer with Python's error message (or null) and the round
   * trip in milliseconds, which the browser tests read to check the latency target.
   */
  constructor(
    model: Pick<AnyModel, "send" | "on" | "off">,
    onSettled: (error: string | null, elapsedMs: number) => void,
  ) {
    this.model = model;
    this.onSettled = onSettled;
    model.on("msg:custom", this.listener);
  }

  /** True while a patch waits for its answer: the model may still be behind the page. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  send(patch: P): void {
    const uuid = uuid4();
    this.pending.set(uuid, now());
    noteEdit(this.model);
    this.model.send({ ...patch, uuid });
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    this.pending.clear();
  }

  private receive(msg: unknown): void {
    if (typeof msg !== "object" || msg === null) return;
    const reply = msg as Reply;
    // Every view of the widget gets every answer; it is only ours if we asked.
    if (typeof reply.uuid !== "string") return;
    const sent = this.pending.get(reply.uuid);
    if (sent === undefined) return;
    this.pending.delete(reply.uuid);
    this.onSettled(typeof reply.error === "string" ? reply.error : null, now() - sent);
  }
}

function now(): number {
  return typeof performance === "undefined" ? Date.now() : performance.now();
}
