/**
 * The boxes of one view and how they stay in step with Python.
 *
 * Python's traitlets are the truth. An edit changes `doc` here at once and goes to Python as
 * a patch (channel.ts). Once the model holds the outcome of every patch this view sent, the
 * store takes the model's state, which also takes back an edit Python refused (its error
 * shows in the banner). A change that did not come from this view's patches (`w.value = ...`
 * in Python, another view of the same widget) clears the undo history: an undo step would
 * restore boxes from before it.
 */
import type { AnyModel } from "@anywidget/types";

import { History } from "../common/history";
import { describeBox, describePatch } from "./a11y";
import { type Notice, PatchChannel } from "./channel";
import {
  type Doc,
  type Patch,
  type Selection,
  applyPatch,
  sameDoc,
  selectedBox,
  selectionAfter,
} from "./doc";
import type { BBoxModel } from "./model";

export interface StoreListener {
  /** The boxes, the selection or the undo state changed: redraw. */
  changed(): void;
  /** A sentence for the screen reader's live region. */
  say(message: string): void;
}

export class BoxStore {
  private current: Doc;
  private chosen: Selection = null;
  private readonly model: AnyModel<BBoxModel>;
  private readonly listener: StoreListener;
  private readonly history: History<Doc>;
  private readonly channel: PatchChannel;
  private readonly onModelDoc = (): void => this.schedule();
  private readonly onMark = (): void => {
    if (this.channel.arrived(this.model.get("last_patch"))) this.echoed = true;
    this.schedule();
  };
  /** Since the last sync, the model received the outcome of one of this view's patches. */
  private echoed = false;
  private scheduled = false;
  private readonly onLimit = (): void => {
    this.history.limit = this.model.get("history_limit");
    this.listener.changed();
  };

  constructor(model: AnyModel<BBoxModel>, listener: StoreListener) {
    this.model = model;
    this.listener = listener;
    this.current = readDoc(model);
    this.history = new History<Doc>(model.get("history_limit"));
    this.channel = new PatchChannel(model);
    model.on("change:value", this.onModelDoc);
    model.on("change:suggestions", this.onModelDoc);
    model.on("change:last_patch", this.onMark);
    model.on("change:history_limit", this.onLimit);
  }

  get doc(): Doc {
    return this.current;
  }

  get selection(): Selection {
    return this.chosen;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  dispose(): void {
    this.model.off("change:value", this.onModelDoc);
    this.model.off("change:suggestions", this.onModelDoc);
    this.model.off("change:last_patch", this.onMark);
    this.model.off("change:history_limit", this.onLimit);
    this.scheduled = false;
  }

  /** A read-only view takes no edit, undo or redo (Python would refuse them too). */
  get readOnly(): boolean {
    return this.model.get("read_only") === true;
  }

  /** Applies an edit here, records it for undo, and sends it to Python. */
  commit(patch: Patch): void {
    if (this.readOnly) return;
    const before = this.current;
    this.history.record(before);
    this.chosen = selectionAfter(before, patch, this.chosen);
    this.current = applyPatch(before, patch);
    this.channel.send(patch);
    this.listener.say(describePatch(patch, before, selectedBox(this.current, this.chosen)));
    this.listener.changed();
  }

  /** Tells Python something that is not an edit (a URL image's natural size). */
  notify(notice: Notice): void {
    this.channel.send(notice);
  }

  undo(): void {
    if (this.readOnly) return;
    this.restore(this.history.undo(this.current), "Undone.");
  }

  redo(): void {
    if (this.readOnly) return;
    this.restore(this.history.redo(this.current), "Redone.");
  }

  select(selection: Selection): void {
    const old = this.chosen;
    const same =
      selection === old ||
      (selection !== null &&
        old !== null &&
        selection.kind === old.kind &&
        selection.index === old.index);
    if (same) return;
    this.chosen = selection;
    const box = selectedBox(this.current, selection);
    if (selection !== null && box !== undefined) {
      const list = selection.kind === "box" ? this.current.boxes : this.current.suggestions;
      const flagged =
        selection.kind === "box" && (this.model.get("disputed") ?? []).includes(selection.index);
      const text = describeBox(box, selection.kind, selection.index, list.length, flagged);
      this.listener.say(`Selected. ${text}`);
    }
    this.listener.changed();
  }

  private restore(doc: Doc | undefined, message: string): void {
    if (doc === undefined) return;
    this.current = doc;
    this.chosen = null;
    this.channel.send({ op: "replace", boxes: [...doc.boxes], suggestions: [...doc.suggestions] });
    this.listener.say(message);
    this.listener.changed();
  }

  /**
   * One state message fires a change event per trait; look at the model once, after all of
   * them, when its value, suggestions and last_patch agree.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      if (!this.scheduled) return; // disposed meanwhile
      this.scheduled = false;
      this.sync();
    });
  }

  private sync(): void {
    if (this.channel.busy) return; // more outcomes of this view's patches are on their way
    const ours = this.echoed;
    this.echoed = false;
    const fresh = readDoc(this.model);
    if (sameDoc(fresh, this.current)) return;
    // Different after our own patches came back: Python refused one. Otherwise it changed
    // from elsewhere, and undo steps recorded before would undo that change too.
    if (!ours) this.history.clear();
    this.adopt(fresh);
  }

  private adopt(doc: Doc): void {
    this.current = doc;
    if (selectedBox(doc, this.chosen) === undefined) this.chosen = null;
    this.listener.changed();
  }
}

function readDoc(model: AnyModel<BBoxModel>): Doc {
  return { boxes: model.get("value"), suggestions: model.get("suggestions") };
}
