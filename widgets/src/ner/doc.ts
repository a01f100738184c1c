/**
 * The NER widget's editable state and the patches that change it. Pure (no DOM), so it is
 * unit-tested under node.
 *
 * Offsets here are Python code points, as in the model: the view converts to UTF-16 when it
 * draws and back when it reads a selection. Lists are kept sorted by (start, end, label), the
 * order Python keeps, and never mutated: a new edit makes new arrays, so a Doc can be kept as
 * an undo snapshot as it is.
 */

/** A span of the `value` or `suggestions` trait; Python leaves `score` out when it is None. */
export interface Span {
  start: number;
  end: number;
  label: string;
  score?: number;
}

export interface Doc {
  value: readonly Span[];
  suggestions: readonly Span[];
}

/** Spans to take out and put in: how undo and redo travel, as small as the edit they undo. */
export interface Diff {
  remove: Span[];
  add: Span[];
}

export type NerPatch =
  | { op: "add"; span: Span }
  | { op: "remove"; span: Span }
  | { op: "relabel"; span: Span; label: string }
  | { op: "accept"; span: Span; label?: string }
  | { op: "reject"; span: Span }
  | { op: "accept_all" }
  | { op: "reject_all" }
  | { op: "replace"; value: Diff; suggestions: Diff };

/** What identifies a span: Python refuses two spans with the same start, end and label. */
export function keyOf(span: Span): string {
  return `${span.start}:${span.end}:${span.label}`;
}

/** Python's order of spans: (start, end, label). */
export function compareSpans(a: Span, b: Span): number {
  return a.start - b.start || a.end - b.end || compareLabels(a.label, b.label);
}

// Python compares str by code point; JavaScript's < compares UTF-16 units, which differs only
// between astral characters and U+E000-U+FFFF. Compare by code point to keep Python's order.
function compareLabels(a: string, b: string): number {
  if (a === b) return 0;
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Index of the first span not before `span` in a sorted list (binary search). */
export function lowerBound(spans: readonly Span[], span: Span): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSpans(spans[mid] as Span, span) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function indexOf(spans: readonly Span[], span: Span): number {
  const at = lowerBound(spans, span);
  const found = spans[at];
  return found !== undefined && compareSpans(found, span) === 0 ? at : -1;
}

/**
 * A span of `value` that `span` overlaps, if any. `value` must be free of overlaps (as it is
 * when overlaps are refused), so only the neighbours of its place need a look.
 */
export function overlapping(value: readonly Span[], span: Span): Span | undefined {
  const at = lowerBound(value, span);
  for (const neighbour of [value[at - 1], value[at]]) {
    if (neighbour !== undefined && span.start < neighbour.end && neighbour.start < span.end) {
      return neighbour;
    }
  }
  return undefined;
}

function inserted(spans: readonly Span[], span: Span): Span[] {
  const at = lowerBound(spans, span);
  return [...spans.slice(0, at), span, ...spans.slice(at)];
}

function removed(spans: readonly Span[], at: number): Span[] {
  return [...spans.slice(0, at), ...spans.slice(at + 1)];
}

function withoutScore(span: Span): Span {
  return { start: span.start, end: span.end, label: span.label };
}

/**
 * The Doc after `patch`, as Python will make it, or null when Python will refuse it (an
 * overlap, a span that is not there). The editor shows the result at once and lets Python's
 * answer confirm it; a refused patch is still sent, so the message comes from Python's rules.
 */
export function applyPatch(doc: Doc, patch: NerPatch, allowOverlap: boolean): Doc | null {
  const canAdd = (value: readonly Span[], span: Span): boolean =>
    indexOf(value, span) < 0 && (allowOverlap || overlapping(value, span) === undefined);
  switch (patch.op) {
    case "add": {
      const span = patch.span;
      return canAdd(doc.value, span) ? { ...doc, value: inserted(doc.value, span) } : null;
    }
    case "remove": {
      const at = indexOf(doc.value, patch.span);
      return at < 0 ? null : { ...doc, value: removed(doc.value, at) };
    }
    case "relabel": {
      const at = indexOf(doc.value, patch.span);
      if (at < 0) return null;
      const rest = removed(doc.value, at);
      const span = { start: patch.span.start, end: patch.span.end, label: patch.label };
      return canAdd(rest, span) ? { ...doc, value: inserted(rest, span) } : null;
    }
    case "accept": {
      const at = indexOf(doc.suggestions, patch.span);
      if (at < 0) return null;
      const suggestions = removed(doc.suggestions, at);
      const span = { ...withoutScore(patch.span), label: patch.label ?? patch.span.label };
      if (indexOf(doc.value, span) >= 0) return { value: doc.value, suggestions };
      return canAdd(doc.value, span) ? { value: inserted(doc.value, span), suggestions } : null;
    }
    case "reject": {
      const at = indexOf(doc.suggestions, patch.span);
      return at < 0 ? null : { ...doc, suggestions: removed(doc.suggestions, at) };
    }
    case "accept_all":
      return acceptAll(doc, allowOverlap);
    case "reject_all":
      return { ...doc, suggestions: [] };
    case "replace":
      return {
        value: applyDiff(doc.value, patch.value),
        suggestions: applyDiff(doc.suggestions, patch.suggestions),
      };
  }
}

/** Python's accept_all: surest first; what would overlap stays a suggestion. */
function acceptAll(doc: Doc, allowOverlap: boolean): Doc {
  let value = doc.value;
  const left: Span[] = [];
  const bySurest = [...doc.suggestions].sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
  for (const suggestion of bySurest) {
    const span = withoutScore(suggestion);
    if (indexOf(value, span) >= 0) continue;
    if (!allowOverlap && overlapping(value, span) !== undefined) left.push(suggestion);
    else value = inserted(value, span);
  }
  return { value, suggestions: left.sort(compareSpans) };
}

function applyDiff(spans: readonly Span[], diff: Diff): Span[] {
  const gone = new Set(diff.remove.map(keyOf));
  return [...spans.filter((span) => !gone.has(keyOf(span))), ...diff.add].sort(compareSpans);
}

/** What turns list `from` into list `to` (compared by key and score). */
export function diffSpans(from: readonly Span[], to: readonly Span[]): Diff {
  const ident = (span: Span): string => `${keyOf(span)}:${span.score ?? ""}`;
  const before = new Set(from.map(ident));
  const after = new Set(to.map(ident));
  return {
    remove: from.filter((span) => !after.has(ident(span))),
    add: to.filter((span) => !before.has(ident(span))),
  };
}

/** The patch that moves Python from `from` to `to`: how undo and redo are sent. */
export function replacePatch(from: Doc, to: Doc): NerPatch {
  return {
    op: "replace",
    value: diffSpans(from.value, to.value),
    suggestions: diffSpans(from.suggestions, to.suggestions),
  };
}

export function sameDoc(a: Doc, b: Doc): boolean {
  const same = (x: readonly Span[], y: readonly Span[]): boolean =>
    x === y ||
    (x.length === y.length &&
      x.every((span, i) => compareSpans(span, y[i] as Span) === 0 && span.score === (y[i] as Span).score));
  return same(a.value, b.value) && same(a.suggestions, b.suggestions);
}

/** A span or suggestion the annotator has focused (by Tab or click). */
export interface Focus {
  kind: "span" | "suggestion";
  span: Span;
}

/** The focus after a change: the same span if it is still there, else none. */
export function keepFocus(doc: Doc, focus: Focus | null): Focus | null {
  if (focus === null) return null;
  const list = focus.kind === "span" ? doc.value : doc.suggestions;
  const at = indexOf(list, focus.span);
  return at < 0 ? null : { kind: focus.kind, span: list[at] as Span };
}

/**
 * The next (or previous) span or suggestion in reading order (start, end, label; a span
 * before a suggestion at the same place) after `from`, or from the caret when nothing is
 * focused; null past the end, so Tab then leaves the text. Binary searches: no list is copied.
 */
export function nextFocus(
  doc: Doc,
  from: Focus | null,
  caret: number,
  forward: boolean,
): Focus | null {
  // A probe between neighbours in the order: at the focus, or a zero-width span at the caret.
  const probe: Span = from?.span ?? { start: caret, end: caret, label: "" };
  const rank = from === null ? (forward ? -1 : 2) : from.kind === "span" ? 0 : 1;
  const candidates: Focus[] = [];
  for (const [kind, list, own] of [
    ["span", doc.value, 0],
    ["suggestion", doc.suggestions, 1],
  ] as const) {
    let at = lowerBound(list, probe);
    const same = list[at] !== undefined && compareSpans(list[at] as Span, probe) === 0;
    if (forward) {
      // Skip the probe itself, and an equal span that comes before it in rank.
      if (same && own <= rank) at += 1;
    } else {
      at -= 1;
      if (same && own < rank) at += 1;
    }
    const span = list[at];
    if (span !== undefined) candidates.push({ kind, span });
  }
  const order = (a: Focus, b: Focus): number =>
    compareSpans(a.span, b.span) || (a.kind === b.kind ? 0 : a.kind === "span" ? -1 : 1);
  candidates.sort(forward ? order : (a, b) => order(b, a));
  return candidates[0] ?? null;
}
