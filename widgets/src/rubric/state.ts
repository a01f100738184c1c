/**
 * The pure logic of the Rubric view (no DOM, unit-tested under node): which key gives which
 * score and what an edit does to the value, mirroring Rubric._apply_patch in Python (which
 * stays the judge).
 */
import type { RubricCriterion, RubricValue } from "./model";

export type RubricPatch =
  | { op: "score"; criterion: string; score: number | null }
  | { op: "comment"; text: string }
  | { op: "set"; value: RubricValue };

/** The score a digit gives on a 1..`scale` row ("0" is 10), or undefined off the scale. */
export function scoreForKey(key: string, scale: number): number | undefined {
  if (!/^[0-9]$/.test(key)) return undefined;
  const score = key === "0" ? 10 : Number(key);
  return score <= scale ? score : undefined;
}

/** The key that gives `score` ("0" for 10). */
export function keyForScore(score: number): string {
  return score === 10 ? "0" : String(score);
}

/** The value after `patch`; scores keep the criteria's order, and nothing at all is null. */
export function applyPatch(value: RubricValue, patch: RubricPatch, criteria: readonly RubricCriterion[]): RubricValue {
  if (patch.op === "set") return patch.value;
  const current = value ?? { scores: {}, comment: "" };
  const scores = { ...current.scores };
  let comment = current.comment;
  if (patch.op === "comment") comment = patch.text;
  else if (patch.score === null) delete scores[patch.criterion];
  else scores[patch.criterion] = patch.score;
  const ordered: Record<string, number> = {};
  for (const { name } of criteria) {
    const score = scores[name];
    if (score !== undefined) ordered[name] = score;
  }
  if (Object.keys(ordered).length === 0 && comment === "") return null;
  return { scores: ordered, comment };
}

/** The edit pressing `score` on a row makes: the same score again clears it. */
export function pickScore(value: RubricValue, criterion: string, score: number): RubricPatch {
  const again = value?.scores[criterion] === score;
  return { op: "score", criterion, score: again ? null : score };
}

export function sameValue(a: RubricValue, b: RubricValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How far along the rubric is, for the status line and screen readers. */
export function describeValue(value: RubricValue, criteria: readonly RubricCriterion[]): string {
  const scores = value?.scores ?? {};
  const done = criteria.filter((c) => scores[c.name] !== undefined);
  const parts = done.map((c) => `${c.name} ${scores[c.name]}/${c.scale}`);
  const head = `${done.length} of ${criteria.length} scored`;
  return parts.length === 0 ? head : `${head}: ${parts.join(", ")}`;
}
