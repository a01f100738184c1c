/**
 * A character diff of two texts: Myers' O(ND) algorithm on code points, after the common
 * prefix and suffix are cut. When the texts differ too much for that to stay fast (its cost
 * grows with the number of differences D times the length), it diffs words instead and then
 * refines each changed stretch by characters. Pure (no DOM), unit-tested under node.
 */

export type DiffOp = "=" | "+" | "-";

/** A run of text: kept (`=`), inserted (`+`) or deleted (`-`). */
export interface DiffPart {
  op: DiffOp;
  text: string;
}

/** The work Myers may do on one pair (about (n + m) x D steps) before a coarser diff is used. */
const BUDGET = 2_000_000;

/**
 * The edits that turn `a` into `b`, as runs; joining the `=` and `+` runs gives `b`, the `=`
 * and `-` runs give `a`. Offsets are code points, so an emoji is never split.
 */
export function diffChars(a: string, b: string): DiffPart[] {
  const out = new Runs();
  diffInto(Array.from(a), Array.from(b), out, true);
  return absorbShortEqualities(out.parts);
}

/**
 * A shortest character diff of "Spain" -> "France" keeps the "a" and the "n", which reads as
 * noise; a person sees one word replaced. Kept runs of one or two characters (not spaces)
 * between two changes join the change on both sides, so each side still joins to its text.
 */
export function absorbShortEqualities(parts: readonly DiffPart[]): DiffPart[] {
  const out = new Runs();
  let removed = "";
  let added = "";
  const flush = (): void => {
    out.push("-", removed);
    out.push("+", added);
    removed = "";
    added = "";
  };
  parts.forEach((part, i) => {
    if (part.op === "-") removed += part.text;
    else if (part.op === "+") added += part.text;
    else {
      const between = i > 0 && i < parts.length - 1;
      if (between && Array.from(part.text).length <= 2 && !/\s/u.test(part.text)) {
        removed += part.text;
        added += part.text;
      } else {
        flush();
        out.push("=", part.text);
      }
    }
  });
  flush();
  return out.parts;
}

/** Counts of inserted and deleted characters (code points). */
export function diffStats(parts: readonly DiffPart[]): { inserted: number; deleted: number } {
  let inserted = 0;
  let deleted = 0;
  for (const part of parts) {
    const n = Array.from(part.text).length;
    if (part.op === "+") inserted += n;
    else if (part.op === "-") deleted += n;
  }
  return { inserted, deleted };
}

/** The text on one side of a diff: `old` joins `=` and `-`, `new` joins `=` and `+`. */
export function sideOf(parts: readonly DiffPart[], side: "old" | "new"): string {
  const skip: DiffOp = side === "old" ? "+" : "-";
  return parts
    .filter((p) => p.op !== skip)
    .map((p) => p.text)
    .join("");
}

class Runs {
  readonly parts: DiffPart[] = [];

  push(op: DiffOp, text: string): void {
    if (text === "") return;
    const last = this.parts[this.parts.length - 1];
    if (last !== undefined && last.op === op) last.text += text;
    else this.parts.push({ op, text });
  }
}

function diffInto(a: string[], b: string[], out: Runs, byWords: boolean): void {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  out.push("=", a.slice(0, start).join(""));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const ops = myers(midA, midB, limitFor(midA.length + midB.length));
  if (ops !== null) {
    emit(ops, midA, midB, out);
  } else if (byWords) {
    diffWords(midA.join(""), midB.join(""), out);
  } else {
    out.push("-", midA.join(""));
    out.push("+", midB.join(""));
  }
  out.push("=", a.slice(endA).join(""));
}

function limitFor(length: number): number {
  return Math.max(64, Math.floor(BUDGET / Math.max(1, length)));
}

/** Words, runs of spaces and single other characters, so words are matched whole. */
function tokens(text: string): string[] {
  return text.match(/\p{L}[\p{L}\p{M}\p{N}]*|\p{N}+|\s+|[^]/gu) ?? [];
}

function diffWords(a: string, b: string, out: Runs): void {
  const ta = tokens(a);
  const tb = tokens(b);
  const ops = myers(ta, tb, limitFor(ta.length + tb.length));
  if (ops === null) {
    out.push("-", a);
    out.push("+", b);
    return;
  }
  // Each stretch of deleted and inserted words is refined by characters.
  let removed: string[] = [];
  let added: string[] = [];
  const flush = (): void => {
    if (removed.length > 0 || added.length > 0) {
      diffInto(Array.from(removed.join("")), Array.from(added.join("")), out, false);
    }
    removed = [];
    added = [];
  };
  let x = 0;
  let y = 0;
  for (const op of ops) {
    if (op === "=") {
      flush();
      out.push("=", ta[x] as string);
      x++;
      y++;
    } else if (op === "-") removed.push(ta[x++] as string);
    else added.push(tb[y++] as string);
  }
  flush();
}

function emit(ops: readonly DiffOp[], a: readonly string[], b: readonly string[], out: Runs): void {
  let x = 0;
  let y = 0;
  for (const op of ops) {
    if (op === "=") {
      out.push("=", a[x] as string);
      x++;
      y++;
    } else if (op === "-") out.push("-", a[x++] as string);
    else out.push("+", b[y++] as string);
  }
}

/**
 * Myers' greedy shortest edit script of `a` -> `b` as one op per item, or null when it needs
 * more than `maxD` edits. Keeps each round's furthest-reaching diagonals to walk back.
 */
export function myers<T>(a: readonly T[], b: readonly T[], maxD: number): DiffOp[] | null {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  if (max === 0) return [];
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  const limit = Math.min(max, maxD);
  for (let d = 0; d <= limit; d++) {
    // v before round d, over diagonals -d-1..d+1 (what round d reads).
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))) {
        x = v[offset + k + 1] as number; // down: an insertion
      } else {
        x = (v[offset + k - 1] as number) + 1; // right: a deletion
      }
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, n, m);
    }
  }
  return null;
}

function backtrack(trace: readonly Int32Array[], last: number, n: number, m: number): DiffOp[] {
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = last; d > 0; d--) {
    const v = trace[d] as Int32Array;
    const at = (k: number): number => v[k + d + 1] as number;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push("=");
      x--;
      y--;
    }
    if (down) {
      ops.push("+");
      y--;
    } else {
      ops.push("-");
      x--;
    }
  }
  while (x > 0 && y > 0) {
    ops.push("=");
    x--;
    y--;
  }
  return ops.reverse();
}
