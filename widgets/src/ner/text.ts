/**
 * Moving a caret through a text and snapping a selection to words, in UTF-16 offsets (the
 * DOM's unit). Pure (no DOM), so it is unit-tested under node.
 *
 * Graphemes and words come from Intl.Segmenter where the engine has it, so an emoji family or
 * a flag is one step and CJK words are found by the engine's dictionary; without it, code
 * points and runs of letters are the fallback. Only a window around the offset is segmented:
 * segmenting a 600,000-character document at each key press would be slow.
 */

const WINDOW = 256;

interface Segment {
  start: number;
  end: number;
  wordLike: boolean;
}

type Granularity = "grapheme" | "word";

// Intl.Segmenter is ES2022 and tsconfig targets ES2020 (the bundle's floor), so declare the
// little of it used here; at run time it is looked up and may be missing.
interface SegmentData {
  segment: string;
  index: number;
  isWordLike?: boolean;
}
type SegmenterClass = new (
  locale: undefined,
  options: { granularity: Granularity },
) => { segment(input: string): Iterable<SegmentData> };

/** Segments covering `[from, to)` of `text`, with a margin of WINDOW units around it. */
function segmentsAround(text: string, from: number, to: number, granularity: Granularity): Segment[] {
  const start = safeCut(text, Math.max(0, from - WINDOW));
  const end = safeCut(text, Math.min(text.length, to + WINDOW));
  return segmentWindow(text, start, end, granularity);
}

function segmentWindow(text: string, start: number, end: number, granularity: Granularity): Segment[] {
  const slice = text.slice(start, end);
  const Segmenter = (Intl as { Segmenter?: SegmenterClass }).Segmenter;
  if (Segmenter !== undefined) {
    const out: Segment[] = [];
    for (const s of new Segmenter(undefined, { granularity }).segment(slice)) {
      out.push({
        start: start + s.index,
        end: start + s.index + s.segment.length,
        wordLike: granularity === "grapheme" || s.isWordLike === true,
      });
    }
    return out;
  }
  return fallbackSegments(slice, start, granularity);
}

function fallbackSegments(slice: string, base: number, granularity: Granularity): Segment[] {
  const out: Segment[] = [];
  const pattern = granularity === "word" ? /[\p{L}\p{N}\p{M}_]+|\s+|[^\p{L}\p{N}\p{M}_\s]/gu : /./gsu;
  for (const m of slice.matchAll(pattern)) {
    const start = base + (m.index ?? 0);
    out.push({
      start,
      end: start + m[0].length,
      wordLike: granularity === "grapheme" || /^[\p{L}\p{N}\p{M}_]/u.test(m[0]),
    });
  }
  return out;
}

/** A window edge moved off the low half of a surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at);
  return code >= 0xdc00 && code <= 0xdfff && at > 0 ? at - 1 : at;
}

/** The offset one grapheme (user-perceived character) before or after `at`. */
export function stepGrapheme(text: string, at: number, forward: boolean): number {
  if (forward ? at >= text.length : at <= 0) return at;
  const segments = segmentsAround(text, at, at, "grapheme");
  if (forward) {
    const next = segments.find((s) => s.end > at);
    return next?.end ?? text.length;
  }
  const before = segments.filter((s) => s.start < at);
  return before[before.length - 1]?.start ?? 0;
}

/**
 * Ctrl+Arrow: forward to the end of the next word, backward to the start of the previous
 * one, as text editors do.
 */
export function stepWord(text: string, at: number, forward: boolean): number {
  // A word longer than the window: segment a wider window until the word edge is inside it.
  for (let radius = WINDOW; ; radius *= 4) {
    const from = safeCut(text, Math.max(0, at - radius));
    const to = safeCut(text, Math.min(text.length, at + radius));
    const segments = segmentWindow(text, from, to, "word");
    if (forward) {
      const word = segments.find((s) => s.wordLike && s.end > at);
      if (word !== undefined && (word.end < to || to === text.length)) return word.end;
      if (word === undefined && to === text.length) return text.length;
    } else {
      const words = segments.filter((s) => s.wordLike && s.start < at);
      const word = words[words.length - 1];
      if (word !== undefined && (word.start > from || from === 0)) return word.start;
      if (word === undefined && from === 0) return 0;
    }
  }
}

/** Start of the line holding `at` (after the previous line break). */
export function lineStart(text: string, at: number): number {
  return at <= 0 ? 0 : text.lastIndexOf("\n", at - 1) + 1;
}

/** End of the line holding `at` (before its line break). */
export function lineEnd(text: string, at: number): number {
  const newline = text.indexOf("\n", at);
  return newline < 0 ? text.length : newline;
}

/**
 * A selection grown to whole words and trimmed of surrounding space, or null when only
 * space was selected. Punctuation at an edge stays as selected.
 */
export function snapToWords(text: string, start: number, end: number): { start: number; end: number } | null {
  let from = start;
  let to = end;
  while (from < to && /\s/u.test(text[from] as string)) from += 1;
  while (to > from && /\s/u.test(text[to - 1] as string)) to -= 1;
  if (from === to) return null;
  const segments = segmentsAround(text, from, to, "word");
  const first = segments.find((s) => s.start <= from && from < s.end);
  if (first?.wordLike === true) from = first.start;
  const last = segments.find((s) => s.start < to && to <= s.end);
  if (last?.wordLike === true) to = last.end;
  return { start: from, end: to };
}

/** A selection trimmed of surrounding space only (when snapping is off), or null. */
export function trimSpace(text: string, start: number, end: number): { start: number; end: number } | null {
  let from = start;
  let to = end;
  while (from < to && /\s/u.test(text[from] as string)) from += 1;
  while (to > from && /\s/u.test(text[to - 1] as string)) to -= 1;
  return from === to ? null : { start: from, end: to };
}
