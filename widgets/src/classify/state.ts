/**
 * The Classify widget's value and the patches that change it. Pure (no DOM), so it is
 * unit-tested under node. Mirrors annolab/widgets/classify.py's _apply_patch.
 */
import type { Suggestion, Value } from "./model";

export type ClassifyPatch =
  | { op: "choose"; label: string | null }
  | { op: "toggle"; label: string }
  | { op: "accept"; label: string }
  | { op: "set"; value: Value };

/** The patch a label key or click makes: choose it (single) or toggle it (multi). */
export function pick(multi: boolean, label: string): ClassifyPatch {
  return multi ? { op: "toggle", label } : { op: "choose", label };
}

/** The value after `patch`, as Python will make it. */
export function applyPatch(value: Value, patch: ClassifyPatch, multi: boolean): Value {
  const chosen = Array.isArray(value) ? value : [];
  switch (patch.op) {
    case "choose":
      return multi ? value : patch.label;
    case "toggle":
      if (!multi) return value;
      if (chosen.includes(patch.label)) return chosen.filter((n) => n !== patch.label);
      return [...chosen, patch.label];
    case "accept":
      if (!multi) return patch.label;
      return chosen.includes(patch.label) ? chosen : [...chosen, patch.label];
    case "set":
      return patch.value;
  }
}

export function isChosen(value: Value, label: string): boolean {
  return Array.isArray(value) ? value.includes(label) : value === label;
}

export function sameValue(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((n, i) => n === b[i]);
  return a === b;
}

/** The suggestion to accept with Enter: the surest one not chosen yet, if any. */
export function bestSuggestion(suggestions: readonly Suggestion[], value: Value): Suggestion | undefined {
  return [...suggestions]
    .filter((s) => !isChosen(value, s.label))
    .sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0];
}

/** How the chosen value reads to a screen reader. */
export function describeValue(value: Value): string {
  if (Array.isArray(value)) return value.length === 0 ? "No labels chosen" : `Chosen: ${value.join(", ")}`;
  return value === null ? "No label chosen" : `Chosen: ${value}`;
}
