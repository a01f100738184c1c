/**
 * The pure logic of the Pairwise view (no DOM, unit-tested under node): which verdicts are
 * offered, which key picks which, and what an edit does to the value. It mirrors
 * Pairwise._apply_patch in Python, which stays the judge: the view shows an edit at once and
 * takes Python's value back once the patch is answered.
 */
import type { PairwiseValue, Verdict } from "./model";

export type PairwisePatch =
  | { op: "choose"; choice: Verdict | null }
  | { op: "judge"; criterion: string; verdict: Verdict | null }
  | { op: "rationale"; text: string }
  | { op: "set"; value: PairwiseValue };

/** The verdicts a widget offers, in the order shown: A, B, then tie and both bad if allowed. */
export function offeredVerdicts(tie: boolean, bothBad: boolean): Verdict[] {
  const out: Verdict[] = ["a", "b"];
  if (tie) out.push("tie");
  if (bothBad) out.push("both_bad");
  return out;
}

/** The key shown for each verdict (the first of its keys). */
export const VERDICT_KEYS: Record<Verdict, string> = { a: "1", b: "2", tie: "t", both_bad: "x" };

/** What a verdict is called on its button. */
export const VERDICT_NAMES: Record<Verdict, string> = {
  a: "A is better",
  b: "B is better",
  tie: "Tie",
  both_bad: "Both bad",
};

const BY_KEY: Record<string, Verdict> = { "1": "a", a: "a", "2": "b", b: "b", t: "tie", x: "both_bad" };

/** The verdict a key press picks among the offered ones (either case), or undefined. */
export function verdictForKey(key: string, offered: readonly Verdict[]): Verdict | undefined {
  const found = BY_KEY[key.toLowerCase()];
  return found !== undefined && offered.includes(found) ? found : undefined;
}

/**
 * The value after `patch`. `names` are the criteria in the order shown: criteria keep that
 * order, and an answer with no choice, no rationale and no criterion is null, as in Python.
 */
export function applyPatch(value: PairwiseValue, patch: PairwisePatch, names: readonly string[]): PairwiseValue {
  if (patch.op === "set") return patch.value;
  const current = value ?? { choice: null, rationale: "", criteria: {} };
  let next = { ...current, criteria: { ...current.criteria } };
  if (patch.op === "choose") next.choice = patch.choice;
  else if (patch.op === "rationale") next.rationale = patch.text;
  else if (patch.verdict === null) delete next.criteria[patch.criterion];
  else next.criteria[patch.criterion] = patch.verdict;
  const ordered: Record<string, Verdict> = {};
  for (const name of names) {
    const verdict = next.criteria[name];
    if (verdict !== undefined) ordered[name] = verdict;
  }
  next = { ...next, criteria: ordered };
  if (next.choice === null && next.rationale === "" && Object.keys(ordered).length === 0) return null;
  return next;
}

/** The verdict of a row: the overall choice (`criterion` null) or a criterion's. */
export function verdictOf(value: PairwiseValue, criterion: string | null): Verdict | null {
  if (value === null) return null;
  return criterion === null ? value.choice : value.criteria[criterion] ?? null;
}

/** The edit a key or click makes on a row: picking the row's current verdict again clears it. */
export function pickVerdict(value: PairwiseValue, criterion: string | null, verdict: Verdict): PairwisePatch {
  const again = verdictOf(value, criterion) === verdict;
  if (criterion === null) return { op: "choose", choice: again ? null : verdict };
  return { op: "judge", criterion, verdict: again ? null : verdict };
}

export function sameValue(a: PairwiseValue, b: PairwiseValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The value in words, for the status line and screen readers. */
export function describeValue(value: PairwiseValue): string {
  if (value === null || value.choice === null) return "No verdict yet";
  const parts = [VERDICT_NAMES[value.choice]];
  for (const [name, verdict] of Object.entries(value.criteria)) parts.push(`${name}: ${VERDICT_NAMES[verdict]}`);
  return parts.join("; ");
}

/** How each output is marked for a verdict: the chosen one, both in a tie, both when bad. */
export function outputMark(choice: Verdict | null, side: "a" | "b"): "chosen" | "tie" | "bad" | null {
  if (choice === null) return null;
  if (choice === "tie") return "tie";
  if (choice === "both_bad") return "bad";
  return choice === side ? "chosen" : null;
}
