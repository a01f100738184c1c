/**
 * The Ranking editor of one view: the prompt, then one card per output (the ranked ones first,
 * a "not ranked yet" line, the others), and the action bar. Python's `value` is the truth; an
 * edit shows at once, goes to Python as a patch, and the view takes the model's value again
 * once no patch is pending (rolling back an edit Python refused).
 *
 * Cards move by drag and drop (pointer events, so mouse, pen and touch alike) and by keyboard.
 */
import type { AnyModel } from "@anywidget/types";

import { type ActionBar, actionBar, errorBanner } from "../common/chrome";
import { h } from "../common/dom";
import { History } from "../common/history";
import { bumpNonce, guardShortcuts, isPlainKey, isRedo, isSaveDraft, isSkip, isSubmit, isUndo } from "../common/keys";
import { PatchChannel } from "../common/patches";
import { decodeUtf8, textPane } from "../pairwise/judging";
import type { RankingModel, RankingValue } from "./model";
import {
  type RankingPatch,
  applyPatch,
  describeValue,
  displayOrder,
  dropPatch,
  isLong,
  moveBy,
  rankForKey,
  ranksOnDrop,
  readTexts,
  sameValue,
  takeShownOrder,
} from "./state";

interface Card {
  id: string;
  element: HTMLElement;
  badge: HTMLElement;
  toggle: HTMLButtonElement | null;
}

interface Drag {
  id: string;
  pointer: number;
  startY: number;
  moved: boolean;
}

/** How far the pointer moves before a press becomes a drag (a click on a card only focuses it). */
const DRAG_THRESHOLD_PX = 4;

export class Editor {
  readonly root: HTMLElement;
  private readonly model: AnyModel<RankingModel>;
  private readonly promptBox: HTMLElement;
  private readonly list: HTMLElement;
  private readonly line: HTMLElement;
  private readonly marker: HTMLElement;
  private readonly status: HTMLElement;
  private readonly live: HTMLElement;
  private readonly bar: ActionBar;
  private readonly channel: PatchChannel<RankingPatch>;
  private readonly history: History<RankingValue>;
  private readonly recorded: boolean[] = [];
  private readonly cleanups: Array<() => void> = [];
  private readonly expanded = new Set<string>();
  private cards = new Map<string, Card>();
  private value: RankingValue;
  private focusedId: string | null = null;
  private drag: Drag | null = null;

  constructor(model: AnyModel<RankingModel>, el: HTMLElement) {
    const started = performance.now();
    this.model = model;
    this.value = [...model.get("value")];
    this.history = new History<RankingValue>(model.get("history_limit"));
    this.channel = new PatchChannel<RankingPatch>(model, (error) => this.onSettled(error));
    this.promptBox = h("div", { className: "annolab-ranking-prompt-box" });
    this.list = h("div", { className: "annolab-ranking-list", attrs: { role: "list", "aria-label": "Outputs, best first" } });
    this.line = h("div", { className: "annolab-ranking-line", text: "Not ranked yet", attrs: { role: "separator" } });
    this.marker = h("div", { className: "annolab-ranking-marker", attrs: { "aria-hidden": "true" } });
    this.status = h("div", { className: "annolab-ranking-status" });
    this.live = h("div", { className: "annolab-visually-hidden", attrs: { "aria-live": "polite", role: "status" } });
    const help = h("div", {
      className: "annolab-ranking-help",
      text: "Drag a card above the line to rank it, or: ↑/↓ focus · Alt+↑/↓ move · 1–9 rank · Del unrank · Enter take this order · e expand",
    });
    this.root = h(
      "div",
      { className: "annolab annolab-ranking", attrs: { role: "group", "aria-label": "Ranking" } },
      [this.promptBox, help, this.list, this.status, this.live],
    );
    el.append(this.root);
    this.cleanups.push(guardShortcuts(this.root), errorBanner(this.root, model));
    this.bar = actionBar(
      this.root,
      {
        onUndo: () => this.undo(),
        onRedo: () => this.redo(),
        onSubmit: () => bumpNonce(model, "submit_count"),
        onSkip: () => bumpNonce(model, "skip_count"),
        onDraft: () => bumpNonce(model, "draft_count"),
      },
      model,
    );
    this.listen(this.root, "keydown", (e) => this.onKeyDown(e as KeyboardEvent));
    this.listen(this.list, "pointerdown", (e) => this.onPointerDown(e as PointerEvent));
    this.listen(this.list, "pointermove", (e) => this.onPointerMove(e as PointerEvent));
    this.listen(this.list, "pointerup", (e) => this.onPointerUp(e as PointerEvent));
    this.listen(this.list, "pointercancel", () => this.endDrag());
    this.listen(this.list, "click", (e) => this.onClick(e));
    this.listen(this.list, "focusin", (e) => this.onFocusIn(e));
    for (const trait of ["_prompt_utf8", "_outputs_utf8", "ids", "read_only"]) this.on(`change:${trait}`, () => this.drawCards());
    this.on("change:value", () => this.onModelValue());
    this.on("change:history_limit", () => {
      this.history.limit = this.model.get("history_limit");
      this.updateBar();
    });
    this.drawCards();
    this.root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.bar.dispose();
    this.channel.dispose();
    this.root.remove();
  }

  private listen(target: EventTarget, type: string, handler: (event: Event) => void): void {
    target.addEventListener(type, handler);
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  private on(event: string, handler: () => void): void {
    this.model.on(event, handler);
    this.cleanups.push(() => this.model.off(event, handler));
  }

  private get ids(): string[] {
    return this.model.get("ids");
  }

  private get readOnly(): boolean {
    return this.model.get("read_only");
  }

  // --- model -> page ------------------------------------------------------------------------

  private drawCards(): void {
    const prompt = decodeUtf8(this.model.get("_prompt_utf8"));
    this.promptBox.replaceChildren(...(prompt === "" ? [] : [textPane("annolab-ranking-prompt", "Prompt", prompt)]));
    const ids = this.ids;
    const texts = readTexts(decodeUtf8(this.model.get("_outputs_utf8")), ids.length);
    this.root.classList.toggle("annolab-readonly", this.readOnly);
    this.cards = new Map(
      ids.map((id, i) => {
        const text = texts[i] ?? "";
        const badge = h("span", { className: "annolab-ranking-badge" });
        const head = h("div", { className: "annolab-ranking-head" }, [
          badge,
          h("span", { className: "annolab-ranking-id", text: `Output ${id}` }),
        ]);
        const body = h("div", { className: "annolab-ranking-text", text: text === "" ? "(empty)" : text });
        if (text === "") body.classList.add("annolab-judge-empty");
        let toggle: HTMLButtonElement | null = null;
        if (isLong(text)) {
          toggle = h("button", {
            className: "annolab-ranking-toggle",
            attrs: { type: "button", tabindex: "-1", "data-id": id },
          });
          head.append(toggle);
        }
        const element = h(
          "div",
          { className: "annolab-ranking-card", attrs: { role: "listitem", tabindex: "-1", "data-id": id } },
          [head, body],
        );
        if (toggle !== null) element.dataset.long = "true";
        return [id, { id, element, badge, toggle }] as const;
      }),
    );
    // Other outputs: undoing would bring back a ranking of the last ones.
    this.history.clear();
    if (this.focusedId !== null && !this.cards.has(this.focusedId)) this.focusedId = null;
    this.drawValue();
  }

  private drawValue(): void {
    const hadFocus = this.root.contains(this.root.ownerDocument.activeElement) && this.focusedId !== null;
    const order = displayOrder(this.ids, this.value);
    const shown: Node[] = [];
    order.forEach((id, i) => {
      const card = this.cards.get(id);
      if (card === undefined) return;
      if (i === this.value.length) shown.push(this.line);
      const ranked = i < this.value.length;
      card.badge.textContent = ranked ? String(i + 1) : "–";
      card.element.dataset.rank = ranked ? String(i + 1) : "";
      card.element.classList.toggle("annolab-ranking-ranked", ranked);
      card.element.setAttribute("aria-label", `${ranked ? `Rank ${i + 1}` : "Not ranked"}: output ${id}`);
      const open = this.expanded.has(id);
      card.element.classList.toggle("annolab-ranking-open", open);
      if (card.toggle !== null) {
        card.toggle.textContent = open ? "Show less" : "Show more";
        card.toggle.setAttribute("aria-expanded", String(open));
      }
      shown.push(card.element);
    });
    if (this.value.length >= order.length) shown.push(this.line);
    this.line.hidden = this.value.length >= order.length;
    this.list.replaceChildren(...shown);
    // One card in the Tab order: the focused one, else the first.
    const current = this.focusedId ?? order[0] ?? null;
    for (const card of this.cards.values()) card.element.setAttribute("tabindex", card.id === current ? "0" : "-1");
    if (hadFocus && this.focusedId !== null) this.cards.get(this.focusedId)?.element.focus();
    this.status.textContent = describeValue(this.ids, this.value);
    this.updateBar();
  }

  private onModelValue(): void {
    if (this.channel.busy) return; // the answer (onSettled) takes the model's value
    const fresh = [...this.model.get("value")];
    if (sameValue(fresh, this.value)) return;
    this.history.clear(); // changed from Python
    this.value = fresh;
    this.drawValue();
  }

  private onSettled(error: string | null): void {
    const recorded = this.recorded.shift();
    if (error !== null && recorded === true) this.history.discardLast();
    if (this.channel.busy) return;
    const fresh = [...this.model.get("value")];
    if (!sameValue(fresh, this.value)) {
      this.value = fresh;
      this.drawValue();
    }
    this.updateBar();
  }

  private updateBar(): void {
    this.bar.update(this.history.canUndo, this.history.canRedo);
  }

  // --- edits --------------------------------------------------------------------------------

  private edit(patch: RankingPatch | null, record = true): void {
    if (patch === null || this.readOnly) return;
    const next = applyPatch(this.value, patch);
    this.recorded.push(record);
    this.channel.send(patch);
    if (record) this.history.record(this.value);
    this.value = next;
    this.drawValue();
    this.live.textContent = describeValue(this.ids, next);
  }

  private undo(): void {
    const previous = this.history.undo(this.value);
    if (previous !== undefined) this.edit({ op: "set", value: previous }, false);
  }

  private redo(): void {
    const next = this.history.redo(this.value);
    if (next !== undefined) this.edit({ op: "set", value: next }, false);
  }

  private toggleExpanded(id: string): void {
    if (this.cards.get(id)?.toggle == null) return;
    if (this.expanded.has(id)) this.expanded.delete(id);
    else this.expanded.add(id);
    this.drawValue();
  }

  // --- focus --------------------------------------------------------------------------------

  private cardOf(target: EventTarget | null): Card | undefined {
    const found = target instanceof Element ? target.closest(".annolab-ranking-card") : null;
    const id = found?.getAttribute("data-id");
    return id == null ? undefined : this.cards.get(id);
  }

  private onFocusIn(e: Event): void {
    const card = this.cardOf(e.target);
    if (card !== undefined) this.focusedId = card.id;
  }

  private focusCard(id: string | undefined): void {
    if (id === undefined) return;
    this.focusedId = id;
    for (const card of this.cards.values()) card.element.setAttribute("tabindex", card.id === id ? "0" : "-1");
    this.cards.get(id)?.element.focus();
  }

  // --- mouse --------------------------------------------------------------------------------

  private onClick(e: Event): void {
    const button = e.target instanceof Element ? e.target.closest(".annolab-ranking-toggle") : null;
    const id = button?.getAttribute("data-id");
    if (id != null) this.toggleExpanded(id);
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0 || this.readOnly) return;
    if (e.target instanceof Element && e.target.closest("button") !== null) return;
    const card = this.cardOf(e.target);
    if (card === undefined) return;
    this.focusCard(card.id);
    this.drag = { id: card.id, pointer: e.pointerId, startY: e.clientY, moved: false };
    card.element.setPointerCapture?.(e.pointerId);
  }

  private onPointerMove(e: PointerEvent): void {
    const drag = this.drag;
    if (drag === null || e.pointerId !== drag.pointer) return;
    const dy = e.clientY - drag.startY;
    if (!drag.moved && Math.abs(dy) < DRAG_THRESHOLD_PX) return;
    const card = this.cards.get(drag.id);
    if (card === undefined) return;
    if (!drag.moved) {
      drag.moved = true;
      card.element.classList.add("annolab-ranking-dragging");
      this.root.classList.add("annolab-ranking-is-dragging");
    }
    e.preventDefault(); // no text selection while dragging
    card.element.style.transform = `translateY(${dy}px)`;
    const { slot, aboveLine } = this.dropSpot(drag.id, e.clientY);
    this.showMarker(drag.id, slot, aboveLine);
  }

  private onPointerUp(e: PointerEvent): void {
    const drag = this.drag;
    if (drag === null || e.pointerId !== drag.pointer) return;
    const { slot, aboveLine } = this.dropSpot(drag.id, e.clientY);
    const moved = drag.moved;
    this.endDrag();
    if (moved) this.edit(dropPatch(this.value, drag.id, slot, aboveLine));
  }

  private endDrag(): void {
    const drag = this.drag;
    this.drag = null;
    this.marker.remove();
    this.root.classList.remove("annolab-ranking-is-dragging");
    if (drag === null) return;
    const card = this.cards.get(drag.id);
    if (card === undefined) return;
    card.element.classList.remove("annolab-ranking-dragging");
    card.element.style.transform = "";
    if (card.element.hasPointerCapture?.(drag.pointer)) card.element.releasePointerCapture(drag.pointer);
  }

  /** Where a drop at `y` lands: how many other cards are above it, and whether it ranks the card. */
  private dropSpot(id: string, y: number): { slot: number; aboveLine: boolean } {
    let slot = 0;
    for (const other of displayOrder(this.ids, this.value)) {
      if (other === id) continue;
      const box = this.cards.get(other)?.element.getBoundingClientRect();
      if (box !== undefined && y > box.top + box.height / 2) slot += 1;
    }
    const rankedOthers = this.value.filter((other) => other !== id).length;
    const movedUp = this.drag !== null && y < this.drag.startY;
    return { slot, aboveLine: ranksOnDrop(slot, rankedOthers, this.value.includes(id), movedUp) };
  }

  /** A bar where the card would go: before the `slot`-th other card, or just above the line. */
  private showMarker(id: string, slot: number, aboveLine: boolean): void {
    const others = displayOrder(this.ids, this.value).filter((other) => other !== id);
    const ranked = this.value.filter((other) => other !== id).length;
    const at = aboveLine ? Math.min(slot, ranked) : -1;
    const before = at < 0 ? null : at < ranked ? this.cards.get(others[at] ?? "")?.element ?? null : this.line;
    if (before === null || (this.line.hidden && at >= ranked)) this.list.append(this.marker);
    else this.list.insertBefore(this.marker, before);
    this.marker.classList.toggle("annolab-ranking-marker-unrank", !aboveLine);
  }

  // --- keyboard -----------------------------------------------------------------------------

  private onKeyDown(e: KeyboardEvent): void {
    if (e.isComposing) return;
    const handled = (run: () => void): void => {
      e.preventDefault();
      e.stopPropagation();
      run();
    };
    if (isUndo(e)) return handled(() => this.undo());
    if (isRedo(e)) return handled(() => this.redo());
    if (isSubmit(e)) return handled(() => bumpNonce(this.model, "submit_count"));
    if (isSaveDraft(e)) return handled(() => bumpNonce(this.model, "draft_count"));
    if (isSkip(e)) {
      if (this.drag !== null) return handled(() => this.endDrag()); // Escape first cancels a drag
      return handled(() => bumpNonce(this.model, "skip_count"));
    }
    const onButton = e.target instanceof HTMLElement && e.target.closest("button") !== null;
    if (onButton && (e.key === "Enter" || e.key === " ")) return;
    const order = displayOrder(this.ids, this.value);
    const id = this.cardOf(e.target)?.id ?? this.focusedId ?? undefined;
    const at = id === undefined ? -1 : order.indexOf(id);
    const vertical = e.key === "ArrowUp" || e.key === "ArrowDown";
    const delta = e.key === "ArrowUp" ? -1 : 1;
    if (vertical && (e.altKey || e.shiftKey) && !e.ctrlKey && !e.metaKey) {
      if (id === undefined) return;
      return handled(() => {
        this.edit(moveBy(this.value, id, delta));
        this.focusCard(id);
      });
    }
    if (vertical && !e.altKey && !e.ctrlKey && !e.metaKey) {
      return handled(() => this.focusCard(order[Math.min(order.length - 1, Math.max(0, at + delta))]));
    }
    if (e.key === "Home" || e.key === "End") return handled(() => this.focusCard(e.key === "Home" ? order[0] : order.at(-1)));
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
      return handled(() => this.edit(takeShownOrder(this.ids, this.value)));
    }
    if (!isPlainKey(e) || id === undefined) return;
    const rank = rankForKey(e.key);
    if (rank !== undefined) {
      return handled(() => {
        this.edit({ op: "place", id, index: rank });
        this.focusCard(id);
      });
    }
    if ((e.key === "Delete" || e.key === "Backspace") && this.value.includes(id)) {
      return handled(() => this.edit({ op: "unrank", id }));
    }
    if (e.key.toLowerCase() === "e") return handled(() => this.toggleExpanded(id));
  }
}
