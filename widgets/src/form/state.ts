/**
 * The Form's pure logic: what a key does to one question's answer, and where Alt+arrows move.
 * No DOM here, so node tests cover it.
 */
import { pickHotkey } from "../common/hotkeys";

export interface Option {
  name: string;
  color: string;
  hotkey: string;
}

export interface Question {
  name: string;
  kind: "choice" | "choices" | "rating" | "text";
  required: boolean;
  description: string;
  options?: Option[];
  min?: number;
  max?: number | null;
  scale?: number;
  rows?: number;
  max_chars?: number | null;
}

export type Answer = string | string[] | number | null;

/** More options than this show as a select: a row of 30 buttons is not keyboard-first. */
export const SELECT_ABOVE = 7;

export function usesSelect(question: Question): boolean {
  return question.kind === "choice" && (question.options?.length ?? 0) > SELECT_ABOVE;
}

/**
 * An option's key: its own hotkey, else a key as Classify gives it (the free digits, then a
 * letter of its name), so options past the ninth have one too.
 */
export function optionKeys(options: readonly Option[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const option of options) {
    if (option.hotkey !== "") keys.set(option.hotkey.toLowerCase(), option.name);
  }
  // Keys are matched in lower case here, so a capital is as good as taken.
  const taken = new Set([...keys.keys(), ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"]);
  for (const option of options) {
    if (option.hotkey !== "") continue;
    const key = pickHotkey(option.name, taken);
    if (key === null) break;
    taken.add(key);
    keys.set(key, option.name);
  }
  return keys;
}

/**
 * The new answer of `question` after a plain key, or undefined when the key is not the
 * question's. A choice toggles off when its option is chosen again; a rating takes 1..scale.
 */
export function answerForKey(question: Question, current: Answer, key: string): Answer | undefined {
  const k = key.toLowerCase();
  if (question.kind === "rating") {
    const n = Number(k);
    const scale = question.scale ?? 5;
    if (!/^[1-9]$/.test(k) || n > scale) return undefined;
    return current === n ? null : n;
  }
  if (question.kind === "choice" || question.kind === "choices") {
    const name = optionKeys(question.options ?? []).get(k);
    if (name === undefined) return undefined;
    return toggle(question, current, name);
  }
  return undefined;
}

/** Choosing `name`: a choice takes it (or clears it when it was chosen); choices toggle it. */
export function toggle(question: Question, current: Answer, name: string): Answer {
  if (question.kind === "choices") {
    const chosen = Array.isArray(current) ? current : [];
    if (chosen.includes(name)) return chosen.filter((n) => n !== name);
    if (question.max != null && chosen.length >= question.max) return chosen;
    return [...chosen, name];
  }
  return current === name ? null : name;
}

/** The index focus moves to from `index` among `count` questions; it stops at the ends. */
export function step(index: number, count: number, forward: boolean): number {
  if (count === 0) return -1;
  if (index < 0) return forward ? 0 : count - 1;
  return Math.max(0, Math.min(count - 1, index + (forward ? 1 : -1)));
}

/** A text answer cut to max_chars, as the textarea's maxlength does for typing. */
export function clip(text: string, maxChars: number | null | undefined): string {
  if (maxChars == null) return text;
  return [...text].slice(0, maxChars).join("");
}

/** What the question's status line says: its answer, or that it is still required. */
export function describe(question: Question, answer: Answer): string {
  const empty = answer === null || answer === "" || (Array.isArray(answer) && answer.length === 0);
  if (empty) return question.required ? "required, not answered" : "not answered";
  if (Array.isArray(answer)) return answer.join(", ");
  if (question.kind === "rating") return `${answer} of ${question.scale ?? 5}`;
  if (question.kind === "text") return `${String(answer).length} characters`;
  return String(answer);
}
