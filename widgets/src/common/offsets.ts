/**
 * Offsets between Python and JavaScript strings.
 *
 * annolab stores span offsets in Python code points (what `len(text)` and slicing count).
 * JavaScript strings, the DOM and Selection count UTF-16 code units, where every character
 * outside the Basic Multilingual Plane (emoji, rare CJK, math letters) takes two units.
 * Converting at the widget boundary keeps every stored offset in Python's unit.
 *
 * Combining marks and other BMP characters are one unit in both, so only surrogate pairs
 * move offsets. A lone surrogate (possible in a Python str) is one unit in both, too.
 */

/** Converts many offsets of one text in O(1) each after an O(n) scan. */
export class OffsetIndex {
  /** Length of the text in Python code points (`len(text)`). */
  readonly codePointLength: number;
  /** Length of the text in UTF-16 code units (`text.length`). */
  readonly utf16Length: number;
  // Both tables are null for texts without surrogate pairs (most texts), where offsets agree.
  private readonly utf16ByCodePoint: Uint32Array | null;
  private readonly codePointByUtf16: Uint32Array | null;

  constructor(text: string) {
    this.utf16Length = text.length;
    if (!hasSurrogatePair(text)) {
      this.codePointLength = text.length;
      this.utf16ByCodePoint = null;
      this.codePointByUtf16 = null;
      return;
    }
    const toUtf16 = new Uint32Array(text.length + 1);
    const toCodePoint = new Uint32Array(text.length + 1);
    let codePoint = 0;
    let unit = 0;
    while (unit < text.length) {
      toUtf16[codePoint] = unit;
      toCodePoint[unit] = codePoint;
      if (isPairAt(text, unit)) {
        // The low half belongs to the same character: it maps back to its start.
        toCodePoint[unit + 1] = codePoint;
        unit += 2;
      } else {
        unit += 1;
      }
      codePoint += 1;
    }
    toUtf16[codePoint] = unit;
    toCodePoint[unit] = codePoint;
    this.codePointLength = codePoint;
    this.utf16ByCodePoint = toUtf16.subarray(0, codePoint + 1);
    this.codePointByUtf16 = toCodePoint;
  }

  /** UTF-16 offset of a Python code-point offset in `[0, codePointLength]`. */
  toUtf16(codePoint: number): number {
    checkOffset(codePoint, this.codePointLength, "code point");
    return this.utf16ByCodePoint === null ? codePoint : at(this.utf16ByCodePoint, codePoint);
  }

  /**
   * Python code-point offset of a UTF-16 offset in `[0, utf16Length]`.
   *
   * An offset between the two halves of a surrogate pair (which a browser selection does not
   * produce) maps to the start of that character, so a span never holds half an emoji.
   */
  toCodePoint(utf16: number): number {
    checkOffset(utf16, this.utf16Length, "UTF-16");
    return this.codePointByUtf16 === null ? utf16 : at(this.codePointByUtf16, utf16);
  }
}

/** One-off conversion; build an {@link OffsetIndex} to convert many offsets of one text. */
export function codePointToUtf16(text: string, codePoint: number): number {
  return new OffsetIndex(text).toUtf16(codePoint);
}

/** One-off conversion; build an {@link OffsetIndex} to convert many offsets of one text. */
export function utf16ToCodePoint(text: string, utf16: number): number {
  return new OffsetIndex(text).toCodePoint(utf16);
}

function isPairAt(text: string, unit: number): boolean {
  const high = text.charCodeAt(unit);
  if (high < 0xd800 || high > 0xdbff) return false;
  const low = text.charCodeAt(unit + 1); // NaN past the end, which fails the test below
  return low >= 0xdc00 && low <= 0xdfff;
}

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;

function hasSurrogatePair(text: string): boolean {
  return SURROGATE_PAIR.test(text);
}

function checkOffset(offset: number, length: number, unit: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > length) {
    throw new RangeError(`${unit} offset ${offset} is outside the text [0, ${length}]`);
  }
}

// Indexing a typed array is `number | undefined` under noUncheckedIndexedAccess; the offset
// was checked against the length before we get here.
function at(table: Uint32Array, index: number): number {
  return table[index] as number;
}
