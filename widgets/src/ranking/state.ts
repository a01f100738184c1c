/**
 * The pure logic of the Ranking view (no DOM, unit-tested under node): what is shown in which
 * order, and what each move does to the ranking. It mirrors Ranking._apply_patch and `place` in
 * Python, which stays the judge: the view shows an edit at once and takes Python's value back
 * once the patch is answered.
 *
 * The ranking is a prefix: the ids placed so far, best first. The cards show the ranked ids in
 * order, then a "not ranked yet" line, then the other ids in the order given.
 */
import type { RankingValue } from "./model";

export type RankingPatch =
  | { op: "place"; id: string; index: number }
  | { op: "unrank"; id: string }
  | { op: "set"; value: RankingValue };

/** The cards in the order shown: the ranked ids, then the unranked ones as given. */
export function displayOrder(ids: readonly string[], value: RankingValue): string[] {
  return [...value, ...ids.filter((id) => !value.includes(id))];
}

/** `value` with `id` moved (or added) to `index`, clamped to the end of the ranking. */
export function place(value: RankingValue, id: string, index: number): RankingValue {
  const rest = value.filter((other) => other !== id);
  const at = Math.max(0, Math.min(index, rest.length));
  return [...rest.slice(0, at), id, ...rest.slice(at)];
}

export function unrank(value: RankingValue, id: string): RankingValue {
  return value.filter((other) => other !== id);
}

/** The value after `patch` (as Python applies it). */
export function applyPatch(value: RankingValue, patch: RankingPatch): RankingValue {
  if (patch.op === "set") return [...patch.value];
  if (patch.op === "unrank") return unrank(value, patch.id);
  return place(value, patch.id, patch.index);
}

/**
 * The edit that moves `id` one place up (`delta` -1) or down (+1), or null when it cannot
 * move: up from the first place, down while unranked. Up from "not ranked yet" ranks it last;
 * down from the last ranked place unranks it.
 */
export function moveBy(value: RankingValue, id: string, delta: -1 | 1): RankingPatch | null {
  const at = value.indexOf(id);
  if (at < 0) return delta < 0 ? { op: "place", id, index: value.length } : null;
  if (delta < 0) return at === 0 ? null : { op: "place", id, index: at - 1 };
  return at === value.length - 1 ? { op: "unrank", id } : { op: "place", id, index: at + 1 };
}

/**
 * The edit a drop makes: `slot` counts the other cards above the pointer; dropped above the
 * "not ranked yet" line, the card takes that place in the ranking (at most right after the
 * last ranked card), below it the card is unranked. Null when nothing changes.
 */
export function dropPatch(value: RankingValue, id: string, slot: number, aboveLine: boolean): RankingPatch | null {
  if (!aboveLine) return value.includes(id) ? { op: "unrank", id } : null;
  const patch: RankingPatch = { op: "place", id, index: Math.max(0, slot) };
  return sameValue(applyPatch(value, patch), value) ? null : patch;
}

/**
 * Whether a drop ranks the card: `slot` counts the other cards above the pointer and
 * `rankedOthers` the other ranked ones. Before the last of those, it does; right after them
 * (the top of the cards not ranked yet), a ranked card stays ranked and an unranked one is
 * ranked last if it was dragged up; further down, it is not ranked.
 */
export function ranksOnDrop(slot: number, rankedOthers: number, wasRanked: boolean, movedUp: boolean): boolean {
  if (slot < rankedOthers) return true;
  return slot === rankedOthers && (wasRanked || movedUp);
}

/** The rank (0 for the best) a number key gives: "1".."9", else undefined. */
export function rankForKey(key: string): number | undefined {
  return /^[1-9]$/.test(key) ? Number(key) - 1 : undefined;
}

/** The edit Enter makes: the order shown becomes the ranking (null when it already is). */
export function takeShownOrder(ids: readonly string[], value: RankingValue): RankingPatch | null {
  const shown = displayOrder(ids, value);
  return sameValue(shown, value) ? null : { op: "set", value: shown };
}

export function sameValue(a: RankingValue, b: RankingValue): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** The ranking in words, for the status line and screen readers. */
export function describeValue(ids: readonly string[], value: RankingValue): string {
  if (value.length === 0) return `Nothing ranked yet (${ids.length} outputs)`;
  const missing = ids.filter((id) => !value.includes(id));
  const ranked = value.map((id, i) => `${i + 1}. ${id}`).join(", ");
  return missing.length === 0 ? `Ranked: ${ranked}` : `Ranked: ${ranked}; not ranked yet: ${missing.join(", ")}`;
}

/** Texts longer than this many characters, or lines, start clamped with an expand toggle. */
export const CLAMP_CHARS = 280;
export const CLAMP_LINES = 6;

export function isLong(text: string): boolean {
  return text.length > CLAMP_CHARS || text.split("\n").length > CLAMP_LINES;
}

/** The texts of the `_outputs_utf8` JSON array, one per id ("" where missing). */
export function readTexts(json: string, count: number): string[] {
  let parsed: unknown = [];
  try {
    parsed = json === "" ? [] : JSON.parse(json);
  } catch {
    parsed = [];
  }
  const list = Array.isArray(parsed) ? parsed : [];
  return Array.from({ length: count }, (_, i) => (typeof list[i] === "string" ? (list[i] as string) : ""));
}
