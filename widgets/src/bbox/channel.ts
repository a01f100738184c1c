/**
 * Patches to Python as custom messages, each with a uuid (manzt/quak's pattern).
 *
 * Python answers `{uuid, ok: true}` or `{uuid, error}`, and the error also lands in the `error`
 * trait, which the banner shows. The page does not wait for the answer, though: JupyterLab's
 * widget manager applies state updates asynchronously but hands custom messages over at once,
 * so an answer can arrive before the state it answers for. Python instead syncs the patch's
 * uuid as `last_patch` in the same state message as its changes (or alone, when it refused
 * the patch), so once every uuid sent has come back that way the model holds Python's state.
 */
import type { AnyModel } from "@anywidget/types";

import { noteEdit } from "../common/telemetry";
import type { Patch } from "./doc";

/** A message the front end sends that is not a patch of the boxes. */
export type Notice = { op: "size"; width: number; height: number };

export class PatchChannel {
  private readonly awaiting = new Set<string>();
  private readonly model: AnyModel;

  constructor(model: AnyModel) {
    this.model = model;
  }

  /** True while a patch's changes have not reached the model: it may be behind the page. */
  get busy(): boolean {
    return this.awaiting.size > 0;
  }

  send(message: Patch | Notice): void {
    const uuid = uuid4();
    this.awaiting.add(uuid);
    if (message.op !== "size") noteEdit(this.model);
    this.model.send({ ...message, uuid });
  }

  /**
   * Notes that the model now holds the outcome of patch `mark` (the synced `last_patch`);
   * true when that patch was this view's. Another view's patches are not awaited here.
   */
  arrived(mark: string): boolean {
    return this.awaiting.delete(mark);
  }
}

/**
 * A random (version 4) UUID. crypto.randomUUID exists only in secure contexts, and a
 * JupyterHub served over plain http on a LAN is not one; getRandomValues works everywhere.
 */
export function uuid4(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const parts = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20)];
  return [...parts, hex.slice(20)].join("-");
}
