/**
 * The small anywidget model interface (`get`, `set`, `on`, `off`, `save_changes`, `send`) over
 * state that lives in the Jupyter server instead of a kernel. The widget front ends in
 * `annolab/static/` run unchanged on it: what they save and send goes to the server's desk,
 * which applies it to the Python widget, and the traits Python changed come back as
 * `change:<trait>` events, its replies as `msg:custom`.
 */

type Handler = (...args: unknown[]) => void;

/** Where a model's saved traits and custom messages go (the tab's desk client). */
export interface Wire {
  change(part: number, state: Record<string, unknown>): void;
  message(part: number, content: unknown): void;
}

/** `{"$bytes": base64}` from the server is a DataView here, as ipywidgets gives binary traits. */
export function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === "$bytes" && typeof record.$bytes === "string") {
      const raw = atob(record.$bytes);
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return new DataView(bytes.buffer);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = decode(record[key]);
    return out;
  }
  return value;
}

/** A DataView or typed array going to the server: `{"$bytes": base64}`. */
export function encode(value: unknown): unknown {
  if (value instanceof DataView || ArrayBuffer.isView(value)) {
    const view = value as ArrayBufferView;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let raw = "";
    for (const b of bytes) raw += String.fromCharCode(b);
    return { $bytes: btoa(raw) };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = encode(v);
    return out;
  }
  return value;
}

export class DeskModel {
  private readonly state: Record<string, unknown> = {};
  private dirty: Record<string, unknown> = {};
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(
    private readonly wire: Wire,
    readonly part: number,
    state: Record<string, unknown>,
  ) {
    for (const [key, value] of Object.entries(state)) this.state[key] = decode(value);
  }

  get(name: string): unknown {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    this.state[name] = value;
    this.dirty[name] = value;
    this.emit(`change:${name}`, value);
  }

  save_changes(): void {
    const changes = this.dirty;
    this.dirty = {};
    if (Object.keys(changes).length > 0) this.wire.change(this.part, encode(changes) as Record<string, unknown>);
  }

  send(content: unknown): void {
    this.wire.message(this.part, encode(content));
  }

  on(name: string, handler: Handler): void {
    let set = this.handlers.get(name);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler);
  }

  off(name?: string | null, handler?: Handler | null): void {
    if (name === undefined || name === null) {
      this.handlers.clear();
      return;
    }
    if (handler === undefined || handler === null) this.handlers.delete(name);
    else this.handlers.get(name)?.delete(handler);
  }

  /** Traits Python changed: stored, then announced, as a comm update would. */
  update(state: Record<string, unknown>): void {
    const changed = Object.keys(state);
    for (const key of changed) this.state[key] = decode(state[key]);
    for (const key of changed) this.emit(`change:${key}`, this.state[key]);
    if (changed.length > 0) this.emit("change");
  }

  /** A custom message from Python (a patch's answer). */
  receive(content: unknown): void {
    this.emit("msg:custom", content, []);
  }

  private emit(name: string, ...args: unknown[]): void {
    for (const handler of [...(this.handlers.get(name) ?? [])]) handler(...args);
  }
}
