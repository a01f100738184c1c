/**
 * Virtualization of a long text: it is cut into blocks of about BLOCK_UNITS UTF-16 units, and
 * only the blocks near the viewport get their spans drawn. Pure arithmetic (no DOM), so it is
 * unit-tested under node.
 *
 * The whole text stays in the page as plain text (one text node per block): laying out plain
 * text is fast, and it keeps the browser's own selection, find-in-page and scrolling exact.
 * What costs is thousands of span elements, and those exist only for visible blocks. Each
 * block is a CSS block, so an edit re-lays one block, not the whole document.
 */

/** A block of the text, `[start, end)` in UTF-16 units. */
export interface Block {
  start: number;
  end: number;
}

export interface Range {
  start: number;
  end: number;
}

/** About a screenful of prose: small enough to draw in a millisecond or two. */
export const BLOCK_UNITS = 2000;

/**
 * Cuts `text` into blocks of about `size` units. A cut goes after a line break or else after
 * a space near the target, so a block boundary never splits a word, a grapheme or a surrogate
 * pair (unless a run of `size` units has no space at all, when only pairs are protected).
 */
export function splitBlocks(text: string, size = BLOCK_UNITS): Block[] {
  const blocks: Block[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    if (end < text.length) end = cutPoint(text, start, end);
    blocks.push({ start, end });
    start = end;
  }
  return blocks;
}

function cutPoint(text: string, start: number, target: number): number {
  // Look back over the last quarter of the block for a line break, then for a space.
  const floor = start + Math.floor((target - start) * 0.75);
  const newline = text.lastIndexOf("\n", target - 1);
  if (newline >= floor) return newline + 1;
  for (let i = target - 1; i >= floor; i--) {
    if (/\s/.test(text[i] as string)) return i + 1;
  }
  // No space: at least keep a surrogate pair whole.
  const code = text.charCodeAt(target - 1);
  return code >= 0xd800 && code <= 0xdbff ? target + 1 : target;
}

/** The index of the block holding `offset`; the end of the text belongs to the last block. */
export function blockAt(blocks: readonly Block[], offset: number): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((blocks[mid] as Block).start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * For each block, the indices of the ranges that touch it (a range over a block boundary is
 * listed in each block it covers). O(ranges * log blocks + pieces).
 */
export function rangesByBlock(blocks: readonly Block[], ranges: readonly Range[]): number[][] {
  const out: number[][] = blocks.map(() => []);
  if (blocks.length === 0) return out;
  ranges.forEach((range, index) => {
    const first = blockAt(blocks, range.start);
    const last = blockAt(blocks, Math.max(range.start, range.end - 1));
    for (let b = first; b <= last; b++) (out[b] as number[]).push(index);
  });
  return out;
}

/** Ranges clipped to a block and made relative to its start, for splitAtBoundaries. */
export function clipToBlock(block: Block, ranges: readonly Range[]): Range[] {
  return ranges.map((range) => ({
    start: Math.max(range.start, block.start) - block.start,
    end: Math.min(range.end, block.end) - block.start,
  }));
}
